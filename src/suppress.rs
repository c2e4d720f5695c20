//! Suppression hygiene around the inline `ratecheck: ignore[...]` comments
//! (parsed into `facts::Suppressions` by the extractors): which comment
//! silenced a finding, comments that silence nothing
//! (`--report-unused-ignores`), unknown rule codes, a Python finding on a
//! decorator silenced on its `def` line, and `--add-ignores`, which writes
//! a comment for every current finding (ruff's `--add-noqa`).

use crate::engine::LocatedFinding;
use crate::facts::Suppressions;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// One code of one comment: its line (`None` for `ignore-file`) and the
/// code as written (empty for a bare `ratecheck: ignore`).
pub type Key = (Option<usize>, String);

/// A suppression comment, or one code of it, that silenced nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unused {
    pub path: PathBuf,
    /// 1-based line of the comment; 0 for an `ignore-file` whose line is
    /// not known.
    pub line: usize,
    pub file_wide: bool,
    /// Empty for a bare `ratecheck: ignore`.
    pub code: String,
}

impl Unused {
    pub fn describe(&self) -> String {
        let directive = if self.file_wide {
            "ignore-file"
        } else {
            "ignore"
        };
        if self.code.is_empty() {
            format!("unused suppression `ratecheck: {directive}`: no finding here to silence")
        } else {
            format!(
                "unused suppression `ratecheck: {directive}[{}]`: no {} finding here to silence",
                self.code, self.code
            )
        }
    }
}

/// Every `ratecheck:` comment of a file, wherever it sits in the tree
/// (also where an extractor does not walk, such as a `def` line): each
/// occurrence of the marker is looked up in the tree, and kept when it is
/// inside a comment (not a string).
pub fn collect(tree: &tree_sitter::Tree, text: &str) -> Suppressions {
    let mut out = Suppressions::default();
    let root = tree.root_node();
    for (offset, _) in text.match_indices("ratecheck:") {
        let Some(node) = root.descendant_for_byte_range(offset, offset + 1) else {
            continue;
        };
        if !node.kind().contains("comment") {
            continue;
        }
        // From the marker on: a comment may hold other text before it.
        let end = node.end_byte().min(text.len());
        if let Some(comment) = text.get(offset..end) {
            out.add_comment(comment, node.start_position().row + 1);
        }
    }
    out
}

/// The comment (and code) that silences a finding of `rule_id` starting
/// on `line`, also looking at `def_line` (the `def` below a decorator).
pub fn lookup(
    s: &Suppressions,
    rule_id: &str,
    line: usize,
    def_line: Option<usize>,
) -> Option<Key> {
    let code_for = |sup: &crate::facts::Suppression| -> Option<String> {
        if let Some(code) = sup.rules.iter().find(|r| rule_id.starts_with(r.as_str())) {
            Some(code.clone())
        } else if sup.all {
            Some(String::new())
        } else {
            None
        }
    };
    let mut lines = vec![line, line.saturating_sub(1)];
    lines.extend(def_line);
    for l in lines {
        if let Some(code) = s.lines.get(&l).and_then(code_for) {
            return Some((Some(l), code));
        }
    }
    s.file.as_ref().and_then(code_for).map(|code| (None, code))
}

/// For a Python finding that starts on a decorator line, the line of the
/// `def` (or `class`) it decorates, so that a comment there silences it.
/// Reads lines through the file's line index: skipping to `line` from the
/// start of the text, for every finding, was quadratic in a large file.
pub fn def_line(path: &Path, src: &crate::source::SourceFile, line: usize) -> Option<usize> {
    if path.extension().is_none_or(|e| e != "py" && e != "pyi") {
        return None;
    }
    let first_index = line.checked_sub(1)?;
    let last_index = src.line_starts().len();
    let mut lines = (first_index..last_index).map(|i| (i, src.line_text(i)));
    let (_, first) = lines.next()?;
    let indent = first.len() - first.trim_start().len();
    if !first.trim_start().starts_with('@') {
        return None;
    }
    for (i, l) in lines.take(200) {
        let trimmed = l.trim_start();
        let this_indent = l.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || this_indent > indent {
            continue; // continuation lines of a multi-line decorator
        }
        if trimmed.starts_with("def ")
            || trimmed.starts_with("async def ")
            || trimmed.starts_with("class ")
        {
            return Some(i + 1);
        }
        if !trimmed.starts_with('@') && !trimmed.starts_with(')') && !trimmed.starts_with(']') {
            return None;
        }
    }
    None
}

/// Codes in the comments that name no rule: warnings (line, code).
pub fn unknown_codes(s: &Suppressions) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let file_line = s.file_line;
    for (line, sup) in s.lines.iter().chain(s.file.iter().map(|f| (&file_line, f))) {
        for code in &sup.rules {
            if !crate::rules::selector_matches_any(code) {
                out.push((*line, code.clone()));
            }
        }
    }
    out
}

/// Comments and codes of one file that silenced nothing. `used` holds the
/// keys `lookup` returned for this file's findings; codes for rules that
/// did not run (`--select`) are not judged, nor is a bare comment unless
/// every rule ran.
pub fn unused(
    path: &Path,
    s: &Suppressions,
    used: &HashSet<Key>,
    rules_ran: &[&str],
    every_rule_ran: bool,
) -> Vec<Unused> {
    let judged = |code: &str| {
        let matching: Vec<&str> = crate::rules::RULES
            .iter()
            .map(|r| r.id())
            .filter(|id| id.starts_with(code))
            .collect();
        !matching.is_empty() && matching.iter().all(|id| rules_ran.contains(id))
    };
    let mut out = Vec::new();
    let file = s.file.as_ref().map(|f| (None, f));
    for (line, sup) in s.lines.iter().map(|(l, s)| (Some(*l), s)).chain(file) {
        let mut codes: Vec<String> = sup.rules.iter().cloned().collect();
        if sup.all {
            codes.push(String::new());
        }
        for code in codes {
            let is_judged = if code.is_empty() {
                every_rule_ran
            } else {
                judged(&code)
            };
            if is_judged && !used.contains(&(line, code.clone())) {
                out.push(Unused {
                    path: path.to_path_buf(),
                    line: line.unwrap_or(s.file_line),
                    file_wide: line.is_none(),
                    code,
                });
            }
        }
    }
    out
}

/// Write a `ratecheck: ignore[...]` comment at the end of the first line of
/// every finding (codes merged into a comment already there). Returns
/// (comments written, files changed).
pub fn add_ignores(findings: &[LocatedFinding]) -> Result<(usize, usize), String> {
    let mut by_file: BTreeMap<&Path, BTreeMap<usize, BTreeSet<&str>>> = BTreeMap::new();
    for f in findings {
        by_file
            .entry(f.finding.path.as_path())
            .or_default()
            .entry(f.start.line)
            .or_default()
            .insert(f.finding.rule_id);
    }
    let mut written = 0;
    let mut files = 0;
    for (path, lines) in by_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let python = path.extension().is_some_and(|e| e == "py" || e == "pyi");
        let mut out = String::with_capacity(text.len() + 64 * lines.len());
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let Some(codes) = lines.get(&(i + 1)) else {
                out.push_str(raw);
                continue;
            };
            let (body, ending) = match raw.strip_suffix("\r\n") {
                Some(b) => (b, "\r\n"),
                None => match raw.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (raw, ""),
                },
            };
            out.push_str(&with_ignore(body, codes, python));
            out.push_str(ending);
            written += 1;
        }
        std::fs::write(path, out).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        files += 1;
    }
    Ok((written, files))
}

/// `line` with the codes added to its `ratecheck: ignore[...]` comment, or
/// a new trailing comment.
fn with_ignore(line: &str, codes: &BTreeSet<&str>, python: bool) -> String {
    const MARK: &str = "ratecheck: ignore[";
    if let Some(at) = line.find(MARK) {
        let start = at + MARK.len();
        if let Some(len) = line[start..].find(']') {
            let mut all: BTreeSet<String> = line[start..start + len]
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            all.extend(codes.iter().map(|c| c.to_string()));
            let list: Vec<String> = all.into_iter().collect();
            return format!(
                "{}{}{}",
                &line[..start],
                list.join(", "),
                &line[start + len..]
            );
        }
    }
    let list: Vec<&str> = codes.iter().copied().collect();
    let marker = if python { "#" } else { "//" };
    let sep = if line.trim().is_empty() { "" } else { "  " };
    format!(
        "{}{sep}{marker} ratecheck: ignore[{}]",
        line.trim_end(),
        list.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn def_line_below_decorators() {
        let text = "@app.route(\n    \"/login\",\n)\n@login_required\ndef login():\n    pass\n";
        let src = crate::source::SourceFile::new("a.py".into(), text.into());
        assert_eq!(def_line(Path::new("a.py"), &src, 1), Some(5));
        assert_eq!(def_line(Path::new("a.py"), &src, 5), None);
        assert_eq!(def_line(Path::new("a.js"), &src, 1), None);
        assert_eq!(def_line(Path::new("a.py"), &src, 99), None);
    }

    #[test]
    fn ignore_comments_are_added_or_merged() {
        let codes: BTreeSet<&str> = ["RATE002"].into_iter().collect();
        assert_eq!(
            with_ignore("hits = {}", &codes, true),
            "hits = {}  # ratecheck: ignore[RATE002]"
        );
        assert_eq!(
            with_ignore(
                "const m = new Map(); // ratecheck: ignore[RATE005]",
                &codes,
                false
            ),
            "const m = new Map(); // ratecheck: ignore[RATE002, RATE005]"
        );
    }
}
