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

/// The last identifier of a dotted or member expression text:
/// `limiter.is_allowed` → `is_allowed`.
pub fn last_segment(s: &str) -> &str {
    s.rsplit(['.', ' ']).next().unwrap_or(s).trim()
}

/// The string value without quotes or prefixes, if `s` is a simple literal.
pub fn unquote(s: &str) -> &str {
    let s = s.trim_start_matches(|c: char| c.is_ascii_alphabetic() && c != '"' && c != '\'');
    s.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}
