//! `path:line:col: RATE002 [warning] message`, one line per finding.

use crate::engine::{slash_path, Report};
use std::io::{self, Write};

pub fn emit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        writeln!(
            out,
            "{}:{}:{}: {} [{}] {}",
            slash_path(&f.finding.path),
            f.start.line,
            f.start.column,
            f.finding.rule_id,
            f.finding.severity.as_str(),
            f.finding.message
        )?;
    }
    Ok(())
}
