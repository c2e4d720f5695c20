//! Human output: codespan-reporting diagnostics with the source snippet,
//! the primary and secondary labels, the fix and the rule's page.

use crate::engine::{slash_path, Report};
use crate::finding::Severity;
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, termcolor};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

pub fn emit(report: &Report, options: &super::EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut files = SimpleFiles::new();
    let mut ids: HashMap<PathBuf, usize> = HashMap::new();
    let mut file_id = |path: &PathBuf, files: &mut SimpleFiles<String, String>| -> Option<usize> {
        if let Some(id) = ids.get(path) {
            return Some(*id);
        }
        // The bytes that were analysed, never the file as it is now.
        let text = report.sources.get(path)?.text.clone();
        let id = files.add(slash_path(path), text);
        ids.insert(path.clone(), id);
        Some(id)
    };
    let mut buffer = if options.color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    for f in &report.findings {
        let Some(primary) = file_id(&f.finding.path, &mut files) else {
            continue;
        };
        let severity = match f.finding.severity {
            Severity::Error => codespan_reporting::diagnostic::Severity::Error,
            Severity::Warning => codespan_reporting::diagnostic::Severity::Warning,
            Severity::Note => codespan_reporting::diagnostic::Severity::Note,
        };
        let mut labels = vec![
            Label::primary(primary, first_line(f.finding.span, &files, primary))
                .with_message(&f.finding.primary_label),
        ];
        for l in &f.finding.labels {
            if let Some(id) = file_id(&l.path, &mut files) {
                labels.push(
                    Label::secondary(id, first_line(l.span, &files, id)).with_message(&l.message),
                );
            }
        }
        let url = crate::rules::meta(f.finding.rule_id)
            .map(|m| m.see_also(options.docs_url.as_deref()))
            .unwrap_or_default();
        let diagnostic = Diagnostic::new(severity)
            .with_code(f.finding.rule_id)
            .with_message(&f.finding.message)
            .with_labels(labels)
            .with_notes(vec![
                format!("help: {}", f.finding.help),
                format!("see: {url}"),
            ]);
        term::emit_to_write_style(&mut buffer, &config, &files, &diagnostic)
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
    out.write_all(buffer.as_slice())?;
    if !options.quiet {
        writeln!(out, "{}", summary_line(report))?;
    }
    Ok(())
}

/// Multi-line spans (a whole dict literal) would print every line; show
/// the first line, which names the thing.
fn first_line(
    span: crate::source::Span,
    files: &SimpleFiles<String, String>,
    id: usize,
) -> std::ops::Range<usize> {
    let text = files.get(id).map(|f| f.source().as_str()).unwrap_or("");
    let start = span.start.min(text.len());
    let end = span.end.min(text.len()).max(start);
    let line_end = text[start..end]
        .find('\n')
        .map(|i| start + i)
        .unwrap_or(end);
    start..line_end.max(start)
}

pub fn summary_line(report: &Report) -> String {
    let n = report.findings.len();
    let tests = report.test_files();
    let tests_note = if tests == 0 {
        String::new()
    } else {
        format!(
            " ({tests} test file{} not judged; --include-tests lints them)",
            plural(tests)
        )
    };
    if n == 0 {
        return format!(
            "No findings in {} file{}{tests_note}.",
            report.stats.files_seen,
            plural(report.stats.files_seen)
        );
    }
    let count = |s: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.finding.severity == s)
            .count()
    };
    let files: std::collections::BTreeSet<_> =
        report.findings.iter().map(|f| &f.finding.path).collect();
    format!(
        "Found {n} finding{} ({} error{}, {} warning{}, {} note{}) in {} file{}{tests_note}.",
        plural(n),
        count(Severity::Error),
        plural(count(Severity::Error)),
        count(Severity::Warning),
        plural(count(Severity::Warning)),
        count(Severity::Note),
        plural(count(Severity::Note)),
        files.len(),
        plural(files.len())
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
