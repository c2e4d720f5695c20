//! The engine under files that change while they are linted (issue 13).

use super::*;

const LIMITER: &str = "from flask import Flask, abort, request\n\napp = Flask(__name__)\nhits = {}\n\n\n@app.route(\"/login\", methods=[\"POST\"])\ndef login():\n    ip = request.remote_addr\n    hits[ip] = hits.get(ip, 0) + 1\n    if hits[ip] > 5:\n        app.logger.warning(\"limited %s\", ip)\n        return \"slow down\", 429, {\"Retry-After\": \"60\"}\n    return \"ok\"\n";

/// Analyse `path`, then let `change` touch it before the findings are
/// placed (as an editor or a formatter could while ratecheck runs).
fn lint_with_change(path: &Path, change: impl FnOnce()) -> (Report, Vec<Problem>) {
    let outcome = analyse_file(path);
    let facts = outcome.facts.expect("parsed");
    let digests = HashMap::from([(path.to_path_buf(), outcome.digest.expect("digest"))]);
    change();
    let options = Options {
        rules: vec!["RATE002"],
        ..Default::default()
    };
    let mut problems = Vec::new();
    let report = check_project(
        vec![facts],
        &digests,
        &options,
        &mut problems,
        &mut PhaseTimer::new(),
    );
    (report, problems)
}

#[test]
fn an_unchanged_file_is_placed_from_the_analysed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.py");
    std::fs::write(&path, LIMITER).unwrap();
    let (report, problems) = lint_with_change(&path, || {});
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].start.line, 4);
    assert_eq!(report.sources[&path].text, LIMITER);
}

#[test]
fn a_file_changed_between_parse_and_report_is_never_misplaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.py");
    std::fs::write(&path, LIMITER).unwrap();
    // Lines added above the finding: its old offsets now point elsewhere.
    let (report, problems) = lint_with_change(&path, || {
        std::fs::write(&path, format!("# a new header\n\n{LIMITER}")).unwrap()
    });
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.sources.is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::Error);
    assert!(problems[0]
        .message
        .contains("changed or vanished while being linted"));
    // A file cut short, and one that vanished.
    for change in [
        Box::new(|| std::fs::write(&path, &LIMITER[..20]).unwrap()) as Box<dyn FnOnce()>,
        Box::new(|| std::fs::remove_file(&path).unwrap()),
    ] {
        std::fs::write(&path, LIMITER).unwrap();
        let (report, problems) = lint_with_change(&path, change);
        assert!(report.findings.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
    }
}
