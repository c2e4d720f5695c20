//! The JSON report. Versioned: fields are only added within a version; a
//! field removed or changed in meaning bumps `version`. Documented in
//! `docs/json-format.md`.

use crate::engine::{slash_path, LocatedFinding, ProblemKind, Report};
use serde_json::{json, Value};
use std::io::{self, Write};

pub const JSON_FORMAT_VERSION: u32 = 1;

pub fn emit(report: &Report, options: &super::EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let metas = crate::rules::all_meta();
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            finding_json(
                f,
                metas.iter().find(|m| m.id == f.finding.rule_id),
                options.docs_url.as_deref(),
            )
        })
        .collect();
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let mut v = json!({
                "level": if p.kind == ProblemKind::Error { "error" } else { "warning" },
                "path": p.path.as_ref().map(|p| slash_path(p)),
                "message": p.message,
            });
            if let Some(at) = p.position {
                v["line"] = json!(at.line);
                v["column"] = json!(at.column);
            }
            v
        })
        .collect();
    let count = |sev: crate::finding::Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.finding.severity == sev)
            .count()
    };
    let doc = json!({
        "version": JSON_FORMAT_VERSION,
        "tool": { "name": "ratecheck", "version": env!("CARGO_PKG_VERSION") },
        "findings": findings,
        "problems": problems,
        "summary": {
            "findings": report.findings.len(),
            "errors": count(crate::finding::Severity::Error),
            "warnings": count(crate::finding::Severity::Warning),
            "notes": count(crate::finding::Severity::Note),
            "files_seen": report.stats.files_seen,
            "files_parsed": report.stats.files_parsed,
            "suppressed": report.stats.suppressed,
            "test_files_not_judged": report.test_files(),
            "baseline_accepted": report.stats.baseline_accepted,
            "baseline_stale": report.stats.baseline_stale,
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn finding_json(
    f: &LocatedFinding,
    meta: Option<&crate::rules::RuleMeta>,
    docs_url: Option<&str>,
) -> Value {
    json!({
        "rule": f.finding.rule_id,
        "name": meta.map(|m| m.name),
        "severity": f.finding.severity.as_str(),
        "message": f.finding.message,
        "path": slash_path(&f.finding.path),
        "line": f.start.line,
        "column": f.start.column,
        "end_line": f.end.line,
        "end_column": f.end.column,
        "help": f.finding.help,
        "labels": f.labels.iter().map(|l| json!({
            "path": slash_path(&l.path),
            "line": l.start.line,
            "column": l.start.column,
            "end_line": l.end.line,
            "end_column": l.end.column,
            "message": l.message,
        })).collect::<Vec<_>>(),
        "fingerprint": f.fingerprint,
        "url": meta.and_then(|m| m.help_uri(docs_url)),
    })
}
