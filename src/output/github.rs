//! GitHub Actions workflow commands: annotations on the pull request.
//! Errors come first because GitHub shows only the first 10 annotations of
//! each type per step.

use crate::engine::Report;
use crate::finding::Severity;
use std::io::{self, Write};

pub fn emit(report: &Report, options: &super::EmitOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut ordered: Vec<_> = report.findings.iter().collect();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.finding.severity));
    for f in ordered {
        let command = match f.finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let message = format!("{}\nhelp: {}", f.finding.message, f.finding.help);
        let path = crate::scope::report_path(&f.finding.path, options.report_root.as_deref());
        // Columns only on one line: GitHub reads `col`/`endColumn` of a
        // multi-line annotation wrongly.
        let position = if f.start.line == f.end.line {
            format!(
                "line={},col={},endLine={},endColumn={}",
                f.start.line, f.start.column, f.end.line, f.end.column
            )
        } else {
            format!("line={},endLine={}", f.start.line, f.end.line)
        };
        writeln!(
            out,
            "::{command} file={},{position},title={}::{}",
            escape_property(&path),
            escape_property(&format!(
                "{} {}",
                f.finding.rule_id,
                rule_name(f.finding.rule_id)
            )),
            escape_data(&message)
        )?;
    }
    Ok(())
}

fn rule_name(id: &str) -> String {
    crate::rules::meta(id)
        .map(|m| m.name.to_string())
        .unwrap_or_default()
}

/// Message text: `%`, CR and LF are encoded.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally encode `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(escape_data("100% done\nnext"), "100%25 done%0Anext");
        assert_eq!(escape_property("a,b:c%"), "a%2Cb%3Ac%25");
    }
}
