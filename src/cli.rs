//! Command line: flags, configuration merge, exit codes.
//!
//! Exit codes: 0 no findings at or above `--fail-on`; 1 findings; 2 usage,
//! configuration or I/O errors (after every finding has been printed).

use crate::config::{self, Config};
use crate::engine::{self, Options, ProblemKind, Report};
use crate::finding::Severity;
use crate::output::{self, EmitOptions, FORMATS};
use crate::rules::{self, RuleOptions};
use clap::{Parser, ValueEnum};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Parser)]
#[command(
    name = "ratecheck",
    version,
    about = "Find naive rate limiters in Python and JavaScript/TypeScript before they reach production",
    after_help = "Exit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage, configuration or I/O error.\nRules: `ratecheck --list-rules`; details: `ratecheck --explain RATE002`."
)]
struct Cli {
    /// Files or folders to lint [default: .]
    paths: Vec<PathBuf>,

    /// Output format [default: text; `markdown` is for --routes]
    #[arg(long, alias = "output-format", value_parser = FORMATS.iter().chain(&["markdown"]).copied().collect::<Vec<_>>())]
    format: Option<String>,

    /// List every HTTP route with RATE001's verdict and its evidence instead of findings (--format text, json or markdown); exits 0
    #[arg(long)]
    routes: bool,

    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Run only these rules (ids or prefixes, comma-separated; `ALL` for every rule)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    select: Vec<String>,

    /// Do not run these rules (ids or prefixes, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    ignore: Vec<String>,

    /// Lowest severity that makes the exit code 1 [default: warning]
    #[arg(long, value_parser = ["error", "warning", "note"])]
    fail_on: Option<String>,

    /// Exit 0 even when there are findings (errors still exit 2)
    #[arg(long)]
    exit_zero: bool,

    /// Use this configuration file instead of searching for one
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    config: Option<PathBuf>,

    /// Ignore all configuration files
    #[arg(long)]
    isolated: bool,

    /// Do not honour .gitignore / .ignore files
    #[arg(long)]
    no_ignore: bool,

    /// Exclude paths matching GLOB (repeatable; adds to the default excludes)
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Also lint node_modules, dist, build, venv, *.min.js and the other default excludes
    #[arg(long)]
    no_default_excludes: bool,

    /// Number of threads [default: number of CPUs]
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,

    /// Colour in text output (NO_COLOR is honoured in auto mode)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    /// Print findings only: no warnings about skipped files, no summary
    #[arg(long, short = 'q')]
    quiet: bool,

    /// Print counts per rule, files scanned and RATE001's route counts on standard error
    #[arg(long)]
    statistics: bool,

    /// Set SARIF `automationDetails.id` (to upload several runs per commit)
    #[arg(long, value_name = "CATEGORY")]
    sarif_category: Option<String>,

    /// Explain a rule and exit
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,

    /// List all rules and exit
    #[arg(long)]
    list_rules: bool,

    /// Benchmark floor: parse every file, run nothing, print counts
    #[arg(long, hide = true)]
    bench_parse_only: bool,

    /// Debugging: print the facts extracted from one file
    #[arg(long, hide = true, value_name = "FILE")]
    dump_facts: Option<PathBuf>,

    /// Report only findings that are not in this baseline file; name its stale entries
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,

    /// Write every current finding to this baseline file and exit 0
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,

    /// Where the rule pages are published, for links in reports (`{rule}` is replaced by the rule id) [default: none; `ratecheck --explain RULE` prints them]
    #[arg(long, value_name = "URL")]
    docs_url: Option<String>,

    /// Also judge test, spec and mock files (skipped by default; judged below each file's project root)
    #[arg(long)]
    include_tests: bool,

    /// List `ratecheck: ignore` comments (and codes in them) that silence nothing; they fail the run
    #[arg(long)]
    report_unused_ignores: bool,

    /// Add a `ratecheck: ignore[RULE]` comment on the line of every current finding and exit 0
    #[arg(long)]
    add_ignores: bool,

    /// Lint standard input as the file PATH of its project (for editors)
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,

    /// Make SARIF and `github` paths, fingerprints and baselines relative to DIR [default: the repository root (nearest .git/.hg) above the first path, else the working directory]
    #[arg(long, value_name = "DIR")]
    project_root: Option<PathBuf>,
}

/// Parse the process arguments and run; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("ratecheck: error: {message}");
            2
        }
    }
}

fn run(cli: Cli) -> Result<i32, String> {
    if let Some(id) = &cli.explain {
        let meta = rules::meta(&id.to_ascii_uppercase())
            .ok_or_else(|| format!("unknown rule `{id}` (see `ratecheck --list-rules`)"))?;
        println!("{}", meta.body.trim_end());
        println!(
            "\nSeverity: {}. Languages: {}.",
            meta.severity.as_str(),
            meta.languages.join(", ")
        );
        return Ok(0);
    }
    if let Some(path) = &cli.dump_facts {
        let lang = crate::lang::Lang::from_path(path)
            .ok_or("not a Python, JavaScript or TypeScript file")?;
        // Bounded and never blocking, like every source read.
        let limit = engine::MAX_FILE_BYTES;
        let bytes = crate::source::read_source(path, limit)
            .map_err(|e| format!("{}: {}", path.display(), e.describe(limit, "one file")))?;
        let text = String::from_utf8_lossy(&bytes);
        let facts = engine::extract_facts(path, lang, &text).ok_or("parse failed")?;
        println!("{facts:#?}");
        return Ok(0);
    }
    if cli.list_rules {
        for m in rules::all_meta() {
            println!(
                "{}  {:<20} {:<8} {}",
                m.id,
                m.name,
                m.severity.as_str(),
                m.summary
            );
        }
        return Ok(0);
    }

    let paths = if !cli.paths.is_empty() {
        cli.paths.clone()
    } else if let Some(p) = &cli.stdin_filename {
        vec![p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))]
    } else {
        vec![PathBuf::from(".")]
    };
    let config_path = match (&cli.config, cli.isolated) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => None,
        (None, false) => config::find(&paths[0]),
    };
    let config = match &config_path {
        Some(p) => config::load(p)?,
        None => Config::default(),
    };

    for (flag, list) in [("--select", &cli.select), ("--ignore", &cli.ignore)] {
        if let Some(bad) = list.iter().find(|s| !rules::selector_matches_any(s)) {
            return Err(format!(
                "unknown rule `{bad}` in {flag} (see `ratecheck --list-rules`)"
            ));
        }
    }
    let select = if cli.select.is_empty() {
        config.select.clone().unwrap_or_default()
    } else {
        cli.select.clone()
    };
    let mut ignore = config.ignore.clone().unwrap_or_default();
    ignore.extend(cli.ignore.iter().cloned());
    let selected: Vec<&'static str> = rules::RULES
        .iter()
        .map(|r| r.id())
        .filter(|id| select.is_empty() || select.iter().any(|s| rules::selector_matches(s, id)))
        .filter(|id| !ignore.iter().any(|s| rules::selector_matches(s, id)))
        .collect();

    let fail_on = cli
        .fail_on
        .as_deref()
        .or(config.fail_on.as_deref())
        .and_then(Severity::parse)
        .unwrap_or(Severity::Warning);
    // The configured format is for findings; `--routes` reads only its own.
    let format = if cli.routes {
        cli.format.clone()
    } else {
        cli.format.clone().or(config.format.clone())
    }
    .unwrap_or_else(|| "text".into());
    if cli.routes && !output::ROUTE_FORMATS.contains(&format.as_str()) {
        return Err(format!(
            "--routes lists routes as text, json or markdown, not {format}"
        ));
    }
    if !cli.routes && format == "markdown" {
        return Err(
            "--format markdown is for --routes; findings are text, concise, json, sarif or github"
                .into(),
        );
    }
    let severity_overrides: HashMap<String, Severity> = config
        .severity
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(id, level)| {
            Some((
                rules::meta(&id.to_ascii_uppercase())?.id.to_string(),
                Severity::parse(&level)?,
            ))
        })
        .collect();
    let config_folder = config_path.as_deref().map(config::folder);
    let mut excludes = match &config_folder {
        Some(folder) => {
            config::anchor_excludes(&config.exclude.clone().unwrap_or_default(), folder, &paths)
        }
        None => Vec::new(),
    };
    excludes.extend(cli.exclude.iter().cloned());
    crate::scope::set_include_tests(cli.include_tests || config.include_tests == Some(true));
    if let Some(name) = &cli.stdin_filename {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        crate::vfs::set_stdin_file(name, text);
    }
    // Files are judged in their project; reports stay on the files named.
    let targets = crate::scope::targets(
        if cli.stdin_filename.is_some() && cli.paths.is_empty() {
            &[]
        } else {
            &paths
        },
        cli.stdin_filename.as_deref(),
    );
    let report_root = match &cli.project_root {
        // A typo here would silently change every path and fingerprint.
        Some(dir) if !dir.is_dir() => {
            return Err(format!("--project-root {}: not a folder", dir.display()))
        }
        Some(dir) => crate::scope::absolute(dir),
        None => crate::scope::report_root(&paths[0]),
    };
    let options = Options {
        paths: targets.analyse.clone(),
        respect_gitignore: !cli.no_ignore && config.respect_gitignore.unwrap_or(true),
        default_excludes: !cli.no_default_excludes,
        excludes,
        jobs: cli.jobs,
        rule_options: RuleOptions {
            limiter_names: config.limiter_names.clone().unwrap_or_default(),
            sensitive_routes: config.sensitive_routes.clone().unwrap_or_default(),
            skip_routes: config.skip_routes.clone().unwrap_or_default(),
        },
        rules: selected,
        severity_overrides,
        route_statistics: cli.statistics,
        route_inventory: cli.routes,
        report_root: Some(report_root.clone()),
        progress: None,
    };

    if cli.bench_parse_only {
        let (files, bytes, problems) = engine::parse_only(&options);
        println!("parsed {files} files, {bytes} bytes");
        return Ok(if problems.iter().any(|p| p.kind == ProblemKind::Error) {
            2
        } else {
            0
        });
    }

    let show_progress = crate::progress::wanted(
        std::io::stderr().is_terminal(),
        std::io::stdout().is_terminal(),
        cli.output.is_some(),
        crate::progress::in_ci(),
        cli.quiet,
    );
    let mut report = if show_progress {
        let progress = std::sync::Arc::new(crate::progress::Progress::default());
        let ticker = crate::progress::Ticker::start(progress.clone());
        let report = engine::run(&Options {
            progress: Some(progress),
            ..options.clone()
        });
        // Erased before the first warning or finding is printed.
        ticker.finish();
        report
    } else {
        engine::run(&options)
    };
    if let (Some(ignores), Some(folder)) = (&config.per_file_ignores, &config_folder) {
        let before = report.findings.len();
        report.findings.retain(|f| {
            !config::per_file_ignored(ignores, folder, &f.finding.path, f.finding.rule_id)
        });
        report.stats.suppressed += before - report.findings.len();
    }
    if let Some(scope) = &targets.report {
        report.findings.retain(|f| scope.contains(&f.finding.path));
        report
            .problems
            .retain(|p| p.path.as_ref().is_none_or(|path| scope.contains(path)));
        report.files.retain(|f| scope.contains(f));
        report
            .unused_suppressions
            .retain(|u| scope.contains(&u.path));
        // Named paths that are not source files were seen too.
        let named_skips: usize = ["not a source file", "not a regular file"]
            .iter()
            .filter_map(|r| report.stats.skipped.get(r))
            .sum();
        report.stats.files_seen = report.files.len() + named_skips;
        report.routes.retain(|r| scope.contains(&r.path));
    }
    if cli.routes {
        print_problems(&report, cli.quiet);
        let mut buffer = Vec::new();
        output::routes::emit(&format, &report, &mut buffer)
            .map_err(|e| format!("cannot format routes: {e}"))?;
        let written = match &cli.output {
            Some(path) => std::fs::write(path, &buffer)
                .map_err(|e| format!("cannot write {}: {e}", path.display())),
            None => {
                write_stdout(&buffer);
                Ok(())
            }
        };
        if cli.statistics {
            print_statistics(&report);
        }
        written?;
        return Ok(if report.has_errors() { 2 } else { 0 });
    }
    if let Some(path) = &cli.write_baseline {
        let written = crate::baseline::from_findings(&report.findings, Some(&report_root));
        crate::baseline::write(path, &written)?;
        print_problems(&report, cli.quiet);
        if !cli.quiet {
            eprintln!(
                "ratecheck: wrote {} finding{} to the baseline {}",
                written.findings.len(),
                if written.findings.len() == 1 { "" } else { "s" },
                path.display()
            );
        }
        return Ok(if report.has_errors() { 2 } else { 0 });
    }
    if let Some(path) = &cli.baseline {
        let baseline = crate::baseline::load(path)?;
        let checked: std::collections::HashSet<String> = report
            .files
            .iter()
            .map(|f| crate::scope::report_path(f, Some(&report_root)))
            .collect();
        let outcome = crate::baseline::apply(
            &baseline,
            &mut report.findings,
            Some(&report_root),
            &checked,
            &options.rules,
        );
        report.stats.baseline_accepted = outcome.accepted;
        report.stats.baseline_stale = outcome.stale.len();
        if !cli.quiet {
            for e in &outcome.stale {
                eprintln!(
                    "ratecheck: note: {}: stale baseline entry {} (line {} when written: {}); fixed or changed, update the baseline with --write-baseline",
                    e.path, e.rule, e.line, e.message
                );
            }
            eprintln!(
                "ratecheck: baseline {}: {} finding{} accepted, {} stale entr{}",
                path.display(),
                outcome.accepted,
                if outcome.accepted == 1 { "" } else { "s" },
                outcome.stale.len(),
                if outcome.stale.len() == 1 { "y" } else { "ies" }
            );
        }
    }
    print_problems(&report, cli.quiet);
    if cli.add_ignores {
        let (written, files) = crate::suppress::add_ignores(&report.findings)?;
        eprintln!(
            "ratecheck: added {written} `ratecheck: ignore` comment{} in {files} file{}",
            if written == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        );
        return Ok(if report.has_errors() { 2 } else { 0 });
    }
    let report_unused = cli.report_unused_ignores || config.report_unused_ignores == Some(true);
    let unused_ignores = if report_unused {
        report.unused_suppressions.len()
    } else {
        0
    };
    if report_unused {
        let mut err = std::io::stderr().lock();
        for u in &report.unused_suppressions {
            let _ = writeln!(
                err,
                "ratecheck: warning: {}:{}: {}",
                engine::slash_path(&u.path),
                u.line,
                u.describe()
            );
        }
    }

    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if color_forced() => true,
        ColorChoice::Auto => {
            cli.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let emit_options = EmitOptions {
        color,
        sarif_category: cli.sarif_category.clone(),
        quiet: cli.quiet,
        docs_url: cli.docs_url.clone().or(config.docs_url.clone()),
        report_root: Some(report_root.clone()),
    };
    let mut output_failed = false;
    let mut buffer = Vec::new();
    output::emit(&format, &report, &emit_options, &mut buffer)
        .map_err(|e| format!("cannot format report: {e}"))?;
    match &cli.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &buffer) {
                // Nothing is lost: the report goes to standard output instead.
                eprintln!(
                    "ratecheck: error: cannot write {}: {e}; writing the report to standard output instead",
                    path.display()
                );
                output_failed = true;
                write_stdout(&buffer);
            }
        }
        None => write_stdout(&buffer),
    }
    if cli.statistics {
        print_statistics(&report);
    }

    if report.has_errors() || output_failed {
        return Ok(2);
    }
    if cli.exit_zero {
        return Ok(0);
    }
    if unused_ignores > 0 {
        return Ok(1);
    }
    Ok(
        if report
            .findings
            .iter()
            .any(|f| f.finding.severity >= fail_on)
        {
            1
        } else {
            0
        },
    )
}

/// `FORCE_COLOR` (set, not `0` or `false`) or `CLICOLOR_FORCE` (set, not
/// `0`): colour even when standard output is not a terminal (CI logs).
fn color_forced() -> bool {
    let set = |name: &str, off: &[&str]| {
        std::env::var(name).is_ok_and(|v| !v.is_empty() && !off.contains(&v.as_str()))
    };
    set("FORCE_COLOR", &["0", "false"]) || set("CLICOLOR_FORCE", &["0"])
}

fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`ratecheck | head`) is not an error worth a panic.
    let _ = out.write_all(bytes).and_then(|_| out.flush());
}

fn print_problems(report: &Report, quiet: bool) {
    let mut err = std::io::stderr().lock();
    for p in &report.problems {
        if quiet && p.kind == ProblemKind::Warning {
            continue;
        }
        let level = if p.kind == ProblemKind::Error {
            "error"
        } else {
            "warning"
        };
        // `path:line:column:` when the problem has a place, as editors
        // and terminals recognise it.
        let place = p
            .position
            .map_or(String::new(), |at| format!(":{}:{}", at.line, at.column));
        let _ = match &p.path {
            Some(path) => writeln!(
                err,
                "ratecheck: {level}: {}{place}: {}",
                engine::slash_path(path),
                p.message
            ),
            None => writeln!(err, "ratecheck: {level}: {}", p.message),
        };
    }
}

fn print_statistics(report: &Report) {
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *by_rule.entry(f.finding.rule_id).or_default() += 1;
    }
    let mut err = std::io::stderr().lock();
    for (id, n) in &by_rule {
        let name = rules::meta(id).map(|m| m.name).unwrap_or("");
        let _ = writeln!(err, "{n:>6}  {id}  {name}");
    }
    let s = &report.stats;
    let skipped: usize = s.skipped.values().sum();
    let why = s
        .skipped
        .iter()
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        err,
        "files: {} seen, {} linted ({} bytes), {} skipped{}; findings: {}, suppressed inline: {}",
        s.files_seen,
        s.files_parsed,
        s.bytes_parsed,
        skipped,
        if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        },
        report.findings.len(),
        s.suppressed
    );
    if let Some(r) = &s.routes {
        let _ = writeln!(
            err,
            "routes (RATE001): {} seen, {} protected, {} unprotected, {} unresolved, {} skipped (health checks, skip-routes)",
            r.seen, r.protected, r.unprotected, r.unresolved, r.skipped
        );
    }
}
