//! Deterministic mutation test (issue 13): fixture projects are mutated
//! the way real trees go wrong (lines deleted and duplicated, files cut
//! short, NUL bytes, invalid UTF-8, very long lines, 5,000-deep brackets
//! and deep indentation) and linted by the binary. Whatever the input:
//! no panic, exit code 0, 1 or 2, valid JSON and SARIF, and every finding
//! and label inside its file.
//!
//! Fixed seed, so a failure reproduces; `RATECHECK_MUTATION_SEED` and
//! `RATECHECK_MUTATION_CASES` explore further.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// SplitMix64: small, fast, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every fixture project: a top-level file or folder under a rule folder.
fn fixture_projects() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut projects = Vec::new();
    for lang in ["python", "javascript"] {
        let mut rules: Vec<_> = std::fs::read_dir(root.join(lang))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        rules.sort();
        for rule in rules {
            let mut entries: Vec<_> = std::fs::read_dir(&rule)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            projects.extend(entries);
        }
    }
    projects
}

fn copy_project(src: &Path, dest: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if src.is_file() {
        let to = dest.join(src.file_name().unwrap());
        std::fs::copy(src, &to).unwrap();
        files.push(to);
        return files;
    }
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let to = dest.join(p.strip_prefix(src).unwrap());
            if p.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(p);
            } else {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&p, &to).unwrap();
                files.push(to);
            }
        }
    }
    files.sort();
    files
}

fn line_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

fn random_offset(rng: &mut Rng, bytes: &[u8]) -> usize {
    rng.below(bytes.len() + 1)
}

fn line_start_offset(rng: &mut Rng, bytes: &[u8]) -> usize {
    let lines = line_ranges(bytes);
    if lines.is_empty() {
        0
    } else {
        rng.pick(&lines).0
    }
}

/// Apply one mutation; returns its name, for the failure message.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, python: bool) -> &'static str {
    match rng.below(10) {
        0 => {
            let lines = line_ranges(bytes);
            if !lines.is_empty() {
                let first = rng.below(lines.len());
                let last = (first + rng.below(5)).min(lines.len() - 1);
                bytes.drain(lines[first].0..lines[last].1);
            }
            "deleted lines"
        }
        1 => {
            let lines = line_ranges(bytes);
            if !lines.is_empty() {
                let first = rng.below(lines.len());
                let last = (first + rng.below(8)).min(lines.len() - 1);
                let copy = bytes[lines[first].0..lines[last].1].to_vec();
                let at = lines[rng.below(lines.len())].0;
                bytes.splice(at..at, copy);
            }
            "duplicated lines"
        }
        2 => {
            let at = random_offset(rng, bytes);
            bytes.truncate(at);
            "truncated"
        }
        3 => {
            let at = random_offset(rng, bytes);
            bytes.insert(at, 0);
            "NUL byte"
        }
        4 => {
            let junk: &[&[u8]] = &[b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf0\x9f"];
            for _ in 0..=rng.below(3) {
                let at = random_offset(rng, bytes);
                let j = rng.pick(junk);
                bytes.splice(at..at, j.iter().copied());
            }
            "invalid UTF-8"
        }
        5 => {
            let unit: &[&str] = &["a", "x + ", "'ab' + ", "f(", "req.ip, ", "\t", "\u{fe0f}"];
            let u = rng.pick(unit);
            let line = format!("{}\n", u.repeat(20_000 + rng.below(60_000) / u.len()));
            let at = line_start_offset(rng, bytes);
            bytes.splice(at..at, line.into_bytes());
            "very long line"
        }
        6 | 7 => {
            let (open, close) = *rng.pick(&[("(", ")"), ("[", "]"), ("{", "}"), ("f(", ")")]);
            let balanced = rng.below(3) > 0;
            let depth = 5_000;
            let mut line = format!("y = {}1", open.repeat(depth));
            if balanced {
                line += &close.repeat(depth);
            }
            line.push('\n');
            let at = line_start_offset(rng, bytes);
            bytes.splice(at..at, line.into_bytes());
            "5,000-deep brackets"
        }
        8 => {
            let mut block = String::new();
            if python {
                // One space per level: 1,000 levels is 500 KB already.
                for i in 0..1_000 {
                    let head = if i % 3 == 0 {
                        format!("def f{i}(request):")
                    } else {
                        "if request.remote_addr:".to_string()
                    };
                    block += &format!("{}{head}\n", " ".repeat(i));
                }
                block += &format!("{}hits[request.remote_addr] = 1\n", " ".repeat(1_000));
            } else {
                for _ in 0..5_000 {
                    block += "if (req.ip) {\n";
                }
                block += "hits.set(req.ip, 1);\n";
                block += &"}\n".repeat(5_000);
            }
            let at = line_start_offset(rng, bytes);
            bytes.splice(at..at, block.into_bytes());
            "deep indentation"
        }
        _ => {
            let punct = b"()[]{}:;,.'\"`\\#/*=<>!?@$%^&|~-+\n\r\t ";
            for _ in 0..=rng.below(20) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.below(bytes.len());
                bytes[at] = *rng.pick(punct);
            }
            "random punctuation"
        }
    }
}

/// Line count and the character length of each line, as ratecheck counts
/// them (lossy UTF-8, lines split at `\n`).
struct Shape {
    line_chars: Vec<usize>,
}

impl Shape {
    fn of(bytes: &[u8]) -> Shape {
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        Shape {
            line_chars: text.split('\n').map(|l| l.chars().count()).collect(),
        }
    }

    fn contains(&self, line: u64, column: u64) -> bool {
        line >= 1
            && column >= 1
            && self
                .line_chars
                .get(line as usize - 1)
                .is_some_and(|n| column as usize <= n + 1)
    }
}

fn check_position(
    shapes: &BTreeMap<String, Shape>,
    v: &Value,
    line: &str,
    column: &str,
    what: &str,
) -> Result<(), String> {
    let path = v["path"].as_str().ok_or(format!("{what}: no path"))?;
    let shape = shapes
        .get(path)
        .ok_or(format!("{what}: `{path}` is not a file of the project"))?;
    let (l, c) = (
        v[line].as_u64().unwrap_or(0),
        v[column].as_u64().unwrap_or(0),
    );
    if shape.contains(l, c) {
        Ok(())
    } else {
        Err(format!("{what}: {path}:{l}:{c} is outside the file"))
    }
}

fn check_run(dir: &Path, files: &[PathBuf]) -> Result<(), String> {
    let shapes: BTreeMap<String, Shape> = files
        .iter()
        .map(|f| {
            let rel = f
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, Shape::of(&std::fs::read(f).unwrap()))
        })
        .collect();
    let run = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_ratecheck"))
            .args([
                "--isolated",
                "--no-default-excludes",
                "--format",
                format,
                ".",
            ])
            .current_dir(dir)
            .output()
            .unwrap()
    };
    let json = run("json");
    let err = String::from_utf8_lossy(&json.stderr);
    if !matches!(json.status.code(), Some(0..=2)) {
        return Err(format!("exit status {:?}: {err}", json.status));
    }
    if err.contains("panicked") || err.contains("internal error") {
        return Err(format!("panic or internal error: {err}"));
    }
    let v: Value =
        serde_json::from_slice(&json.stdout).map_err(|e| format!("invalid JSON: {e}"))?;
    for f in v["findings"].as_array().ok_or("JSON without findings")? {
        check_position(&shapes, f, "line", "column", "finding start")?;
        check_position(&shapes, f, "end_line", "end_column", "finding end")?;
        for l in f["labels"].as_array().into_iter().flatten() {
            check_position(&shapes, l, "line", "column", "label")?;
        }
    }
    let sarif = run("sarif");
    if !matches!(sarif.status.code(), Some(0..=2)) {
        return Err(format!("SARIF run: exit status {:?}", sarif.status));
    }
    let s: Value =
        serde_json::from_slice(&sarif.stdout).map_err(|e| format!("invalid SARIF JSON: {e}"))?;
    if s["version"] != "2.1.0" {
        return Err("SARIF without version 2.1.0".into());
    }
    let results = s["runs"][0]["results"]
        .as_array()
        .ok_or("SARIF without results")?;
    if results.len() != v["findings"].as_array().map_or(0, |a| a.len()) {
        return Err("SARIF and JSON disagree on the number of findings".into());
    }
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        if region["startLine"].as_u64().unwrap_or(0) < 1
            || region["startColumn"].as_u64().unwrap_or(0) < 1
        {
            return Err(format!("SARIF region out of range: {region}"));
        }
    }
    Ok(())
}

#[test]
fn mutated_fixture_projects_never_break_the_linter() {
    let seed = std::env::var("RATECHECK_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1317);
    let cases = std::env::var("RATECHECK_MUTATION_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    let mut rng = Rng(seed);
    let projects = fixture_projects();
    assert!(projects.len() > 100, "fixtures not found");
    let mut failures = Vec::new();
    for case in 0..cases {
        let project = rng.pick(&projects).clone();
        let dir = tempfile::tempdir().unwrap();
        let files = copy_project(&project, dir.path());
        let mut applied = Vec::new();
        for _ in 0..=rng.below(3) {
            let file = rng.pick(&files).clone();
            let python = file.extension().is_some_and(|e| e == "py");
            let mut bytes = std::fs::read(&file).unwrap();
            let name = mutate(&mut rng, &mut bytes, python);
            std::fs::write(&file, bytes).unwrap();
            applied.push(format!(
                "{name} in {}",
                file.strip_prefix(dir.path()).unwrap().display()
            ));
        }
        let start = std::time::Instant::now();
        let checked = check_run(dir.path(), &files);
        eprintln!(
            "case {case}: {:?} {} ({})",
            start.elapsed(),
            project.display(),
            applied.join(", ")
        );
        if let Err(e) = checked {
            failures.push(format!(
                "case {case} ({}; {}): {e}",
                project.display(),
                applied.join(", ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed:#x}:\n{}",
        failures.join("\n")
    );
}
