//! Small helpers over tree-sitter nodes shared by the extractors.

use crate::source::Span;
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
    loop {
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

/// The name of the class a node is written in (Python or JS/TS).
pub fn enclosing_class_name<'s>(node: Node, src: &'s str) -> Option<&'s str> {
    let mut current = node.parent();
    while let Some(n) = current {
        if matches!(n.kind(), "class_definition" | "class_declaration" | "class") {
            return field(n, "name").map(|name| text(name, src));
        }
        current = n.parent();
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
    while let Some(parent) = current.parent() {
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
