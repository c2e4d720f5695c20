//! What a rule reports.

use crate::source::Span;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A secondary location: where state is mutated, where a key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub path: PathBuf,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: &'static str,
    pub severity: Severity,
    /// Lower-case start, no trailing period, identifiers in backticks.
    pub message: String,
    pub path: PathBuf,
    pub span: Span,
    /// Short text for the primary label in the text output.
    pub primary_label: String,
    pub labels: Vec<Label>,
    /// The fix, for the framework at hand.
    pub help: String,
}
