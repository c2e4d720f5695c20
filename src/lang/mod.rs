//! Languages, parsers and the per-language fact extractors.
//!
//! One tree-sitter `Parser` per language per thread, reused across files
//! (creating a parser per file costs more than parsing a small file).

pub mod budget;
mod builder;
mod client_keys;
pub(crate) use client_keys::shorten as shorten_key;
pub mod javascript;
mod limit_flow;
pub mod python;
pub mod routes_js;
pub mod routes_py;
mod syntax;

use std::cell::RefCell;
use std::path::Path;
use tree_sitter::{Parser, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Python,
    JavaScript,
    TypeScript,
    Tsx,
}

impl Lang {
    pub fn from_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?;
        match ext {
            "py" => Some(Lang::Python),
            "js" | "mjs" | "cjs" | "jsx" => Some(Lang::JavaScript),
            "ts" | "mts" | "cts" => Some(Lang::TypeScript),
            "tsx" => Some(Lang::Tsx),
            _ => None,
        }
    }

    pub fn is_python(self) -> bool {
        self == Lang::Python
    }

    fn grammar(self) -> tree_sitter::Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }

    pub const ALL: [Lang; 4] = [Lang::Python, Lang::JavaScript, Lang::TypeScript, Lang::Tsx];
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; 4]> = const { RefCell::new([None, None, None, None]) };
}

/// A string literal's value without its quotes (see `syntax::unquote`).
pub fn syntax_unquote(s: &str) -> &str {
    syntax::unquote(s.trim())
}

/// Error and missing nodes in a tree, and where the first one starts (a
/// byte offset, for the warning); only walked when the root says there are
/// any.
pub fn count_syntax_errors(root: tree_sitter::Node) -> (usize, Option<usize>) {
    if !root.has_error() {
        return (0, None);
    }
    let mut errors = 0;
    let mut first = None;
    // Pre-order: the first error met starts at or before every later one.
    syntax::visit(root, &|_| false, &mut |n| {
        if n.is_error() || n.is_missing() {
            errors += 1;
            first.get_or_insert(n.start_byte());
        }
    });
    (errors, first)
}

/// More indentation levels than tree-sitter-python's scanner can keep
/// (`PYTHON_MAX_INDENT_LEVELS`).
pub const PYTHON_MAX_INDENT_LEVELS: usize = 360;

/// Could this Python text open more than `PYTHON_MAX_INDENT_LEVELS`
/// indentation levels? tree-sitter-python's scanner saves its indent stack
/// in tree-sitter's 1 KiB state buffer, and a deeper stack overflows it
/// and aborts the process (an `assert` in C, not a panic that can be
/// caught). Its stack holds strictly increasing widths, so it is never
/// deeper than the number of distinct leading-whitespace widths (measured
/// as the scanner does: a tab is 8, a form feed starts again at 0).
pub fn too_deeply_indented(text: &str) -> bool {
    let mut widths = std::collections::HashSet::new();
    for line in text.as_bytes().split(|&b| b == b'\n') {
        let mut width = 0usize;
        for &b in line {
            match b {
                b' ' => width += 1,
                b'\t' => width += 8,
                b'\x0c' => width = 0,
                _ => break,
            }
        }
        if width > 0 && widths.insert(width) && widths.len() > PYTHON_MAX_INDENT_LEVELS {
            return true;
        }
    }
    false
}

/// Parse `text` with this thread's parser for `lang`. `None` only if the
/// grammar cannot be loaded (an ABI mismatch; covered by a test), parsing
/// was cancelled, or Python text is indented too deeply for the grammar's
/// scanner (`too_deeply_indented`).
pub fn parse(lang: Lang, text: &str) -> Option<Tree> {
    if lang.is_python() && too_deeply_indented(text) {
        return None;
    }
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let slot = &mut parsers[lang as usize];
        if slot.is_none() {
            let mut parser = Parser::new();
            parser.set_language(&lang.grammar()).ok()?;
            *slot = Some(parser);
        }
        let parser = slot.as_mut()?;
        parser.reset();
        // Cancelled (None) when the file's time budget runs out.
        let bytes = text.as_bytes();
        let mut input = |i: usize, _| bytes.get(i..).unwrap_or_default();
        let mut progress = |_: &tree_sitter::ParseState| budget::out_of_time();
        let options = tree_sitter::ParseOptions::new().progress_callback(&mut progress);
        let tree = parser.parse_with_options(&mut input, None, Some(options));
        if tree.is_none() {
            // A cancelled parse leaves state behind.
            parser.reset();
        }
        tree
    })
}

/// RATE009's flow pass, run only on files that mention a limit at all.
fn add_flow_facts(
    facts: &mut crate::facts::FileFacts,
    root: tree_sitter::Node,
    src: &str,
    python: bool,
) {
    // Markers of the places a limit is applied (a limiter's name or option,
    // a usage plan, a 429 check); most library code has none of them.
    let mentions_limits = limit_flow::SINK_MARKERS.iter().any(|m| src.contains(m));
    if mentions_limits {
        let flows = limit_flow::analyse(root, src, python);
        facts.dynamic_limits = flows.dynamic;
        facts.zero_limits = flows.zero;
    }
}

/// RATE003's client-key pass, run only on files that mention a client
/// address, a forwarded header, a throttle or proxy trust.
fn add_client_keys(
    facts: &mut crate::facts::FileFacts,
    root: tree_sitter::Node,
    src: &str,
    python: bool,
) {
    // Files with limiter state may key it on a parameter their callers fill.
    // (Only state keyed by something: a module-level list in a 9 MB bundle
    // is no reason to walk it again.)
    let has_state = !facts.store_calls.is_empty()
        || facts.accesses.iter().any(|a| {
            matches!(
                a.key,
                crate::facts::KeyClass::Param(_) | crate::facts::KeyClass::Client(_)
            )
        });
    if has_state || client_keys::worth_analysing(src) {
        let keys = client_keys::analyse(root, src, python);
        facts.client_keys = keys.uses;
        facts.proxy_settings = keys.proxy;
        facts.drf_throttle_refs = keys.drf_refs;
        facts.drf_ident_classes = keys.drf_classes;
        facts.param_key_uses = keys.param_uses;
        facts.key_args = keys.key_args;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_loads_and_parses() {
        let samples = [
            (Lang::Python, "x = {}\n"),
            (Lang::JavaScript, "const x = new Map();\n"),
            (
                Lang::TypeScript,
                "const x: Map<string, number> = new Map();\n",
            ),
            (Lang::Tsx, "const A = () => <div a={1} />;\n"),
        ];
        for (lang, src) in samples {
            let tree = parse(lang, src).unwrap_or_else(|| panic!("{lang:?} did not parse"));
            assert!(
                !tree.root_node().has_error(),
                "{lang:?}: {}",
                tree.root_node().to_sexp()
            );
        }
    }

    #[test]
    fn language_by_extension() {
        assert_eq!(Lang::from_path(Path::new("a/b.py")), Some(Lang::Python));
        assert_eq!(Lang::from_path(Path::new("x.cjs")), Some(Lang::JavaScript));
        assert_eq!(Lang::from_path(Path::new("x.mts")), Some(Lang::TypeScript));
        assert_eq!(Lang::from_path(Path::new("x.tsx")), Some(Lang::Tsx));
        assert_eq!(Lang::from_path(Path::new("x.rs")), None);
    }

    #[test]
    fn indentation_depth_counts_distinct_widths() {
        let nested = |levels: usize| {
            (0..levels)
                .map(|l| format!("{}if x:\n", " ".repeat(l)))
                .collect::<String>()
        };
        assert!(!too_deeply_indented(&nested(PYTHON_MAX_INDENT_LEVELS)));
        assert!(too_deeply_indented(&nested(PYTHON_MAX_INDENT_LEVELS + 2)));
        // Tabs count 8 each: 50 tab levels are 50 widths, not 400.
        let tabs: String = (0..50).map(|l| format!("{}x\n", "\t".repeat(l))).collect();
        assert!(!too_deeply_indented(&tabs));
        // Many lines at the same few widths are shallow.
        assert!(!too_deeply_indented(&"    a\n        b\n".repeat(10_000)));
    }
}
