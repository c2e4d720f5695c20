//! `--routes`: every HTTP route RATE001 sees, with its verdict and the
//! evidence behind it, as text, JSON or a Markdown table. This is how a
//! reviewer checks a RATE001 finding (or its absence) in seconds.

use crate::engine::{slash_path, LocatedRoute, Report};
use serde_json::{json, Value};
use std::io::{self, Write};

pub const ROUTE_FORMATS: &[&str] = &["text", "json", "markdown"];

/// The JSON document's version; fields are only added within a version.
pub const ROUTES_FORMAT_VERSION: u32 = 1;

pub fn emit(format: &str, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    match format {
        "json" => emit_json(report, out),
        "markdown" => emit_markdown(report, out),
        _ => emit_text(report, out),
    }
}

fn shown_path(r: &LocatedRoute) -> &str {
    r.route.as_deref().unwrap_or("(computed path)")
}

fn handler(r: &LocatedRoute) -> &str {
    if r.handler == "anonymous handler" {
        "inline handler"
    } else {
        &r.handler
    }
}

/// `unprotected (error)`, `protected`, …
fn verdict(r: &LocatedRoute) -> String {
    match r.severity {
        Some(sev) => format!("{} ({})", r.verdict, sev.as_str()),
        None => r.verdict.to_string(),
    }
}

fn evidence(r: &LocatedRoute) -> String {
    let mut text = r.evidence.clone().unwrap_or_default();
    if let Some((path, line)) = &r.evidence_at {
        text.push_str(&format!(" ({}:{line})", slash_path(path)));
    }
    text
}

fn summary(routes: &[LocatedRoute]) -> String {
    let count = |v: &str| routes.iter().filter(|r| r.verdict == v).count();
    format!(
        "{} routes: {} protected, {} unprotected, {} unresolved, {} skipped",
        routes.len(),
        count("protected"),
        count("unprotected"),
        count("unresolved"),
        count("skipped")
    )
}

fn emit_text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for r in &report.routes {
        writeln!(
            out,
            "{}:{}:{}: {} {} ({}): {}",
            slash_path(&r.path),
            r.line,
            r.column,
            r.method,
            shown_path(r),
            handler(r),
            verdict(r)
        )?;
        let ev = evidence(r);
        if !ev.is_empty() {
            writeln!(out, "    {ev}")?;
        }
    }
    writeln!(out, "{}", summary(&report.routes))
}

fn emit_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let routes: Vec<Value> = report
        .routes
        .iter()
        .map(|r| {
            json!({
                "path": slash_path(&r.path),
                "line": r.line,
                "column": r.column,
                "framework": r.framework,
                "method": r.method,
                "route": r.route,
                "handler": r.handler,
                "verdict": r.verdict,
                "severity": r.severity.map(|s| s.as_str()),
                "evidence": r.evidence,
                "evidence_location": r.evidence_at.as_ref().map(|(p, line)| json!({
                    "path": slash_path(p),
                    "line": line,
                })),
            })
        })
        .collect();
    let count = |v: &str| report.routes.iter().filter(|r| r.verdict == v).count();
    let doc = json!({
        "version": ROUTES_FORMAT_VERSION,
        "tool": { "name": "ratecheck", "version": env!("CARGO_PKG_VERSION") },
        "routes": routes,
        "summary": {
            "routes": report.routes.len(),
            "protected": count("protected"),
            "unprotected": count("unprotected"),
            "unresolved": count("unresolved"),
            "skipped": count("skipped"),
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A table cell: pipes and line breaks would end the cell or the row.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn emit_markdown(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| Verdict | Method | Path | Handler | Location | Evidence |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for r in &report.routes {
        writeln!(
            out,
            "| {} | {} | `{}` | {} | {}:{} | {} |",
            cell(&verdict(r)),
            cell(&r.method),
            cell(shown_path(r)).replace('`', "'"),
            cell(handler(r)),
            cell(&slash_path(&r.path)),
            r.line,
            cell(&evidence(r))
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", summary(&report.routes))
}
