//! SARIF 2.1.0 for GitHub code scanning: one run, full rule metadata,
//! `%SRCROOT%`-relative percent-encoded URIs, UTF-16 columns, our own
//! line-independent fingerprint under `partialFingerprints` (never
//! `primaryLocationLineHash`, which the upload action computes), and tool
//! problems as execution notifications.

use crate::engine::{slash_path, LocatedFinding, ProblemKind, Report};
use crate::finding::Severity;
use crate::rules::{all_meta, RuleMeta};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;

pub const FINGERPRINT_KEY: &str = "ratecheck/v1";

pub fn emit(report: &Report, options: &super::EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let metas = all_meta();
    let rules: Vec<Value> = metas
        .iter()
        .map(|m| rule_json(m, options.docs_url.as_deref()))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            result_json(
                f,
                metas.iter().position(|m| m.id == f.finding.rule_id),
                options.report_root.as_deref(),
            )
        })
        .collect();
    let notifications: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            let mut n = json!({
                "level": if p.kind == ProblemKind::Error { "error" } else { "warning" },
                "message": { "text": sentence(&p.message) },
            });
            if let Some(path) = &p.path {
                let mut physical =
                    json!({ "artifactLocation": artifact(path, options.report_root.as_deref()) });
                if let Some(at) = p.position {
                    physical["region"] =
                        json!({ "startLine": at.line, "startColumn": at.column_utf16 });
                }
                n["locations"] = json!([{ "physicalLocation": physical }]);
            }
            n
        })
        .collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "ratecheck",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }
        },
        "invocations": [{
            "executionSuccessful": !report.has_errors(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "utf16CodeUnits",
        "results": results,
    });
    if let Some(category) = &options.sarif_category {
        let id = if category.ends_with('/') {
            category.clone()
        } else {
            format!("{category}/")
        };
        run["automationDetails"] = json!({ "id": id });
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// `in-memory-limiter` → `InMemoryLimiter` (SARIF friendly names are Pascal case).
fn pascal(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// SARIF messages are complete sentences.
fn sentence(s: &str) -> String {
    let s = s.trim_end();
    if s.ends_with(['.', '!', '?']) {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn rule_json(m: &RuleMeta, docs_url: Option<&str>) -> Value {
    let mut tags = vec!["security".to_string(), "rate-limiting".to_string()];
    tags.extend(
        m.cwe
            .iter()
            .map(|c| format!("external/cwe/{}", c.to_ascii_lowercase())),
    );
    let mut rule = json!({
        "id": m.id,
        "name": pascal(m.name),
        "shortDescription": { "text": sentence(m.summary) },
        "fullDescription": { "text": sentence(&m.why().replace('\n', " ")) },
        "help": {
            "text": format!("{} See {}.", sentence(m.summary), m.see_also(docs_url)),
            "markdown": m.body,
        },
        "defaultConfiguration": { "level": level(m.severity) },
        "properties": {
            "tags": tags,
            "precision": m.precision,
            "problem.severity": level(m.severity),
            "security-severity": m.security_severity,
        }
    });
    // Only an address that exists: the page itself is in `help.markdown`.
    if let Some(uri) = m.help_uri(docs_url) {
        rule["helpUri"] = json!(uri);
    }
    rule
}

fn result_json(f: &LocatedFinding, rule_index: Option<usize>, root: Option<&Path>) -> Value {
    let region = |start: &crate::source::Position, end: &crate::source::Position| {
        json!({
            "startLine": start.line,
            "startColumn": start.column_utf16,
            "endLine": end.line,
            "endColumn": end.column_utf16,
        })
    };
    let related: Vec<Value> = f
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": i + 1,
                "message": { "text": sentence(&capitalize(&l.message)) },
                "physicalLocation": {
                    "artifactLocation": artifact(&l.path, root),
                    "region": region(&l.start, &l.end),
                }
            })
        })
        .collect();
    let mut result = json!({
        "ruleId": f.finding.rule_id,
        "level": level(f.finding.severity),
        "message": { "text": format!("{} Fix: {}", sentence(&capitalize(&f.finding.message)), sentence(&f.finding.help)) },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact(&f.finding.path, root),
                "region": region(&f.start, &f.end),
            }
        }],
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

/// Paths below the repository root (`root`, else the working directory)
/// become `%SRCROOT%`-relative URIs; others become `file://` URIs.
fn artifact(path: &Path, root: Option<&Path>) -> Value {
    if let Some(rel) = root.and_then(|r| crate::scope::relative_to(path, r)) {
        return json!({ "uri": percent_encode_path(&rel), "uriBaseId": "%SRCROOT%" });
    }
    let p = slash_path(path);
    if root.is_some() && !path.is_absolute() {
        let abs = crate::scope::absolute(path);
        return json!({ "uri": format!("file://{}", percent_encode_path(&slash_path(&abs))) });
    }
    if path.is_absolute() {
        let p = if p.starts_with('/') {
            p
        } else {
            format!("/{p}")
        };
        json!({ "uri": format!("file://{}", percent_encode_path(&p)) })
    } else {
        json!({ "uri": percent_encode_path(&p), "uriBaseId": "%SRCROOT%" })
    }
}

/// Percent-encode everything but unreserved characters and `/` (RFC 3986).
pub fn percent_encode_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(
            percent_encode_path("src/api/limits v2.py"),
            "src/api/limits%20v2.py"
        );
        assert_eq!(percent_encode_path("ü/a#b.js"), "%C3%BC/a%23b.js");
        assert_eq!(
            artifact(Path::new("a b/c.py"), None),
            json!({"uri": "a%20b/c.py", "uriBaseId": "%SRCROOT%"})
        );
    }

    #[test]
    fn names_and_sentences() {
        assert_eq!(pascal("in-memory-limiter"), "InMemoryLimiter");
        assert_eq!(sentence("no period"), "no period.");
        assert_eq!(sentence("done."), "done.");
    }
}
