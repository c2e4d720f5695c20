//! The whole pipeline, as the command line runs it, on a multi-file
//! project decoded from the fuzzer's bytes: discovery, reading, parsing,
//! facts, the project phase, every rule, and every output format.
//!
//! Input: records separated by `\x1e\x1e\x1e\x1e`; each record is a file,
//! its path on the first line and its content after it (see
//! `make-seeds.py`, which turns each fixture project into one input).
//! Paths are sanitised into the project folder; manifests
//! (`package.json`, `pyproject.toml`, `requirements.txt`) are kept so
//! project roots are exercised.
//!
//! Checked: no panic (the engine turns panics into errors, which are
//! reported here as crashes), JSON and SARIF parse, and every finding lies
//! inside its file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratecheck::engine::{self, Options, ProblemKind};
use ratecheck::output::{self, EmitOptions, FORMATS};
use std::path::{Path, PathBuf};

const SEPARATOR: &[u8] = b"\x1e\x1e\x1e\x1e";
const FALLBACK_NAMES: &[&str] = &[
    "app.py",
    "views.py",
    "server.js",
    "routes/index.ts",
    "page.tsx",
    "lib/store.mjs",
    "package.json",
    "pyproject.toml",
];

fn split<'a>(data: &'a [u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        out.push(&rest[..i]);
        rest = &rest[i + SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

/// A safe relative path below the project folder.
fn sanitise(name: &[u8], index: usize) -> PathBuf {
    let name = String::from_utf8_lossy(name);
    let parts: Vec<String> = name
        .split('/')
        .map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
                .collect::<String>()
        })
        .filter(|c| !c.is_empty() && c != "." && c != "..")
        .take(4)
        .collect();
    if parts.is_empty() {
        return PathBuf::from(FALLBACK_NAMES[index % FALLBACK_NAMES.len()]);
    }
    parts.iter().collect()
}

fn write_project(dir: &Path, data: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (i, record) in split(data).into_iter().take(8).enumerate() {
        let (name, content) = match record.iter().position(|b| *b == b'\n') {
            Some(nl) => (&record[..nl], &record[nl + 1..]),
            None => (&b""[..], record),
        };
        let rel = sanitise(name, i);
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            if std::fs::create_dir_all(parent).is_err() {
                continue;
            }
        }
        if path.is_dir() || std::fs::write(&path, content).is_err() {
            continue;
        }
        files.push((rel, content.to_vec()));
    }
    files
}

/// Lines and their lengths in characters, as ratecheck counts them.
fn inside(content: &[u8], line: u64, column: u64) -> bool {
    let text = String::from_utf8_lossy(content);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    line >= 1
        && column >= 1
        && text
            .split('\n')
            .nth(line as usize - 1)
            .is_some_and(|l| column as usize <= l.chars().count() + 1)
}

fuzz_target!(|data: &[u8]| {
    let dir = tempfile_dir();
    let files = write_project(&dir, data);
    let options = Options {
        paths: vec![dir.clone()],
        jobs: Some(1),
        respect_gitignore: true,
        ..Default::default()
    };
    let report = engine::run(&options);
    for p in &report.problems {
        assert!(
            !(p.kind == ProblemKind::Error && p.message.contains("internal error")),
            "{}",
            p.message
        );
    }
    for f in &report.findings {
        let rel = f.finding.path.strip_prefix(&dir).unwrap_or(&f.finding.path);
        let content = files
            .iter()
            .rev()
            .find(|(p, _)| p == rel)
            .map(|(_, c)| c.as_slice())
            .expect("a finding in a file of the project");
        assert!(
            inside(content, f.start.line as u64, f.start.column as u64)
                && inside(content, f.end.line as u64, f.end.column as u64),
            "finding outside its file: {rel:?} {:?}",
            f.start
        );
    }
    for format in FORMATS {
        let mut out = Vec::new();
        let emit_options = EmitOptions {
            color: false,
            sarif_category: None,
            quiet: false,
            docs_url: None,
            report_root: Some(dir.clone()),
        };
        output::emit(format, &report, &emit_options, &mut out).expect("emits");
        if matches!(*format, "json" | "sarif") {
            serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});

/// A fresh folder per input (the process is long-lived; inputs run one
/// after another).
fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ratecheck-fuzz-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
