//! Emitters. Every format writes the same sorted findings; they differ
//! only in presentation.

mod concise;
mod github;
mod json;
pub mod routes;
mod sarif;
mod text;

use crate::engine::Report;
use std::io::{self, Write};

pub const FORMATS: &[&str] = &["text", "concise", "json", "sarif", "github"];
pub use routes::ROUTE_FORMATS;

pub struct EmitOptions {
    pub color: bool,
    /// Value for SARIF's `automationDetails.id`, when the user asks.
    pub sarif_category: Option<String>,
    /// Print summary lines (text formats) even with no findings.
    pub quiet: bool,
    /// Where rule pages are published (`docs-url`); none: `--explain`.
    pub docs_url: Option<String>,
    /// SARIF and `github` paths are relative to this folder (the
    /// repository root), whatever the working directory.
    pub report_root: Option<std::path::PathBuf>,
}

pub fn emit(
    format: &str,
    report: &Report,
    options: &EmitOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        "concise" => concise::emit(report, out),
        "json" => json::emit(report, options, out),
        "sarif" => sarif::emit(report, options, out),
        "github" => github::emit(report, options, out),
        _ => text::emit(report, options, out),
    }
}
