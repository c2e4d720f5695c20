//! Baselines: adopt ratecheck on an existing codebase without fixing
//! everything first. `--write-baseline FILE` records today's findings;
//! `--baseline FILE` reports only findings that are not in it, and names
//! the entries that no longer match anything (fixed, or changed beyond
//! recognition) as stale.
//!
//! Entries match on rule, path and the line-independent fingerprint
//! (rule, path relative to the repository root, and the flagged code with
//! whitespace collapsed; numbered when the same code is flagged twice in a
//! file), so findings survive edits elsewhere in the file.

use crate::engine::LocatedFinding;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

pub const BASELINE_VERSION: u32 = 1;

/// About a million entries; a larger file is not a baseline.
const MAX_BASELINE_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
    /// For people reading the file; not used for matching.
    #[serde(default)]
    pub line: usize,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    #[serde(default)]
    pub tool: String,
    pub findings: Vec<Entry>,
}

/// What applying a baseline did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings accepted (removed from the report).
    pub accepted: usize,
    /// Entries for files and rules that were checked, matching nothing.
    pub stale: Vec<Entry>,
}

pub fn entry(f: &LocatedFinding, root: Option<&Path>) -> Entry {
    Entry {
        path: crate::scope::report_path(&f.finding.path, root),
        rule: f.finding.rule_id.to_string(),
        fingerprint: f.fingerprint.clone(),
        line: f.start.line,
        message: f.finding.message.clone(),
    }
}

pub fn from_findings(findings: &[LocatedFinding], root: Option<&Path>) -> Baseline {
    let mut entries: Vec<Entry> = findings.iter().map(|f| entry(f, root)).collect();
    entries.sort();
    Baseline {
        version: BASELINE_VERSION,
        tool: format!("ratecheck {}", env!("CARGO_PKG_VERSION")),
        findings: entries,
    }
}

pub fn write(path: &Path, baseline: &Baseline) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(baseline).map_err(|e| e.to_string())?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write baseline {}: {e}", path.display()))
}

pub fn load(path: &Path) -> Result<Baseline, String> {
    // Bounded and never blocking: `--baseline` may name a FIFO or device.
    let bytes = crate::source::read_source(path, MAX_BASELINE_BYTES).map_err(|e| {
        format!(
            "cannot read baseline {}: {}",
            path.display(),
            e.describe(MAX_BASELINE_BYTES, "a baseline")
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("cannot read baseline {}: not valid UTF-8", path.display()))?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a ratecheck baseline: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if baseline.version != BASELINE_VERSION {
        return Err(format!(
            "{}: baseline version {} is not supported (expected {BASELINE_VERSION}); write it again with --write-baseline",
            path.display(),
            baseline.version
        ));
    }
    Ok(baseline)
}

/// Drop the findings the baseline accepts. `checked_paths` are the files
/// that were linted and reported on (relative to `root` as in the
/// baseline), `rules` the rules that ran: an entry is stale only when its
/// file and rule were checked and it matched nothing, or its file is gone.
pub fn apply(
    baseline: &Baseline,
    findings: &mut Vec<LocatedFinding>,
    root: Option<&Path>,
    checked_paths: &HashSet<String>,
    rules: &[&str],
) -> Outcome {
    let known: BTreeSet<(&str, &str, &str)> = baseline
        .findings
        .iter()
        .map(|e| (e.path.as_str(), e.rule.as_str(), e.fingerprint.as_str()))
        .collect();
    let mut used: HashSet<(String, String, String)> = HashSet::new();
    let before = findings.len();
    findings.retain(|f| {
        let e = entry(f, root);
        let key = (e.path.as_str(), e.rule.as_str(), e.fingerprint.as_str());
        if known.contains(&key) {
            used.insert((e.path.clone(), e.rule.clone(), e.fingerprint.clone()));
            false
        } else {
            true
        }
    });
    let stale = baseline
        .findings
        .iter()
        .filter(|e| !used.contains(&(e.path.clone(), e.rule.clone(), e.fingerprint.clone())))
        .filter(|e| {
            let file_gone = match root {
                Some(r) => !r.join(&e.path).exists(),
                None => !Path::new(&e.path).exists(),
            };
            file_gone || (checked_paths.contains(&e.path) && rules.contains(&e.rule.as_str()))
        })
        .cloned()
        .collect();
    Outcome {
        accepted: before - findings.len(),
        stale,
    }
}
