//! Hostile paths and inputs (issue 13): FIFOs and devices named on the
//! command line, runs that lint nothing, deep nesting. Every run here must
//! return promptly with its warnings and keep the other files' findings.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const FLASK_LIMITER: &str = r#"from flask import Flask, abort, request

app = Flask(__name__)
hits = {}


@app.route("/login", methods=["POST"])
def login():
    ip = request.remote_addr
    hits[ip] = hits.get(ip, 0) + 1
    if hits[ip] > 5:
        app.logger.warning("rate limited %s", ip)
        return "slow down", 429, {"Retry-After": "60"}
    return "ok"


@app.after_request
def forget_everyone_now_and_then(response):
    if len(hits) > 10_000:
        hits.clear()
    return response
"#;

/// Run ratecheck in `dir`; a run that hangs is killed after `limit` and
/// fails the test instead of blocking the suite.
fn run_within(dir: &Path, args: &[&str], limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ratecheck"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "ratecheck {args:?} did not return within {limit:?}; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    (child.wait_with_output().unwrap(), elapsed)
}

fn run(dir: &Path, args: &[&str]) -> Output {
    run_within(dir, args, Duration::from_secs(60)).0
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn project_with_limiter() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), FLASK_LIMITER).unwrap();
    dir
}

/// The run over a FIFO and a device returns at once (measured: about
/// 0.03 s in a debug build; the bound leaves room for a busy machine).
const PROMPT: Duration = Duration::from_secs(2);

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_is_skipped_with_a_warning() {
    let dir = project_with_limiter();
    let made = Command::new("mkfifo")
        .arg(dir.path().join("x.py"))
        .status()
        .unwrap();
    assert!(made.success());
    let (o, took) = run_within(
        dir.path(),
        &["--isolated", "--format", "concise", ".", "x.py"],
        Duration::from_secs(30),
    );
    assert!(took < PROMPT, "took {took:?}");
    let err = stderr(&o);
    assert!(
        err.contains("warning: x.py: skipped: not a regular file or folder: a FIFO"),
        "{err}"
    );
    // The other file's finding is kept, and a warning is not an error.
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(stdout(&o).contains("app.py:4:1: RATE002"), "{}", stdout(&o));
}

#[cfg(unix)]
#[test]
fn a_device_named_on_the_command_line_is_never_read() {
    let dir = project_with_limiter();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.py")).unwrap();
    std::os::unix::fs::symlink("/dev/urandom", dir.path().join("noise.js")).unwrap();
    let (o, took) = run_within(
        dir.path(),
        &[
            "--isolated",
            "--format",
            "concise",
            "--statistics",
            ".",
            "zero.py",
            "noise.js",
        ],
        Duration::from_secs(30),
    );
    assert!(took < PROMPT, "took {took:?}");
    let err = stderr(&o);
    assert!(
        err.contains("warning: zero.py: skipped: not a regular file or folder: a device"),
        "{err}"
    );
    assert!(err.contains("warning: noise.js: skipped"), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(stdout(&o).contains("app.py:4:1: RATE002"), "{}", stdout(&o));
    // Symlinks met while walking the folder are not followed at all.
    assert!(
        err.contains("files: 3 seen, 1 linted") && err.contains("2 skipped (2 not a regular file)"),
        "{err}"
    );
}

#[test]
fn a_run_that_lints_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let o = run(dir.path(), &["--isolated", "empty"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains(
            "warning: nothing linted: no Python, JavaScript or TypeScript files found in `empty`"
        ),
        "{}",
        stderr(&o)
    );
    // A .gitignore that ignores everything.
    let ignored = dir.path().join("ignored");
    std::fs::create_dir(&ignored).unwrap();
    std::fs::write(ignored.join(".gitignore"), "*\n").unwrap();
    std::fs::write(ignored.join("app.py"), FLASK_LIMITER).unwrap();
    let o = run(dir.path(), &["--isolated", "ignored", "empty"]);
    assert!(
        stderr(&o).contains("found in `ignored`, `empty`"),
        "{}",
        stderr(&o)
    );
    // Files found but all skipped.
    let binary = dir.path().join("binary");
    std::fs::create_dir(&binary).unwrap();
    std::fs::write(binary.join("blob.py"), b"\0\0\0").unwrap();
    let o = run(dir.path(), &["--isolated", "--statistics", "binary"]);
    let err = stderr(&o);
    assert!(
        err.contains("nothing linted: every file found in `binary` was skipped"),
        "{err}"
    );
    assert!(
        err.contains("files: 1 seen, 0 linted (0 bytes), 1 skipped (1 binary)"),
        "{err}"
    );
    // --quiet silences the warning, as it does every warning.
    let o = run(dir.path(), &["--isolated", "--quiet", "empty"]);
    assert_eq!(stderr(&o), "");
}

#[test]
fn statistics_count_files_seen_linted_and_skipped() {
    let dir = project_with_limiter();
    std::fs::write(dir.path().join("blob.js"), b"\0binary").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"hello").unwrap();
    let long_line = format!("var x = '{}';\n", "a".repeat(300 * 1024));
    std::fs::write(dir.path().join("bundle.js"), long_line).unwrap();
    let o = run(
        dir.path(),
        &["--isolated", "--statistics", ".", "notes.txt"],
    );
    let err = stderr(&o);
    assert!(
        err.contains("files: 4 seen, 1 linted (",)
            && err.contains("3 skipped (1 binary, 1 minified or generated, 1 not a source file)"),
        "{err}"
    );
}

#[test]
fn a_file_over_the_time_budget_is_skipped_and_the_rest_reported() {
    let dir = project_with_limiter();
    // About 4 MB of ordinary code: far longer than 0.2 s to parse in any
    // build, while app.py takes milliseconds.
    let mut big = String::from("const express = require('express');\n");
    for i in 0..100_000 {
        big += &format!(
            "const value{i} = compute(value{}, {{ key: 'k{i}' }});\n",
            i / 2
        );
    }
    std::fs::write(dir.path().join("big.js"), big).unwrap();
    let (o, took) = run_within_env(
        dir.path(),
        &["--isolated", "--format", "concise", "--statistics"],
        ("RATECHECK_FILE_TIMEOUT", "0.2"),
    );
    let err = stderr(&o);
    assert!(
        err.contains("warning: big.js: skipped: parsing and analysis took longer than the 0.2 s budget for one file"),
        "{err}"
    );
    assert!(err.contains("1 over the time budget"), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(stdout(&o).contains("app.py:4:1: RATE002"), "{}", stdout(&o));
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

fn run_within_env(dir: &Path, args: &[&str], env: (&str, &str)) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_ratecheck"))
        .args(args)
        .env(env.0, env.1)
        .current_dir(dir)
        .output()
        .unwrap();
    (o, start.elapsed())
}

/// What the ignore-file and configuration cases below must return within:
/// they do no analysis to speak of (about 0.03 s when measured).
const WITHIN_A_SECOND: Duration = Duration::from_secs(1);

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn ignore_files_that_are_fifos_or_devices_do_not_block_the_walk() {
    let dir = project_with_limiter();
    let root = dir.path();
    // Outside the hostile folders, ignore files still work.
    std::fs::write(root.join(".gitignore"), "generated/\n").unwrap();
    std::fs::create_dir(root.join("generated")).unwrap();
    std::fs::write(root.join("generated/gen.py"), FLASK_LIMITER).unwrap();
    // A folder whose .gitignore is a FIFO: its files are still linted.
    std::fs::create_dir_all(root.join("api/deeper")).unwrap();
    mkfifo(&root.join("api/.gitignore"));
    std::fs::write(root.join("api/views.py"), FLASK_LIMITER).unwrap();
    std::fs::write(root.join("api/deeper/more.py"), FLASK_LIMITER).unwrap();
    // Below it, another FIFO is never opened either.
    mkfifo(&root.join("api/deeper/.ignore"));
    // A folder whose .ignore is a device.
    std::fs::create_dir(root.join("web")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("web/.ignore")).unwrap();
    std::fs::write(root.join("web/server.py"), FLASK_LIMITER).unwrap();
    // An excluded folder stays excluded, hostile ignore file or not.
    std::fs::create_dir(root.join("node_modules")).unwrap();
    mkfifo(&root.join("node_modules/.gitignore"));
    std::fs::write(root.join("node_modules/lib.py"), FLASK_LIMITER).unwrap();
    let (o, took) = run_within(
        root,
        &["--isolated", "--format", "concise", "."],
        Duration::from_secs(20),
    );
    assert!(took < WITHIN_A_SECOND, "took {took:?}");
    let err = stderr(&o);
    assert!(
        err.contains("warning: api/.gitignore: ignore file skipped: a FIFO (named pipe), not a regular file; files in `api` were linted without ignore files"),
        "{err}"
    );
    assert!(
        err.contains("warning: web/.ignore: ignore file skipped: a device"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(1), "{err}");
    let out = stdout(&o);
    for linted in [
        "app.py",
        "api/views.py",
        "api/deeper/more.py",
        "web/server.py",
    ] {
        assert!(
            out.contains(&format!("{linted}:4:1: RATE002")),
            "{linted}: {out}"
        );
    }
    assert!(
        !out.contains("generated/"),
        "the root .gitignore still applies: {out}"
    );
    assert!(
        !out.contains("node_modules") && !err.contains("node_modules"),
        "{out}{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_ignore_file_at_or_above_the_root_does_not_block_the_walk() {
    for hostile in [".gitignore", ".git/info/exclude"] {
        let dir = project_with_limiter();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git/info")).unwrap();
        mkfifo(&root.join(hostile));
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(root.join("src/views.py"), FLASK_LIMITER).unwrap();
        // From the root, and from a folder below it (the crate reads the
        // ignore files of every parent folder).
        for (cwd, arg) in [(root.to_path_buf(), "."), (root.join("src"), ".")] {
            let (o, took) = run_within(
                &cwd,
                &["--isolated", "--format", "concise", arg],
                Duration::from_secs(20),
            );
            assert!(took < WITHIN_A_SECOND, "{hostile}: took {took:?}");
            let err = stderr(&o);
            assert!(
                err.contains(&format!("{hostile}: ignore file skipped: a FIFO")),
                "{hostile}: {err}"
            );
            assert!(
                stdout(&o).contains("views.py:4:1: RATE002"),
                "{}",
                stdout(&o)
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn config_baseline_and_dump_facts_on_a_fifo_or_device_fail_at_once() {
    let dir = project_with_limiter();
    let root = dir.path();
    mkfifo(&root.join("pipe.toml"));
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.toml")).unwrap();
    mkfifo(&root.join("pipe.py"));
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.py")).unwrap();
    mkfifo(&root.join("pipe.json"));
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.json")).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--config", "pipe.toml", "."],
            "pipe.toml: cannot read: a FIFO (named pipe), not a regular file",
        ),
        (
            &["--config", "zero.toml", "."],
            "zero.toml: cannot read: a device, not a regular file",
        ),
        (
            &["--dump-facts", "pipe.py"],
            "pipe.py: a FIFO (named pipe), not a regular file",
        ),
        (
            &["--dump-facts", "zero.py"],
            "zero.py: a device, not a regular file",
        ),
        (
            &["--baseline", "pipe.json", "app.py"],
            "cannot read baseline pipe.json: a FIFO (named pipe), not a regular file",
        ),
        (
            &["--baseline", "zero.json", "app.py"],
            "cannot read baseline zero.json: a device, not a regular file",
        ),
    ];
    for (args, message) in cases {
        let (o, took) = run_within(root, args, Duration::from_secs(20));
        assert!(took < WITHIN_A_SECOND, "{args:?} took {took:?}");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

/// tree-sitter-python's scanner keeps its indent stack in a 1 KiB buffer
/// and aborts the whole process (a C `assert`) when about 510 levels are
/// open inside a string. Such a file is skipped with a warning; the other
/// files keep their findings.
#[test]
fn python_indented_deeper_than_the_parser_can_follow_is_skipped() {
    let dir = project_with_limiter();
    let mut deep = String::from("def f():\n");
    for level in 1..520 {
        deep.push_str(&format!("{}if x:\n", " ".repeat(level)));
    }
    deep.push_str(&format!("{}y = \"abc\"\n", " ".repeat(520)));
    std::fs::write(dir.path().join("deep.py"), deep).unwrap();
    let o = run(dir.path(), &["--isolated", "--format", "concise", "."]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("warning: deep.py: skipped: more than 360 indentation levels"),
        "{err}"
    );
    assert!(stdout(&o).contains("app.py:4:1: RATE002"), "{}", stdout(&o));
}

/// A long line of names before an assignment parses as one destructuring
/// of the value into every name; each name's statement reads the same
/// call. That call is one finding, found in time linear in the names (it
/// was reported 27,000 times, in 12 s, quadratic in the calls seen).
#[test]
fn a_call_destructured_into_many_names_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let names = "req.ip, ".repeat(20_000);
    let src = format!(
        "from fastapi import Depends, FastAPI\nfrom fastapi_limiter.depends import RateLimiter\n\n\ndef build():\n{names}\n    app = FastAPI(dependencies=[Depends(RateLimiter(times=5, seconds=60))])\n    return app\n"
    );
    std::fs::write(dir.path().join("app.py"), src).unwrap();
    let (o, took) = run_within(
        dir.path(),
        &[
            "--isolated",
            "--format",
            "concise",
            "--select",
            "RATE003",
            ".",
        ],
        Duration::from_secs(60),
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let out = stdout(&o);
    assert_eq!(out.matches("RATE003").count(), 1, "{out}");
}
