//! End-to-end tests of the `ratecheck` binary: formats, exit codes,
//! configuration, suppressions and bad input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// The sample limiters below have exactly one problem, RATE002 (state in
// process memory): they prune their state, log and send `Retry-After`.
mod common;
use common::FLASK_LIMITER;

const EXPRESS_LIMITER: &str = r#"const express = require('express');
const app = express();
const hits = new Map();

app.use((req, res, next) => {
  const n = (hits.get(req.ip) || 0) + 1;
  hits.set(req.ip, n);
  if (n > 100) { console.warn('rate limited', req.ip); res.set('Retry-After', '60'); return res.status(429).send('slow down'); }
  next();
});
setInterval(() => hits.clear(), 60_000).unref();
app.set('trust proxy', 1);
"#;

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(files: &[(&str, &[u8])]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        Project { dir }
    }

    fn mixed() -> Project {
        Project::new(&[
            ("api/app.py", FLASK_LIMITER.as_bytes()),
            ("web/server.js", EXPRESS_LIMITER.as_bytes()),
            ("web/clean.ts", b"export const answer: number = 42;\n"),
        ])
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ratecheck"))
            .args(args)
            .current_dir(self.path())
            .env_remove("NO_COLOR")
            .output()
            .unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn text_output_shows_snippet_labels_help_and_summary() {
    let p = Project::mixed();
    let o = p.run(&["--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("warning[RATE002]"), "{out}");
    assert!(out.contains("api/app.py:5:1"), "{out}");
    assert!(out.contains("hits = {}"), "{out}");
    assert!(out.contains("updated per client (`ip`) here"), "{out}");
    assert!(out.contains("help: use flask-limiter"), "{out}");
    assert!(out.contains("help: use express-rate-limit"), "{out}");
    // No link to an address that may not exist: the page ships with the tool.
    assert!(out.contains("see: `ratecheck --explain RATE002`"), "{out}");
    assert!(!out.contains("http"), "{out}");
    assert!(
        out.contains("Found 2 findings (0 errors, 2 warnings, 0 notes) in 2 files."),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'), "no colour with --color never");
    let colored = stdout(&p.run(&["--color", "always"]));
    assert!(colored.contains('\u{1b}'), "colour with --color always");
}

#[test]
fn concise_output_is_one_sorted_line_per_finding() {
    let p = Project::mixed();
    let o = p.run(&["--format", "concise"]);
    assert_eq!(
        stdout(&o),
        "api/app.py:5:1: RATE002 [warning] `hits` keeps rate-limit state in process memory: it resets on every restart and each worker or instance counts on its own\n\
         web/server.js:3:1: RATE002 [warning] `hits` keeps rate-limit state in process memory: it resets on every restart and each worker or instance counts on its own\n"
    );
}

#[test]
fn output_is_deterministic_across_thread_counts() {
    let p = Project::mixed();
    let one = p.run(&["--format", "json", "--jobs", "1"]);
    let many = p.run(&["--format", "json", "--jobs", "8"]);
    assert_eq!(stdout(&one), stdout(&many));
}

/// Rules query the model from several threads: an answer must not depend
/// on which query ran first (a shared cache of export lookups once made a
/// fixture folder's findings change from run to run).
#[test]
fn model_queries_are_deterministic_across_threads_on_large_projects() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for folder in ["javascript/RATE004", "python/RATE004+RATE005+RATE006"] {
        let run = |jobs: &str| {
            let o = Command::new(env!("CARGO_BIN_EXE_ratecheck"))
                .args([".", "--format", "json", "--jobs", jobs])
                .current_dir(root.join(folder))
                .output()
                .unwrap();
            stdout(&o)
        };
        let one = run("1");
        assert!(one.contains("RATE004"), "{folder}: {one}");
        for _ in 0..4 {
            assert_eq!(one, run("4"), "{folder}");
        }
    }
}

#[test]
fn json_output_follows_the_documented_schema() {
    let p = Project::mixed();
    let o = p.run(&["--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["tool"]["name"], "ratecheck");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "RATE002");
    assert_eq!(f["name"], "in-memory-limiter");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["path"], "api/app.py");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(f["labels"][0]["line"], 11);
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 16);
    assert_eq!(v["summary"]["findings"], 2);
    assert_eq!(v["summary"]["files_seen"], 3);
}

#[test]
fn sarif_output_has_rules_locations_and_fingerprints() {
    let p = Project::new(&[("src dir/lïmit.py", FLASK_LIMITER.as_bytes())]);
    let o = p.run(&["--format", "sarif"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "utf16CodeUnits");
    assert!(run.get("automationDetails").is_none());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    // Every rule is listed, in id order; RATE001 comes first.
    assert_eq!(rules[0]["id"], "RATE001");
    let rule = &rules[1];
    assert_eq!(rule["id"], "RATE002");
    for key in [
        "shortDescription",
        "fullDescription",
        "help",
        "defaultConfiguration",
        "properties",
    ] {
        assert!(rule.get(key).is_some(), "rule lacks {key}");
    }
    assert!(rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "external/cwe/cwe-770"));
    // No helpUri unless the user says where the pages are published.
    assert!(rule.get("helpUri").is_none());
    assert!(run["tool"]["driver"].get("informationUri").is_none());
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .ends_with("See `ratecheck --explain RATE002`."));
    let linked: Value = serde_json::from_str(&stdout(&p.run(&[
        "--format",
        "sarif",
        "--docs-url",
        "https://docs.example.com/ratecheck/{rule}.html",
    ])))
    .unwrap();
    assert_eq!(
        linked["runs"][0]["tool"]["driver"]["rules"][1]["helpUri"],
        "https://docs.example.com/ratecheck/RATE002.html"
    );
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "RATE002");
    assert_eq!(result["ruleIndex"], 1);
    assert_eq!(result["level"], "warning");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src%20dir/l%C3%AFmit.py");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 5);
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
    assert!(result["partialFingerprints"]["ratecheck/v1"].is_string());
    assert!(result["partialFingerprints"]
        .get("primaryLocationLineHash")
        .is_none());

    let clean = Project::new(&[("ok.py", b"x = 1\n")]);
    let v: Value = serde_json::from_str(&stdout(&clean.run(&[
        "--format",
        "sarif",
        "--sarif-category",
        "api",
    ])))
    .unwrap();
    assert_eq!(
        v["runs"][0]["results"],
        Value::Array(vec![]),
        "always a results array"
    );
    assert_eq!(v["runs"][0]["automationDetails"]["id"], "api/");
}

#[test]
fn sarif_columns_are_utf16_code_units() {
    let src = FLASK_LIMITER.replace("hits = {}", "x = '😀'; hits = {}");
    let p = Project::new(&[("a.py", src.as_bytes())]);
    let v: Value = serde_json::from_str(&stdout(&p.run(&["--format", "sarif"]))).unwrap();
    let region = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    // `x = '😀'; ` is 10 UTF-16 code units (the emoji is two).
    assert_eq!(region["startColumn"], 11);
    let json: Value = serde_json::from_str(&stdout(&p.run(&["--format", "json"]))).unwrap();
    assert_eq!(
        json["findings"][0]["column"], 10,
        "characters in the human formats"
    );
}

#[test]
fn github_output_escapes_and_puts_errors_first() {
    let p = Project::new(&[("a,b:c.py", FLASK_LIMITER.as_bytes())]);
    let o = p.run(&["--format", "github"]);
    let out = stdout(&o);
    assert!(
        out.starts_with("::warning file=a%2Cb%3Ac.py,line=5,col=1,endLine=5,endColumn=10,title=RATE002 in-memory-limiter::"),
        "{out}"
    );
    assert!(out.contains("%0Ahelp: use flask-limiter"), "{out}");
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn output_file_and_missing_output_folder() {
    let p = Project::mixed();
    let o = p.run(&["--format", "concise", "--output", "report.txt"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert_eq!(
        std::fs::read_to_string(p.path().join("report.txt"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    let o = p.run(&["--format", "concise", "--output", "no/such/dir/report.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no/such/dir/report.txt"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o).lines().count(), 2, "the report is not lost");
}

#[test]
fn exit_codes_follow_fail_on_and_exit_zero() {
    let p = Project::mixed();
    assert_eq!(p.run(&[]).status.code(), Some(1));
    assert_eq!(p.run(&["--fail-on", "error"]).status.code(), Some(0));
    assert_eq!(p.run(&["--fail-on", "note"]).status.code(), Some(1));
    assert_eq!(p.run(&["--exit-zero"]).status.code(), Some(0));
    let clean = Project::new(&[("ok.py", b"x = 1\n")]);
    let o = clean.run(&[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("No findings in 1 file."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn usage_errors_exit_2() {
    let p = Project::mixed();
    let o = p.run(&["--select", "RATE999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown rule `RATE999` in --select"),
        "{}",
        stderr(&o)
    );
    assert_eq!(p.run(&["--ignore", "E501"]).status.code(), Some(2));
    assert_eq!(p.run(&["--format", "xml"]).status.code(), Some(2));
    assert_eq!(p.run(&["--explain", "RATE999"]).status.code(), Some(2));
}

#[test]
fn select_and_ignore() {
    let p = Project::mixed();
    assert_eq!(p.run(&["--ignore", "RATE002"]).status.code(), Some(0));
    assert_eq!(p.run(&["--ignore", "rate0"]).status.code(), Some(0));
    assert_eq!(p.run(&["--select", "RATE002"]).status.code(), Some(1));
    assert_eq!(
        p.run(&["--select", "ALL", "--ignore", "RATE002"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn missing_path_exits_2_after_printing_other_findings() {
    let p = Project::mixed();
    let o = p.run(&["--format", "concise", "api", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nope: no such file or directory"),
        "{}",
        stderr(&o)
    );
    assert!(
        stdout(&o).contains("api/app.py:5:1: RATE002"),
        "{}",
        stdout(&o)
    );
}

#[cfg(target_os = "linux")]
#[test]
fn unreadable_file_exits_2_and_other_files_still_report() {
    // Reading /proc/self/mem from offset 0 fails even for root.
    let p = Project::mixed();
    std::os::unix::fs::symlink("/proc/self/mem", p.path().join("unreadable.py")).unwrap();
    let o = p.run(&["--format", "concise", "api", "unreadable.py"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unreadable.py: cannot read file"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("api/app.py:5:1: RATE002"));
}

#[test]
fn bad_files_warn_and_the_run_goes_on() {
    let mut invalid_utf8 = FLASK_LIMITER.as_bytes().to_vec();
    invalid_utf8.extend_from_slice(b"# caf\xe9\n");
    let mut minified = b"var a=1;".repeat(80_000);
    minified.push(b'\n');
    let p = Project::new(&[
        ("latin1.py", &invalid_utf8),
        ("binary.py", b"\x00\x01\x02ELF"),
        (
            "broken.py",
            format!("{FLASK_LIMITER}\ndef oops(:\n    pass\n").as_bytes(),
        ),
        ("empty.js", b""),
        ("bundle.js", &minified),
    ]);
    let o = p.run(&["--format", "concise"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("latin1.py: not valid UTF-8"), "{err}");
    assert!(err.contains("binary.py: skipped: binary content"), "{err}");
    assert!(err.contains("broken.py:25:10: syntax error"), "{err}");
    assert!(err.contains("bundle.js: skipped: looks minified"), "{err}");
    assert!(!err.contains("empty.js"), "an empty file is fine: {err}");
    let out = stdout(&o);
    assert!(out.contains("latin1.py:5:1: RATE002"), "{out}");
    assert!(out.contains("broken.py:5:1: RATE002"), "{out}");
    let quiet = p.run(&["--format", "concise", "--quiet"]);
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
}

#[test]
fn config_files_are_found_upwards_and_validated() {
    let p = Project::mixed();
    std::fs::write(p.path().join("ratecheck.toml"), "ignore = [\"RATE002\"]\n").unwrap();
    assert_eq!(p.run(&["api"]).status.code(), Some(0));
    assert_eq!(p.run(&["--isolated", "api"]).status.code(), Some(1));

    std::fs::write(
        p.path().join("ratecheck.toml"),
        "[severity]\nRATE002 = \"error\"\n",
    )
    .unwrap();
    let v: Value = serde_json::from_str(&stdout(&p.run(&["--format", "json", "api"]))).unwrap();
    assert_eq!(v["findings"][0]["severity"], "error");

    std::fs::write(
        p.path().join("ratecheck.toml"),
        "fail-on = \"warning\"\nexclde = [\"x\"]\n",
    )
    .unwrap();
    let o = p.run(&["api"]);
    assert_eq!(o.status.code(), Some(2));
    // Placed as line:column, not a byte offset.
    assert!(
        stderr(&o).contains("ratecheck.toml:2:1: unknown field `exclde`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        p.path().join("ratecheck.toml"),
        "select = [\"RATE002\",\n  \"RATE0X\"]\n",
    )
    .unwrap();
    let o = p.run(&["api"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("ratecheck.toml:2:3: `select`: unknown rule `RATE0X`"),
        "{}",
        stderr(&o)
    );

    std::fs::write(p.path().join("ratecheck.toml"), "select = [\"RATE002\"\n").unwrap();
    assert_eq!(p.run(&["api"]).status.code(), Some(2));

    std::fs::remove_file(p.path().join("ratecheck.toml")).unwrap();
    std::fs::write(
        p.path().join("pyproject.toml"),
        "[tool.ratecheck]\nexclude = [\"api\"]\n",
    )
    .unwrap();
    let o = p.run(&["--format", "concise"]);
    assert!(!stdout(&o).contains("api/app.py"), "{}", stdout(&o));
    assert!(stdout(&o).contains("web/server.js"));

    let explicit = p.path().join("custom.toml");
    std::fs::write(&explicit, "ignore = [\"RATE9\"]\n").unwrap();
    let o = p.run(&["--config", explicit.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown rule `RATE9`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn inline_suppressions() {
    let same_line = FLASK_LIMITER.replace("hits = {}", "hits = {}  # ratecheck: ignore[RATE002]");
    let line_above = EXPRESS_LIMITER.replace("const hits", "// ratecheck: ignore\nconst hits");
    let other_rule = FLASK_LIMITER.replace("hits = {}", "hits = {}  # ratecheck: ignore[RATE001]");
    let file_wide = format!("# ratecheck: ignore-file[RATE002]\n{FLASK_LIMITER}");
    let p = Project::new(&[
        ("a.py", same_line.as_bytes()),
        ("b.js", line_above.as_bytes()),
        ("c.py", other_rule.as_bytes()),
        ("d.py", file_wide.as_bytes()),
    ]);
    let out = stdout(&p.run(&["--format", "concise"]));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("c.py:5:1"), "{out}");
}

#[test]
fn gitignore_and_default_excludes() {
    let p = Project::new(&[
        ("app.py", FLASK_LIMITER.as_bytes()),
        ("node_modules/lib/index.js", EXPRESS_LIMITER.as_bytes()),
        ("generated/x.js", EXPRESS_LIMITER.as_bytes()),
        (".gitignore", b"generated/\n"),
    ]);
    let out = stdout(&p.run(&["--format", "concise"]));
    assert_eq!(out.lines().count(), 1, "{out}");
    let all = stdout(&p.run(&[
        "--format",
        "concise",
        "--no-ignore",
        "--no-default-excludes",
    ]));
    assert_eq!(all.lines().count(), 3, "{all}");
    let excluded = stdout(&p.run(&["--format", "concise", "--exclude", "app.py"]));
    assert!(excluded.is_empty(), "{excluded}");
    // A file named on the command line is linted even if excluded.
    let explicit = stdout(&p.run(&["--format", "concise", "node_modules/lib/index.js"]));
    assert_eq!(explicit.lines().count(), 1, "{explicit}");
}

#[test]
fn explain_and_list_rules() {
    let p = Project::mixed();
    let o = p.run(&["--explain", "rate002"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("## Why this matters"));
    let o = p.run(&["--list-rules"]);
    assert!(
        stdout(&o).contains("RATE002  in-memory-limiter"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn readme_rules_table_is_generated_from_the_rule_docs() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("<!-- rules-table:start -->\n")
        .expect("table start marker")
        + 27;
    let end = readme
        .find("<!-- rules-table:end -->")
        .expect("table end marker");
    assert_eq!(
        &readme[start..end],
        ratecheck::rules::markdown_table(),
        "README rules table is stale: replace it with the output of `ratecheck::rules::markdown_table()`"
    );
}

#[test]
fn deeply_nested_generated_code_is_truncated_not_a_crash() {
    // One bracket per line: not "minified", but 20,000 levels deep.
    let py = format!(
        "x = {}1{}\n{FLASK_LIMITER}",
        "(\n".repeat(20_000),
        ")".repeat(20_000)
    );
    let js = format!(
        "const y = {}0{};\n{EXPRESS_LIMITER}",
        "[\n".repeat(20_000),
        "]".repeat(20_000)
    );
    let p = Project::new(&[("deep.py", py.as_bytes()), ("deep.js", js.as_bytes())]);
    let o = p.run(&["--format", "concise"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("deep.py: nesting too deep"), "{err}");
    assert!(err.contains("deep.js: nesting too deep"), "{err}");
    // The limiter after the generated part is still found.
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
}

#[test]
fn rate001_statistics_and_route_settings() {
    let app = b"from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get(\"/internal/sync\")\ndef sync():\n    return \"ok\"\n\n\n@app.get(\"/admin/users\")\ndef users():\n    return \"[]\"\n\n\n@app.get(\"/items\")\ndef items():\n    return \"[]\"\n";
    let p = Project::new(&[("app.py", app)]);
    std::fs::write(
        p.path().join("ratecheck.toml"),
        "sensitive-routes = [\"/admin/*\"]\nskip-routes = [\"/internal/*\"]\n",
    )
    .unwrap();
    let o = p.run(&["--select", "RATE001", "--format", "concise", "--statistics"]);
    let out = stdout(&o);
    assert!(!out.contains("/internal/sync"), "{out}");
    assert!(out.contains("`GET /admin/users`"), "{out}");
    assert!(out.contains("`GET /items`"), "{out}");
    let json = p.run(&["--select", "RATE001", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&json)).unwrap();
    let sev: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(sev, ["error", "warning"]);
    assert!(
        stderr(&o).contains(
            "routes (RATE001): 3 seen, 0 protected, 2 unprotected, 0 unresolved, 1 skipped"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn routes_inventory_lists_every_route_with_its_evidence() {
    let app = b"const express = require('express');\nconst rateLimit = require('express-rate-limit');\nconst app = express();\napp.get('/healthz', (req, res) => res.send('ok'));\napp.post('/login', (req, res) => res.send('hi'));\napp.use(rateLimit({ max: 10 }));\napp.get('/items', (req, res) => res.json([]));\napp.get('/items/:id', lookup, (req, res) => res.json({}));\n";
    let p = Project::new(&[("server.js", app)]);
    let o = p.run(&["--routes", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let routes: Vec<(String, String, String)> = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["route"].as_str().unwrap()
                ),
                r["verdict"].as_str().unwrap().to_string(),
                r["evidence"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(routes[0].0, "GET /healthz");
    assert_eq!(routes[0].1, "skipped");
    // Registered before the limiter: unprotected, an error for a login.
    assert_eq!(
        (routes[1].0.as_str(), routes[1].1.as_str()),
        ("POST /login", "unprotected")
    );
    assert_eq!(v["routes"][1]["severity"], "error");
    assert_eq!(routes[2].1, "protected");
    assert!(routes[2].2.contains("rateLimit({ max: 10 })"), "{routes:?}");
    assert_eq!(v["routes"][2]["evidence_location"]["line"], 6);
    // An unreadable route middleware does not matter once the app-wide
    // limiter covers the route.
    assert_eq!(routes[3].1, "protected", "{routes:?}");
    assert_eq!(v["summary"]["routes"], 4);

    let md = p.run(&["--routes", "--format", "markdown"]);
    let table = stdout(&md);
    assert!(table.starts_with("| Verdict | Method | Path |"), "{table}");
    assert!(
        table.contains("| unprotected (error) | POST | `/login` |"),
        "{table}"
    );
    let text = stdout(&p.run(&["--routes"]));
    assert!(
        text.contains("server.js:5:1: POST /login (inline handler): unprotected (error)"),
        "{text}"
    );
    assert!(
        text.ends_with("4 routes: 2 protected, 1 unprotected, 0 unresolved, 1 skipped\n"),
        "{text}"
    );

    // Formats that do not fit: a clear usage error, exit 2.
    let sarif = p.run(&["--routes", "--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(2));
    assert!(
        stderr(&sarif).contains("text, json or markdown"),
        "{}",
        stderr(&sarif)
    );
    let findings_md = p.run(&["--format", "markdown"]);
    assert_eq!(findings_md.status.code(), Some(2));
}

#[test]
fn routes_inventory_says_why_a_route_is_unresolved() {
    // A project module that is not there: what it does cannot be known.
    let app = b"const express = require('express');\nconst guard = require('./gateway');\nconst app = express();\napp.use(guard());\napp.get('/items', (req, res) => res.json([]));\n";
    let p = Project::new(&[("server.js", app)]);
    let o = p.run(&["--routes", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["routes"][0]["verdict"], "unresolved", "{v}");
    let why = v["routes"][0]["evidence"].as_str().unwrap();
    assert!(why.contains("`guard()` cannot be read"), "{why}");
    assert_eq!(v["routes"][0]["evidence_location"]["line"], 4);
    // The same route gives no finding.
    let findings = p.run(&["--select", "RATE001", "--format", "concise"]);
    assert_eq!(stdout(&findings), "", "{}", stdout(&findings));

    // A package whose name says nothing of limits is plain middleware.
    let third_party = String::from_utf8_lossy(app)
        .replace("./gateway", "request-context")
        .replace("guard", "context");
    let p = Project::new(&[("server.js", third_party.as_bytes())]);
    let v: Value =
        serde_json::from_str(&stdout(&p.run(&["--routes", "--format", "json"]))).unwrap();
    assert_eq!(v["routes"][0]["verdict"], "unprotected", "{v}");
    // ... unless a folder of the project has that name (a path alias).
    let p = Project::new(&[
        ("server.js", third_party.as_bytes()),
        (
            "request-context/index.js",
            b"module.exports = require('./impl');\n",
        ),
    ]);
    let v: Value =
        serde_json::from_str(&stdout(&p.run(&["--routes", "--format", "json"]))).unwrap();
    assert_eq!(v["routes"][0]["verdict"], "unresolved", "{v}");
}

/// Standard error on a pseudo-terminal (as a person at a terminal has it),
/// standard output piped; returns (what the terminal got, the output).
#[cfg(unix)]
fn run_with_terminal_stderr(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, Output) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors, owned below.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty");
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let child = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ratecheck"));
        c.args(args)
            .current_dir(dir)
            .env_remove("CI")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::from(slave));
        for (k, v) in env {
            c.env(k, v);
        }
        c.spawn().unwrap()
        // The command, and with it this process's copy of the terminal's
        // other end, is dropped here: reading ends when the child exits.
    };
    let reader = std::thread::spawn(move || {
        let mut terminal = std::fs::File::from(master);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux answers EIO once the other end is closed.
        while let Ok(n) = terminal.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    let output = child.wait_with_output().unwrap();
    (reader.join().unwrap(), output)
}

#[cfg(unix)]
#[test]
fn progress_line_only_at_a_terminal_and_never_in_the_report() {
    let p = Project::mixed();
    // No delay: any run long enough to draw once would draw.
    let now = [("RATECHECK_PROGRESS_DELAY_MS", "0")];
    let (terminal, o) = run_with_terminal_stderr(p.path(), &["-o", "report.txt"], &now);
    assert!(terminal.contains("\rratecheck: "), "{terminal:?}");
    assert!(terminal.contains(" files"), "{terminal:?}");
    // Erased before the run ends: the last thing on the line is blank.
    assert!(terminal.ends_with(" \r"), "{terminal:?}");
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    let report = std::fs::read_to_string(p.path().join("report.txt")).unwrap();
    assert!(
        report.contains("RATE002") && !report.contains('\r'),
        "{report}"
    );
    // Not in CI, not with --quiet, not when the report goes into a pipe.
    for (args, env) in [
        (
            &["-o", "report.txt"][..],
            &[("RATECHECK_PROGRESS_DELAY_MS", "0"), ("CI", "true")][..],
        ),
        (&["-o", "report.txt", "--quiet"][..], &now[..]),
        (&[][..], &now[..]),
    ] {
        let (terminal, o) = run_with_terminal_stderr(p.path(), args, env);
        assert!(
            !terminal.contains("ratecheck: "),
            "{args:?} {env:?}: {terminal:?}"
        );
        assert!(!stdout(&o).contains('\r'), "{}", stdout(&o));
    }
    // Standard error not a terminal: never.
    let o = Command::new(env!("CARGO_BIN_EXE_ratecheck"))
        .current_dir(p.path())
        .env_remove("CI")
        .env("RATECHECK_PROGRESS_DELAY_MS", "0")
        .output()
        .unwrap();
    assert!(
        !stderr(&o).contains('\r') && !stdout(&o).contains('\r'),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("RATE002"));
}
