//! Small helpers over tree-sitter nodes shared by the extractors.

use crate::source::Span;
use std::collections::HashMap;
use tree_sitter::Node;

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

pub fn span(node: Node) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

pub fn field<'t>(node: Node<'t>, name: &str) -> Option<Node<'t>> {
    node.child_by_field_name(name)
}

pub fn named_children(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.named_children(&mut cursor).collect();
    children.into_iter()
}

pub fn children(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.children(&mut cursor).collect();
    children.into_iter()
}

/// Visit `node` and its descendants depth-first, not descending below nodes
/// for which `stop` returns true (those are still visited themselves).
pub fn visit<'t>(node: Node<'t>, stop: &dyn Fn(Node<'t>) -> bool, f: &mut dyn FnMut(Node<'t>)) {
    let mut cursor = node.walk();
    let mut depth = 0usize;
    let mut visited = 0u32;
    loop {
        visited = visited.wrapping_add(1);
        if visited.is_multiple_of(1024) && super::budget::out_of_time() {
            return;
        }
        let current = cursor.node();
        f(current);
        let descend = depth == 0 || !stop(current);
        if descend && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if depth == 0 {
                return;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            cursor.goto_parent();
            depth -= 1;
        }
    }
}

/// Results of `fold` for large subtrees, kept across folds of one file.
/// An entry is valid only under the `stamp` it was computed with (the
/// state its contributions depend on, e.g. the scope's key variables).
pub struct FoldMemo<S, T> {
    entries: HashMap<usize, (S, T)>,
    /// Only subtrees longer than this many bytes are kept: smaller ones
    /// cost little to fold again, and keeping them would cost memory.
    min_len: usize,
}

impl<S, T> FoldMemo<S, T> {
    pub fn new(min_len: usize) -> Self {
        FoldMemo {
            entries: HashMap::new(),
            min_len,
        }
    }
}

/// Fold `root`'s subtree in pre-order: `own(node, parent, field)` gives a
/// node's own contribution, `merge(acc, later)` appends the contribution
/// of what follows it; nodes for which `stop` is true (other than the root)
/// contribute themselves but not their descendants, as in `visit`.
///
/// Folds of nested subtrees share work through `memo`: an analysis that
/// folds the argument of every call would otherwise revisit the inner
/// calls once per enclosing call, quadratic in the nesting depth (5,000
/// nested calls took seconds). Iterative, so deep trees cannot overflow
/// the stack.
pub fn fold<'t, S: Copy + Eq, T: Copy>(
    root: Node<'t>,
    stop: &dyn Fn(Node<'t>) -> bool,
    own: &mut dyn FnMut(Node<'t>, Option<Node<'t>>, Option<&'static str>) -> T,
    merge: &dyn Fn(&mut T, T),
    memo: &mut FoldMemo<S, T>,
    stamp: S,
) -> T {
    let min_len = memo.min_len;
    let cached = |memo: &FoldMemo<S, T>, n: Node<'t>| -> Option<T> {
        if n.byte_range().len() <= min_len {
            return None;
        }
        memo.entries
            .get(&n.id())
            .filter(|(s, _)| *s == stamp)
            .map(|(_, t)| *t)
    };
    if let Some(t) = cached(memo, root) {
        return t;
    }
    let mut cursor = root.walk();
    // One accumulator per node on the path from the root to the cursor.
    let mut path: Vec<(Node<'t>, T)> = vec![(root, own(root, None, None))];
    let mut descend = true;
    let mut visited = 0u32;
    loop {
        visited = visited.wrapping_add(1);
        if visited.is_multiple_of(1024) && super::budget::out_of_time() {
            // The file's facts are dropped: any answer will do.
            return path[0].1;
        }
        if !(descend && cursor.goto_first_child()) {
            // The current node is done: hand its result to its parent, then
            // move on to its next sibling or finish the parent too.
            loop {
                let (node, done) = path.pop().expect("the path holds the cursor's node");
                if node.byte_range().len() > min_len {
                    memo.entries.insert(node.id(), (stamp, done));
                }
                let Some((_, parent_acc)) = path.last_mut() else {
                    return done;
                };
                merge(parent_acc, done);
                if cursor.goto_next_sibling() {
                    break;
                }
                cursor.goto_parent();
            }
        }
        let node = cursor.node();
        if let Some(t) = cached(memo, node) {
            path.push((node, t));
            descend = false;
        } else {
            let parent = path.last().map(|(p, _)| *p);
            path.push((node, own(node, parent, cursor.field_name())));
            descend = !stop(node);
        }
    }
}

/// A call's (or `new` expression's) arguments, comments left out.
pub fn call_arguments(call: Node<'_>) -> Vec<Node<'_>> {
    field(call, "arguments")
        .map(|a| {
            named_children(a)
                .filter(|c| c.kind() != "comment")
                .collect()
        })
        .unwrap_or_default()
}

/// Function-like nodes of both grammars (Python and JS/TS).
pub fn is_function_kind(kind: &str) -> bool {
    matches!(
        kind,
        "function_definition"
            | "lambda"
            | "function_declaration"
            | "function_expression"
            | "function"
            | "arrow_function"
            | "method_definition"
            | "generator_function_declaration"
    )
}

/// The expression inside `await`, parentheses and TypeScript assertions.
pub fn unwrap_expression(mut node: Node) -> Node {
    while matches!(
        node.kind(),
        "parenthesized_expression"
            | "await"
            | "await_expression"
            | "as_expression"
            | "non_null_expression"
    ) {
        match named_children(node).next() {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// `node.parent()`, or `None` once the file's time budget is spent. Each
/// `parent()` costs time proportional to the node's depth (tree-sitter
/// searches down from the root), so loops that climb from deep nodes are
/// quadratic in the depth; this bounds them by the budget.
pub fn parent(node: Node<'_>) -> Option<Node<'_>> {
    if super::budget::out_of_time() {
        return None;
    }
    node.parent()
}

/// The name of the class a node is written in (Python or JS/TS).
pub fn enclosing_class_name<'s>(node: Node, src: &'s str) -> Option<&'s str> {
    let mut current = parent(node);
    while let Some(n) = current {
        if matches!(n.kind(), "class_definition" | "class_declaration" | "class") {
            return field(n, "name").map(|name| text(name, src));
        }
        current = parent(n);
    }
    None
}

/// The last identifier of a dotted or member expression text:
/// `limiter.is_allowed` → `is_allowed`.
pub fn last_segment(s: &str) -> &str {
    s.rsplit(['.', ' ']).next().unwrap_or(s).trim()
}

/// The string value without quotes or a Python prefix (`f"…"`, `rb'…'`);
/// anything that is not a quoted literal is returned unchanged.
pub fn unquote(s: &str) -> &str {
    let body = match s.find(['"', '\'', '`']) {
        Some(q) if q <= 2 && s[..q].chars().all(|c| c.is_ascii_alphabetic()) => &s[q..],
        _ => return s,
    };
    body.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

/// A comparison that cannot be a limiter's threshold check: the condition
/// of an `if` whose branch neither leaves (return/raise/throw), nor answers
/// an error status, nor records a verdict (`blocked.add(ip)`, an
/// assignment): it only logs, say. Or the condition of a `while` loop
/// (trimming old timestamps). Shared by both grammars' node kinds.
pub fn comparison_guards_nothing(comparison: Node, src: &str) -> bool {
    let mut current = comparison;
    while let Some(parent) = parent(current) {
        let passes_through = match parent.kind() {
            "boolean_operator" | "not_operator" | "parenthesized_expression" => true,
            "binary_expression" => {
                field(parent, "operator").is_some_and(|o| matches!(text(o, src), "&&" | "||"))
            }
            "unary_expression" => field(parent, "operator").is_some_and(|o| text(o, src) == "!"),
            _ => false,
        };
        if !passes_through {
            let is_condition = field(parent, "condition") == Some(current);
            return match parent.kind() {
                "if_statement" | "elif_clause" if is_condition => {
                    field(parent, "consequence").is_some_and(|c| !acts(c, src))
                }
                "while_statement" => is_condition,
                _ => false,
            };
        }
        current = parent;
    }
    false
}

fn acts(block: Node, src: &str) -> bool {
    let stop = |n: Node| {
        matches!(
            n.kind(),
            "function_definition"
                | "lambda"
                | "class_definition"
                | "arrow_function"
                | "function_expression"
                | "function_declaration"
                | "method_definition"
                | "class"
        )
    };
    let mut found = false;
    visit(block, &stop, &mut |n| {
        if found {
            return;
        }
        found = match n.kind() {
            "return_statement" | "raise_statement" | "throw_statement" => true,
            "assignment"
            | "augmented_assignment"
            | "assignment_expression"
            | "augmented_assignment_expression" => true,
            "integer" | "number" => matches!(text(n, src).parse::<u32>(), Ok(400..=499)),
            "call" | "call_expression" => field(n, "function").is_some_and(|f| {
                matches!(
                    last_segment(text(f, src)),
                    "abort"
                        | "status"
                        | "sendStatus"
                        | "code"
                        | "throw"
                        | "reject"
                        | "deny"
                        | "block"
                        | "add"
                        | "set"
                        | "append"
                        | "push"
                        | "setex"
                        | "incr"
                )
            }),
            _ => false,
        };
    });
    found
}

#[cfg(test)]
mod tests {
    use super::unquote;

    #[test]
    fn unquote_strips_quotes_and_prefixes_only() {
        assert_eq!(unquote("'./store'"), "./store");
        assert_eq!(unquote("f\"{ip}\""), "{ip}");
        assert_eq!(unquote("rb'x'"), "x");
        assert_eq!(unquote("windowMs"), "windowMs");
        assert_eq!(unquote("`/path`"), "/path");
    }
}
