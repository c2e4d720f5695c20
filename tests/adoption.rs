//! End-to-end tests of what a team needs to adopt ratecheck: baselines,
//! file arguments judged in their project (pre-commit, editors), stdin,
//! suppression hygiene, configuration anchored at the config file, and
//! output that CI trusts.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ratecheck");

// One finding: RATE002 (state in process memory); pruned, logged, Retry-After.
mod common;
use common::FLASK_LIMITER;

// An Express app whose limiter is applied app-wide in app.js, before the
// route modules are mounted; the route modules have no limiter of their own.
const EXPRESS_APP: &str = r#"const express = require('express');
const rateLimit = require('express-rate-limit');
const { RedisStore } = require('rate-limit-redis');
const users = require('./routes/users');
const app = express();
app.set('trust proxy', 1);
app.use(rateLimit({ windowMs: 60_000, limit: 100, store: new RedisStore({ sendCommand: (...a) => client.sendCommand(a) }), passOnStoreError: true }));
app.use('/users', users);
module.exports = app;
"#;

const EXPRESS_USERS: &str = r#"const express = require('express');
const router = express.Router();
router.post('/login', (req, res) => res.json({ ok: true }));
router.post('/password-reset', (req, res) => res.json({ ok: true }));
module.exports = router;
"#;

// The same routes on a router nobody limits: RATE001.
const EXPRESS_UNMOUNTED: &str = r#"const express = require('express');
const app = express();
app.post('/login', (req, res) => res.json({ ok: true }));
app.listen(3000);
"#;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let p = Project { dir };
        for (path, content) in files {
            p.write(path, content);
        }
        p
    }

    fn write(&self, path: &str, content: &str) {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in("", args)
    }

    fn run_in(&self, sub: &str, args: &[&str]) -> Output {
        command(&self.path().join(sub), args).output().unwrap()
    }
}

fn command(cwd: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("FORCE_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_ACTIONS");
    c
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// (rule, path, line, column, fingerprint) of every finding in a JSON report.
fn finding_keys(report: &Value) -> Vec<(String, String, u64, u64, String)> {
    let mut keys: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

// ------------------------------------------------------------- baselines

#[test]
fn baseline_accepts_todays_findings_reports_new_ones_and_stale_entries() {
    let p = Project::new(&[
        ("api/app.py", FLASK_LIMITER),
        ("web/server.js", EXPRESS_UNMOUNTED),
    ]);
    std::fs::create_dir(p.path().join(".git")).unwrap();
    let o = p.run(&["--format", "concise"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let today = stdout(&o).lines().count();
    assert_eq!(today, 2, "{}", stdout(&o));

    // Writing the baseline succeeds and records every finding.
    let o = p.run(&["--write-baseline", "ratecheck-baseline.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote 2 findings"), "{}", stderr(&o));
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(p.path().join("ratecheck-baseline.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["version"], 1);
    assert_eq!(written["findings"].as_array().unwrap().len(), 2);
    assert_eq!(written["findings"][0]["path"], "api/app.py");

    // With the baseline: nothing new, exit 0, the accepted count on stderr.
    let o = p.run(&[
        "--baseline",
        "ratecheck-baseline.json",
        "--format",
        "concise",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("2 findings accepted, 0 stale entries"),
        "{}",
        stderr(&o)
    );

    // Edits that move the findings to other lines keep them accepted, also
    // when run from a subfolder (paths are relative to the repository).
    p.write(
        "api/app.py",
        &format!("# a new header line\n\n{FLASK_LIMITER}"),
    );
    let o = p.run_in(
        "api",
        &[
            "--baseline",
            "../ratecheck-baseline.json",
            "--format",
            "concise",
            ".",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("1 finding accepted, 0 stale entries"),
        "{}",
        stderr(&o)
    );

    // A new finding is reported and fails the run; the old ones stay accepted.
    p.write(
        "web/signup.js",
        &EXPRESS_UNMOUNTED.replace("/login", "/signup"),
    );
    let o = p.run(&[
        "--baseline",
        "ratecheck-baseline.json",
        "--format",
        "concise",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with("web/signup.js:3:1: ") && out.contains("RATE001"),
        "{out}"
    );

    // A fixed finding leaves a stale entry, named on stderr and in JSON.
    std::fs::remove_file(p.path().join("web/server.js")).unwrap();
    let o = p.run(&["--baseline", "ratecheck-baseline.json", "--format", "json"]);
    let err = stderr(&o);
    assert!(
        err.contains("web/server.js: stale baseline entry RATE001")
            && err.contains("1 stale entry"),
        "{err}"
    );
    let doc = json(&o);
    assert_eq!(doc["summary"]["baseline_accepted"], 1);
    assert_eq!(doc["summary"]["baseline_stale"], 1);

    // A broken baseline is a clear error (exit 2) with line and column.
    p.write("bad.json", "{ \"version\": 1, \"findings\": [ }");
    let o = p.run(&["--baseline", "bad.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.json:1:"), "{}", stderr(&o));
}

// ---------------------------------------------- file arguments, stdin

#[test]
fn a_route_file_is_judged_with_the_app_wide_limiter_in_another_file() {
    let p = Project::new(&[
        ("package.json", "{}"),
        ("src/app.js", EXPRESS_APP),
        ("src/routes/users.js", EXPRESS_USERS),
        ("src/routes/unmounted.js", EXPRESS_UNMOUNTED),
    ]);
    // The full run: only the unmounted app's route is unprotected.
    let full = p.run(&["--format", "concise", "--select", "RATE001"]);
    assert_eq!(
        stdout(&full),
        "src/routes/unmounted.js:3:1: RATE001 [error] `POST /login` (inline handler): a brute-force target with no rate limit at route, router or app level\n",
        "{}",
        stderr(&full)
    );
    // The route file alone (as pre-commit passes it): same verdict, silent.
    for (cwd, arg) in [
        ("", "src/routes/users.js"),
        ("src/routes", "users.js"),
        ("src", "./routes/users.js"),
    ] {
        let o = p.run_in(cwd, &["--format", "concise", arg]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{cwd} {arg}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        assert_eq!(stdout(&o), "", "{cwd} {arg}");
    }
    // Files named on the command line are the only ones reported on, and
    // the summary counts them.
    let o = p.run_in("src", &["routes/users.js", "routes/unmounted.js"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("routes/unmounted.js:3:1"), "{out}");
    assert!(out.contains("in 1 file."), "{out}");
    let o = p.run(&["--format", "json", "src/routes/users.js"]);
    assert_eq!(json(&o)["summary"]["files_seen"], 1);
    // The verdict comes from the project: without the app-wide limiter,
    // the same route file is flagged.
    p.write(
        "src/app.js",
        &EXPRESS_APP
            .lines()
            .filter(|l| !l.contains("rateLimit") && !l.contains("RedisStore"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let o = p.run_in(
        "src/routes",
        &["--format", "concise", "--select", "RATE001", "users.js"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("users.js:3:1: RATE001"),
        "{}",
        stdout(&o)
    );
    p.write("src/app.js", EXPRESS_APP);

    // Standard input linted as a file of its project (an unsaved buffer).
    let mut child = command(
        &p.path().join("src"),
        &["--format", "concise", "--stdin-filename", "routes/users.js"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"const hits = new Map();\nconst { Router } = require('express');\nconst router = Router();\nrouter.post('/login', (req, res) => res.json({}));\nmodule.exports = router;\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // A new file that exists only in the editor, with an unmounted app.
    let mut child = command(
        &p.path().join("src"),
        &["--format", "concise", "--stdin-filename", "routes/new.js"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(EXPRESS_UNMOUNTED.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("routes/new.js:3:1: "),
        "{}",
        stdout(&o)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn source_files(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            source_files(&p, base, out);
        } else if ratecheck::lang::Lang::from_path(&p).is_some() {
            out.push(
                p.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// Every fixture project, copied into a folder of its own with a
/// `ratecheck.toml` (a project root): `ratecheck FILE` must give exactly
/// the full run's findings for FILE.
#[test]
fn every_fixture_file_alone_gets_the_full_runs_findings() {
    let mut projects: Vec<PathBuf> = Vec::new();
    for lang in std::fs::read_dir("fixtures").unwrap() {
        for rule_dir in std::fs::read_dir(lang.unwrap().path()).unwrap() {
            for project in std::fs::read_dir(rule_dir.unwrap().path()).unwrap() {
                let project = project.unwrap().path();
                if project.is_dir() || ratecheck::lang::Lang::from_path(&project).is_some() {
                    projects.push(project);
                }
            }
        }
    }
    projects.sort();
    assert!(projects.len() > 100, "fixtures not found");
    let scratch = tempfile::tempdir().unwrap();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let chunks: Vec<Vec<(usize, PathBuf)>> = (0..threads)
        .map(|t| {
            projects
                .iter()
                .cloned()
                .enumerate()
                .filter(|(i, _)| i % threads == t)
                .collect()
        })
        .collect();
    let scratch_path = scratch.path().to_path_buf();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let scratch = scratch_path.clone();
                s.spawn(move || {
                    let mut failures = Vec::new();
                    let mut files_checked = 0;
                    for (i, project) in chunk {
                        let root = scratch.join(format!("p{i}"));
                        if project.is_dir() {
                            copy_dir(&project, &root);
                        } else {
                            std::fs::create_dir_all(&root).unwrap();
                            std::fs::copy(&project, root.join(project.file_name().unwrap()))
                                .unwrap();
                        }
                        std::fs::write(root.join("ratecheck.toml"), "").unwrap();
                        let full =
                            json(&command(&root, &["--format", "json", "."]).output().unwrap());
                        let mut files = Vec::new();
                        source_files(&root, &root, &mut files);
                        files.sort();
                        for file in files {
                            files_checked += 1;
                            let want: Vec<_> = finding_keys(&full)
                                .into_iter()
                                .filter(|k| k.1 == file)
                                .collect();
                            let alone = json(
                                &command(&root, &["--format", "json", &file])
                                    .output()
                                    .unwrap(),
                            );
                            let got = finding_keys(&alone);
                            if got != want {
                                failures.push(format!(
                                    "{} ({file}): alone {got:?}, full run {want:?}",
                                    project.display()
                                ));
                            }
                        }
                    }
                    (failures, files_checked)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut checked = 0;
        for h in handles {
            let (f, n) = h.join().unwrap();
            all.extend(f);
            checked += n;
        }
        assert!(checked > projects.len(), "only {checked} files checked");
        all
    });
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------- suppression hygiene

const FLASK_UNLIMITED: &str = r#"from flask import Flask

app = Flask(__name__)


@app.route(
    "/login",
    methods=["POST"],
)
def login():  # ratecheck: ignore[RATE001]
    return "ok"


@app.route("/password-reset", methods=["POST"])
def reset():
    return "ok"
"#;

#[test]
fn a_python_route_finding_is_suppressed_on_its_def_line() {
    let p = Project::new(&[("app.py", FLASK_UNLIMITED)]);
    let o = p.run(&["--format", "concise"]);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("app.py:14:1: RATE001"), "{out}");
    // Without the comment, the finding is on the first decorator's line.
    p.write(
        "app.py",
        &FLASK_UNLIMITED.replace("  # ratecheck: ignore[RATE001]", ""),
    );
    let o = p.run(&["--format", "concise"]);
    assert!(
        stdout(&o).starts_with("app.py:6:1: RATE001"),
        "{}",
        stdout(&o)
    );
    p.write("app.py", FLASK_UNLIMITED);
    // The comment is used: not reported as unused.
    let o = p.run(&["--format", "concise", "--report-unused-ignores"]);
    assert!(!stderr(&o).contains("unused"), "{}", stderr(&o));
}

#[test]
fn unknown_codes_and_unused_ignores_are_reported() {
    let src = FLASK_LIMITER
        .replace(
            "hits = {}",
            "hits = {}  # ratecheck: ignore[RATE002, RATE007]",
        )
        .replace(
            "app = Flask(__name__)",
            "app = Flask(__name__)  # ratecheck: ignore[RATE005]",
        )
        .replace("import time", "import time  # ratecheck: ignore[RATE0002]");
    let p = Project::new(&[("app.py", &src)]);
    let o = p.run(&["--format", "concise"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("app.py: line 1: unknown rule `RATE0002` in a `ratecheck: ignore` comment"),
        "{err}"
    );
    assert!(!err.contains("unused"), "only on request: {err}");

    let o = p.run(&["--format", "concise", "--report-unused-ignores"]);
    assert_eq!(o.status.code(), Some(1), "unused ignores fail the run");
    let err = stderr(&o);
    let unused: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("unused suppression"))
        .collect();
    assert_eq!(
        unused,
        [
            "ratecheck: warning: app.py:4: unused suppression `ratecheck: ignore[RATE005]`: no RATE005 finding here to silence",
            "ratecheck: warning: app.py:5: unused suppression `ratecheck: ignore[RATE007]`: no RATE007 finding here to silence",
        ],
        "{err}"
    );
    // Codes of rules that did not run are not judged.
    let o = p.run(&["--report-unused-ignores", "--select", "RATE002"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The same from the configuration file.
    p.write("ratecheck.toml", "report-unused-ignores = true\n");
    let o = p.run(&["--format", "concise"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn add_ignores_silences_every_current_finding() {
    let p = Project::new(&[
        ("api/app.py", FLASK_LIMITER),
        ("web/server.js", EXPRESS_UNMOUNTED),
        (
            "web/app.js",
            "const hits = new Map(); // ratecheck: ignore[RATE005]\n",
        ),
    ]);
    let before = p.run(&["--format", "concise"]);
    assert_eq!(before.status.code(), Some(1));
    let o = p.run(&["--add-ignores"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("added 2 `ratecheck: ignore` comments in 2 files"),
        "{}",
        stderr(&o)
    );
    let py = std::fs::read_to_string(p.path().join("api/app.py")).unwrap();
    assert!(
        py.contains("hits = {}  # ratecheck: ignore[RATE002]\n"),
        "{py}"
    );
    let js = std::fs::read_to_string(p.path().join("web/server.js")).unwrap();
    assert!(
        js.contains("res.json({ ok: true }));  // ratecheck: ignore[RATE001]\n"),
        "{js}"
    );
    let after = p.run(&["--format", "concise"]);
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
    assert_eq!(stdout(&after), "");
}

// ---------------------------------------------------------- configuration

#[test]
fn config_excludes_are_anchored_at_the_config_folder_and_per_file_ignores_apply() {
    let p = Project::new(&[
        (
            "ratecheck.toml",
            "exclude = [\"gen/out\"]\n[per-file-ignores]\n\"scripts/**\" = [\"RATE002\"]\n\"legacy\" = [\"RATE0\"]\n",
        ),
        ("gen/out/a.py", FLASK_LIMITER),
        ("sub/gen/out/b.py", FLASK_LIMITER),
        ("scripts/c.py", FLASK_LIMITER),
        ("web/legacy/d.js", EXPRESS_UNMOUNTED),
        ("web/e.js", EXPRESS_UNMOUNTED),
    ]);
    let files = |o: &Output| -> Vec<String> {
        let mut v: Vec<String> = stdout(o)
            .lines()
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect();
        v.dedup();
        v
    };
    let o = p.run(&["--format", "concise"]);
    assert_eq!(
        files(&o),
        ["sub/gen/out/b.py", "web/e.js"],
        "{}",
        stderr(&o)
    );
    // The same verdicts from a subfolder: `gen/out` is the config folder's.
    let o = p.run_in("sub", &["--format", "concise", "."]);
    assert_eq!(files(&o), ["gen/out/b.py"], "{}", stderr(&o));
    // A folder named on the command line is linted even if excluded.
    let o = p.run(&["--format", "concise", "gen/out"]);
    assert_eq!(files(&o), ["gen/out/a.py"], "{}", stderr(&o));
    // Bad per-file-ignores are errors naming the key.
    p.write(
        "ratecheck.toml",
        "[per-file-ignores]\n\"x/**\" = [\"RATE999\"]\n",
    );
    let o = p.run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("per-file-ignores") && stderr(&o).contains("RATE999"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn test_folders_are_judged_below_the_project_root_and_counted() {
    let p = Project::new(&[
        ("spec/service/package.json", "{}"),
        ("spec/service/server.js", EXPRESS_UNMOUNTED),
        ("tests/fake/server.js", EXPRESS_UNMOUNTED),
    ]);
    std::fs::create_dir(p.path().join(".git")).unwrap();
    // A project kept under spec/ is linted from its parent as from inside.
    let o = p.run(&["--color", "never"]);
    let out = stdout(&o);
    assert!(out.contains("spec/service/server.js:3:1"), "{out}");
    assert!(!out.contains("tests/fake"), "{out}");
    assert!(
        out.contains("in 1 file (1 test file not judged; --include-tests lints them)."),
        "{out}"
    );
    let inside = p.run_in("spec/service", &["--format", "concise"]);
    assert_eq!(inside.status.code(), Some(1));
    assert!(stdout(&inside).starts_with("server.js:3:1"));
    // --include-tests (or include-tests in the config) judges test folders.
    let o = p.run(&["--format", "concise", "--include-tests"]);
    assert!(
        stdout(&o).contains("tests/fake/server.js:3:1"),
        "{}",
        stdout(&o)
    );
    p.write("ratecheck.toml", "include-tests = true\n");
    let o = p.run(&["--format", "json"]);
    assert_eq!(json(&o)["summary"]["test_files_not_judged"], 0);
    assert_eq!(json(&o)["summary"]["findings"], 2);
}

#[test]
fn this_repository_lints_clean_with_its_own_configuration() {
    let o = command(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["--format", "concise", "."],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    // The fixtures are still linted when named.
    let o = command(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "--format",
            "concise",
            "--select",
            "RATE002",
            "fixtures/python/RATE002",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

// ------------------------------------------------------------- CI output

const EXPRESS_MULTILINE: &str = "const express = require('express');\nconst app = express();\napp.post('/login', (req, res) => {\n  res.json({ ok: true });\n});\napp.listen(3000);\n";

#[test]
fn sarif_and_github_paths_are_relative_to_the_repository_root_from_any_folder() {
    let p = Project::new(&[("services/web/server.js", EXPRESS_MULTILINE)]);
    std::fs::create_dir(p.path().join(".git")).unwrap();
    for (cwd, arg) in [
        ("", "."),
        ("services", "web"),
        ("services/web", "."),
        ("services/web", "server.js"),
    ] {
        let o = p.run_in(cwd, &["--output-format", "sarif", arg]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        let loc =
            &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uri"], "services/web/server.js", "from {cwd:?} {arg}");
        assert_eq!(loc["uriBaseId"], "%SRCROOT%");
        let o = p.run_in(cwd, &["--format", "github", arg]);
        // A finding over several lines: no columns (GitHub misplaces them).
        assert!(
            stdout(&o).starts_with("::error file=services/web/server.js,line=3,endLine=5,title=RATE001 unprotected-route::"),
            "from {cwd:?}: {}",
            stdout(&o)
        );
        // Text stays relative to the working directory, for people.
        let o = p.run_in(cwd, &["--format", "concise", arg]);
        let want = match cwd {
            "" => "services/web/server.js:3:1:",
            "services" => "web/server.js:3:1:",
            _ => "server.js:3:1:",
        };
        assert!(stdout(&o).starts_with(want), "{cwd:?}: {}", stdout(&o));
    }
    // One-line findings keep their columns.
    let q = Project::new(&[("app.py", FLASK_LIMITER)]);
    let o = q.run(&["--format", "github"]);
    assert!(
        stdout(&o).contains("file=app.py,line=5,col=1,endLine=5,endColumn=10,"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn project_root_overrides_the_report_root() {
    // A monorepo whose code scanning is set up per service: paths and
    // fingerprints relative to the service, not to the repository.
    let p = Project::new(&[("services/web/server.js", EXPRESS_MULTILINE)]);
    std::fs::create_dir(p.path().join(".git")).unwrap();
    let sarif_uri = |o: &Output| {
        let v: Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(o)));
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let fingerprint = |o: &Output| {
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["runs"][0]["results"][0]["partialFingerprints"]["ratecheck/v1"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let repo = p.run_in("services/web", &["--format", "sarif", "."]);
    assert_eq!(sarif_uri(&repo), "services/web/server.js");
    for (cwd, root) in [
        ("services/web", "."),
        ("services", "web"),
        ("", "services/web"),
    ] {
        let o = p.run_in(cwd, &["--format", "sarif", "--project-root", root, "."]);
        assert_eq!(sarif_uri(&o), "server.js", "from {cwd:?} with {root}");
        assert_ne!(
            fingerprint(&o),
            fingerprint(&repo),
            "the path is in the fingerprint"
        );
        let o = p.run_in(cwd, &["--format", "github", "--project-root", root, "."]);
        assert!(
            stdout(&o).starts_with("::error file=server.js,line=3,"),
            "from {cwd:?}: {}",
            stdout(&o)
        );
    }
    // Same root, same fingerprints, wherever it runs from.
    let a = p.run_in(
        "services/web",
        &["--format", "sarif", "--project-root", ".", "."],
    );
    let b = p.run_in(
        "",
        &[
            "--format",
            "sarif",
            "--project-root",
            "services/web",
            "services",
        ],
    );
    assert_eq!(fingerprint(&a), fingerprint(&b));
    // A baseline written with the override matches runs with it.
    let base = p.path().join("base.json");
    let w = p.run_in(
        "services/web",
        &[
            "--write-baseline",
            base.to_str().unwrap(),
            "--project-root",
            ".",
        ],
    );
    assert_eq!(w.status.code(), Some(0), "{}", stderr(&w));
    let written = std::fs::read_to_string(&base).unwrap();
    assert!(written.contains("\"server.js\""), "{written}");
    let o = p.run_in(
        "",
        &[
            "--baseline",
            base.to_str().unwrap(),
            "--project-root",
            "services/web",
            "services/web",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Not a folder: a usage error, not a silent change of every path.
    let o = p.run(&["--project-root", "nowhere", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--project-root nowhere: not a folder"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn output_format_alias_forced_colour_and_severity_in_concise_lines() {
    let p = Project::new(&[("app.py", FLASK_LIMITER)]);
    let o = p.run(&["--output-format", "concise"]);
    assert!(
        stdout(&o).starts_with("app.py:5:1: RATE002 [warning] `hits`"),
        "{}",
        stdout(&o)
    );
    let plain = p.run(&[]);
    assert!(!stdout(&plain).contains('\u{1b}'), "no colour into a pipe");
    for (var, value, coloured) in [
        ("FORCE_COLOR", "1", true),
        ("CLICOLOR_FORCE", "1", true),
        ("FORCE_COLOR", "0", false),
        ("CLICOLOR_FORCE", "0", false),
    ] {
        let o = command(p.path(), &[]).env(var, value).output().unwrap();
        assert_eq!(stdout(&o).contains('\u{1b}'), coloured, "{var}={value}");
    }
    let o = command(p.path(), &["--color", "never"])
        .env("FORCE_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&o).contains('\u{1b}'), "--color never wins");
}
