//! Runs every fixture project under `fixtures/<language>/<RULE>/` and
//! compares the rule's findings with the `expect: RULE` annotations
//! (a trailing `# expect: RATE002` / `// expect: RATE002` comment on the
//! line where a finding's primary location starts).
//!
//! Each top-level file in a rule folder is a project of its own; each
//! subfolder is one multi-file project. A folder named `RATE004+RATE005`
//! checks its projects against each rule it names.

use ratecheck::engine::{run, Options};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            source_files(&p, out);
        } else if ratecheck::lang::Lang::from_path(&p).is_some() {
            out.push(p);
        }
    }
}

fn expected(files: &[PathBuf], rule: &str) -> BTreeSet<(String, usize)> {
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let Some(pos) = line.find("expect:") else {
                continue;
            };
            let before = &line[..pos];
            if !(before.trim_end().ends_with('#') || before.trim_end().ends_with("//")) {
                continue;
            }
            if line[pos + 7..].split(',').any(|r| r.trim() == rule) {
                out.insert((f.display().to_string(), i + 1));
            }
        }
    }
    out
}

#[test]
fn fixtures_match_their_annotations() {
    let root = Path::new("fixtures");
    let mut failures = Vec::new();
    let mut projects = 0;
    let mut expected_total = 0;
    for lang in std::fs::read_dir(root).unwrap() {
        let lang = lang.unwrap().path();
        for rule_dir in std::fs::read_dir(&lang).unwrap() {
            let rule_dir = rule_dir.unwrap().path();
            // `RATE004+RATE005+RATE006`: scenarios judged by several rules
            // (one copy of the project, every rule's annotations checked).
            let folder = rule_dir.file_name().unwrap().to_string_lossy().to_string();
            let rules: Vec<String> = folder.split('+').map(str::to_string).collect();
            let mut entries: Vec<_> = std::fs::read_dir(&rule_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            for project in entries {
                let mut files = Vec::new();
                if project.is_dir() {
                    source_files(&project, &mut files);
                } else if ratecheck::lang::Lang::from_path(&project).is_some() {
                    files.push(project.clone());
                } else {
                    continue;
                }
                projects += 1;
                let report = run(&Options {
                    paths: vec![project.clone()],
                    ..Default::default()
                });
                assert!(
                    !report.has_errors(),
                    "{}: {:?}",
                    project.display(),
                    report.problems
                );
                for rule in &rules {
                    let want = expected(&files, rule);
                    expected_total += want.len();
                    let got: BTreeSet<(String, usize)> = report
                        .findings
                        .iter()
                        .filter(|f| f.finding.rule_id == rule.as_str())
                        .map(|f| (f.finding.path.display().to_string(), f.start.line))
                        .collect();
                    for missing in want.difference(&got) {
                        failures.push(format!("missing  {rule} at {}:{}", missing.0, missing.1));
                    }
                    for extra in got.difference(&want) {
                        failures.push(format!("unexpected {rule} at {}:{}", extra.0, extra.1));
                    }
                }
            }
        }
    }
    assert!(projects > 0 && expected_total > 0, "no fixtures found");
    assert!(
        failures.is_empty(),
        "{} fixture mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
