//! The pipeline: discover → (per file, in parallel) read, decode, parse,
//! extract facts, drop the tree → project phase → rules → suppressions →
//! positions and fingerprints → sorted findings.

use crate::facts::FileFacts;
use crate::finding::{Finding, Severity};
use crate::lang::{self, Lang};
use crate::project::Project;
use crate::rules::{self, RuleOptions};
use crate::source::{decode, read_source, Decoded, Digest, Position, ReadError, SourceFile};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Files at least this large are parsed one at a time (see `run_in_pool`).
const BIG_FILE_BYTES: u64 = 1024 * 1024;
/// Files larger than this are skipped with a warning.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Time allowed to parse and analyse one file (`RATECHECK_FILE_TIMEOUT`,
/// in seconds, overrides it; `0` means no limit). The largest hand-written
/// files take a few seconds; 5,000 nested calls take a few milliseconds.
pub const FILE_TIMEOUT_SECS: f64 = 30.0;
/// A file this large whose average line is this long is a minified bundle.
const MINIFIED_MIN_BYTES: usize = 256 * 1024;
const MINIFIED_AVG_LINE: usize = 1024;

pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "site-packages",
    "__pycache__",
    "dist",
    "build",
    ".next",
    "vendor",
    "*.min.js",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub respect_gitignore: bool,
    pub default_excludes: bool,
    pub excludes: Vec<String>,
    pub jobs: Option<usize>,
    pub rule_options: RuleOptions,
    /// Rule ids to run (already resolved from select/ignore).
    pub rules: Vec<&'static str>,
    pub severity_overrides: HashMap<String, Severity>,
    /// Count RATE001's routes for `--statistics` (costs a second pass).
    pub route_statistics: bool,
    /// List every route with its verdict (`--routes`).
    pub route_inventory: bool,
    /// Fingerprints hash paths relative to this folder (the repository
    /// root), so they do not depend on the working directory.
    pub report_root: Option<PathBuf>,
    /// Files done of the total, for the progress line (`progress.rs`).
    pub progress: Option<std::sync::Arc<crate::progress::Progress>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            paths: vec![PathBuf::from(".")],
            respect_gitignore: true,
            default_excludes: true,
            excludes: Vec::new(),
            jobs: None,
            rule_options: RuleOptions::default(),
            rules: rules::RULES.iter().map(|r| r.id()).collect(),
            severity_overrides: HashMap::new(),
            route_statistics: false,
            route_inventory: false,
            report_root: None,
            progress: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// The run could not do what was asked (exit code 2).
    Error,
    /// Something was skipped or degraded; the run goes on.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub kind: ProblemKind,
    pub path: Option<PathBuf>,
    /// Where in the file, when the problem has a place (a syntax error).
    pub position: Option<Position>,
    pub message: String,
}

impl Problem {
    fn error(path: &Path, message: impl Into<String>) -> Problem {
        Problem {
            kind: ProblemKind::Error,
            position: None,
            path: Some(path.to_path_buf()),
            message: message.into(),
        }
    }

    fn warning(path: &Path, message: impl Into<String>) -> Problem {
        Problem {
            kind: ProblemKind::Warning,
            position: None,
            path: Some(path.to_path_buf()),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedLabel {
    pub path: PathBuf,
    pub start: Position,
    pub end: Position,
    pub message: String,
}

/// A finding with its positions resolved for output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedFinding {
    pub finding: Finding,
    pub start: Position,
    pub end: Position,
    pub labels: Vec<LocatedLabel>,
    /// Line-independent identity: rule, path and the flagged code.
    pub fingerprint: String,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Source files found, plus other paths named on the command line.
    pub files_seen: usize,
    /// Files linted (parsed and analysed).
    pub files_parsed: usize,
    /// Files not linted, by reason (`files_seen = files_parsed + skipped`).
    pub skipped: BTreeMap<&'static str, usize>,
    pub bytes_parsed: u64,
    pub suppressed: usize,
    /// RATE001's route counts, when asked for and the rule ran.
    pub routes: Option<rules::rate001_unprotected_route::RouteStats>,
    /// Findings accepted by `--baseline`, and its entries that matched
    /// nothing (stale).
    pub baseline_accepted: usize,
    pub baseline_stale: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<LocatedFinding>,
    /// `--routes`: every route RATE001 sees, with its verdict.
    pub routes: Vec<LocatedRoute>,
    pub problems: Vec<Problem>,
    pub stats: Stats,
    /// Every file linted, as displayed.
    pub files: Vec<PathBuf>,
    /// Suppression comments (or codes in them) that silenced nothing.
    pub unused_suppressions: Vec<crate::suppress::Unused>,
    /// The text of every file a finding or label points into: the bytes
    /// that were analysed, so emitters never read the file system again.
    pub sources: HashMap<PathBuf, SourceFile>,
}

/// A route as `--routes` lists it.
#[derive(Debug, Clone)]
pub struct LocatedRoute {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub framework: String,
    pub method: String,
    /// The full path when known; `None` when computed.
    pub route: Option<String>,
    pub handler: String,
    /// protected, unprotected, unresolved or skipped.
    pub verdict: &'static str,
    /// For unprotected routes.
    pub severity: Option<Severity>,
    /// What protects it, why it is skipped or why it is unresolved.
    pub evidence: Option<String>,
    /// Where that is registered: file and line.
    pub evidence_at: Option<(PathBuf, usize)>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.kind == ProblemKind::Error)
    }

    /// Files linted but not judged: tests, specs and mocks.
    pub fn test_files(&self) -> usize {
        self.files
            .iter()
            .filter(|f| crate::knowledge::is_test_path(f))
            .count()
    }
}

pub fn run(options: &Options) -> Report {
    let pool = thread_pool(options.jobs);
    pool.install(|| run_in_pool(options))
}

fn thread_pool(jobs: Option<usize>) -> rayon::ThreadPool {
    // Big stacks: tree-sitter trees of generated code can be very deep.
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(64 * 1024 * 1024);
    if let Some(n) = jobs {
        builder = builder.num_threads(n.max(1));
    }
    builder.build().unwrap_or_else(|_| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a thread pool")
    })
}

/// `RATECHECK_TIMING=1` prints how long each phase took, on stderr.
struct PhaseTimer {
    enabled: bool,
    last: std::time::Instant,
}

impl PhaseTimer {
    fn new() -> PhaseTimer {
        PhaseTimer {
            enabled: std::env::var_os("RATECHECK_TIMING").is_some(),
            last: std::time::Instant::now(),
        }
    }

    fn lap(&mut self, phase: &str) {
        if self.enabled {
            eprintln!(
                "ratecheck: timing: {phase}: {:.3}s",
                self.last.elapsed().as_secs_f64()
            );
        }
        self.last = std::time::Instant::now();
    }
}

fn run_in_pool(options: &Options) -> Report {
    let mut timer = PhaseTimer::new();
    let (mut files, mut problems) = crate::discover::discover(options);
    if let Some(stdin_file) = crate::vfs::stdin_file() {
        if !files.iter().any(|f| f == stdin_file) {
            files.push(stdin_file.to_path_buf());
        }
    }
    // Paths named on the command line and skipped by discovery (FIFOs,
    // devices, other extensions) were seen too.
    let skipped_named: Vec<&'static str> = problems
        .iter()
        .filter_map(|p| crate::discover::skip_reason(&p.message))
        .collect();
    timer.lap("discover");
    // Big files (bundles, compilers) are parsed one after another on one
    // thread, largest first, so two multi-megabyte trees are never in
    // memory at once; meanwhile the other threads take the small files.
    // Each small file is its own work item: rayon's default chunking left
    // a thread idle. Results are sorted later anyway.
    let mut by_size: Vec<(u64, &PathBuf)> = files
        .iter()
        .map(|p| (std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), p))
        .collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let split = by_size.partition_point(|(size, _)| *size >= BIG_FILE_BYTES);
    let (big, small) = by_size.split_at(split);
    if let Some(progress) = &options.progress {
        progress.set_total(files.len());
    }
    let analyse = |path: &Path| {
        let outcome = analyse_file(path);
        if let Some(progress) = &options.progress {
            progress.file_done();
        }
        outcome
    };
    let (mut results, small_results): (Vec<FileOutcome>, Vec<FileOutcome>) = rayon::join(
        || big.iter().map(|(_, p)| analyse(p)).collect(),
        || {
            small
                .par_iter()
                .with_max_len(1)
                .map(|(_, p)| analyse(p))
                .collect()
        },
    );
    results.extend(small_results);
    timer.lap("read, parse and extract");
    let mut stats = Stats {
        files_seen: files.len() + skipped_named.len(),
        ..Default::default()
    };
    for reason in skipped_named {
        *stats.skipped.entry(reason).or_default() += 1;
    }
    let mut facts = Vec::new();
    let mut digests = HashMap::new();
    for r in results {
        problems.extend(r.problems);
        if let Some(reason) = r.skipped {
            *stats.skipped.entry(reason).or_default() += 1;
        }
        if let Some(f) = r.facts {
            stats.files_parsed += 1;
            stats.bytes_parsed += r.bytes;
            if let Some(d) = r.digest {
                digests.insert(f.path.clone(), d);
            }
            facts.push(f);
        }
    }
    if stats.files_parsed == 0 {
        problems.push(nothing_linted(
            options,
            files.is_empty() && stats.skipped.is_empty(),
        ));
    }
    lower_neighbours(&mut facts, &digests);
    timer.lap("lower the modules next to them");
    let mut report = check_project(facts, &digests, options, &mut problems, &mut timer);
    report.stats = Stats {
        suppressed: report.stats.suppressed,
        routes: report.stats.routes,
        ..stats
    };
    problems.sort();
    problems.dedup();
    report.problems = problems;
    report.files = files;
    report
}

/// The warning for a run that linted nothing (as ruff does): a CI job
/// pointed at the wrong folder, or a `.gitignore` that ignores everything,
/// must not pass silently.
fn nothing_linted(options: &Options, none_found: bool) -> Problem {
    let paths = options
        .paths
        .iter()
        .map(|p| format!("`{}`", slash_path(p)))
        .collect::<Vec<_>>()
        .join(", ");
    Problem {
        kind: ProblemKind::Warning,
        position: None,
        path: None,
        message: if none_found {
            format!(
                "nothing linted: no Python, JavaScript or TypeScript files found in {paths} (check the paths, excludes and .gitignore)"
            )
        } else {
            format!("nothing linted: every file found in {paths} was skipped (see the warnings)")
        },
    }
}

struct FileOutcome {
    facts: Option<FileFacts>,
    problems: Vec<Problem>,
    bytes: u64,
    /// The analysed bytes' identity, to check them when reporting.
    digest: Option<Digest>,
    /// Why the file was not linted, for `--statistics`.
    skipped: Option<&'static str>,
}

impl FileOutcome {
    fn skip(mut self, reason: &'static str, problem: Problem) -> FileOutcome {
        self.skipped = Some(reason);
        self.problems.push(problem);
        self
    }
}

fn analyse_file(path: &Path) -> FileOutcome {
    let out = FileOutcome {
        facts: None,
        problems: Vec::new(),
        bytes: 0,
        digest: None,
        skipped: None,
    };
    let Some(lang) = Lang::from_path(path) else {
        return out;
    };
    // Standard input stands in for the file an editor is linting.
    let read = match crate::vfs::stdin_bytes(path) {
        Some(bytes) if bytes.len() as u64 <= MAX_FILE_BYTES => Ok(bytes),
        Some(bytes) => Err(ReadError::TooLarge(bytes.len() as u64)),
        None => read_source(path, MAX_FILE_BYTES),
    };
    let bytes = match read {
        Ok(b) => b,
        Err(ReadError::TooLarge(size)) => {
            return out.skip(
                "over the size limit",
                Problem::warning(
                    path,
                    if size > MAX_FILE_BYTES + 1 {
                        format!(
                            "skipped: {:.1} MB is over the {} MB limit for one file",
                            mb(size),
                            MAX_FILE_BYTES >> 20
                        )
                    } else {
                        // Found while reading (a growing file): the rest
                        // was never read.
                        format!(
                            "skipped: over the {} MB limit for one file",
                            MAX_FILE_BYTES >> 20
                        )
                    },
                ),
            );
        }
        Err(ReadError::NotRegular(kind)) => {
            return out.skip(
                "not a regular file",
                Problem::warning(path, format!("skipped: {kind}, not a regular file")),
            );
        }
        Err(ReadError::Io(e)) => {
            return out.skip(
                "unreadable",
                Problem::error(path, format!("cannot read file: {e}")),
            );
        }
    };
    let mut out = out;
    out.digest = Some(Digest::of(&bytes));
    let len = bytes.len();
    let text = match decode(bytes) {
        Decoded::Utf8(t) => t,
        Decoded::Lossy(t) => {
            out.problems.push(Problem::warning(
                path,
                "not valid UTF-8: linted with invalid bytes replaced by U+FFFD",
            ));
            t
        }
        Decoded::Binary => {
            return out.skip(
                "binary",
                Problem::warning(path, "skipped: binary content (NUL bytes) in a source file"),
            );
        }
    };
    if len >= MINIFIED_MIN_BYTES {
        let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
        if len / lines >= MINIFIED_AVG_LINE {
            return out.skip(
                "minified or generated",
                Problem::warning(
                    path,
                    format!(
                        "skipped: looks minified or generated ({:.1} MB in {lines} line{}); lint the sources it was built from",
                        mb(len as u64),
                        if lines == 1 { "" } else { "s" }
                    ),
                ),
            );
        }
    }
    lang::budget::start(file_deadline());
    let analysed = catch_unwind(AssertUnwindSafe(|| extract_facts(path, lang, &text)));
    if lang::budget::finish() {
        // Stopped part-way: partial facts could claim protection or state
        // that is not there, so none of them is used.
        return out.skip(
            "over the time budget",
            Problem::warning(
                path,
                format!(
                    "skipped: parsing and analysis took longer than the {} s budget for one file (RATECHECK_FILE_TIMEOUT); no findings are reported for it",
                    file_timeout().map_or(0.0, |d| d.as_secs_f64())
                ),
            ),
        );
    }
    match analysed {
        Ok(Some(facts)) => {
            if facts.truncated {
                out.problems.push(Problem::warning(
                    path,
                    "nesting too deep to follow: the deepest parts were not analysed",
                ));
            }
            if facts.syntax_errors > 0 {
                let n = facts.syntax_errors;
                out.problems.push(Problem {
                    position: facts
                        .first_syntax_error
                        .map(|at| crate::source::position_of(&text, at)),
                    ..Problem::warning(
                        path,
                        format!(
                            "syntax error{}: findings come from the parts that parsed",
                            if n == 1 {
                                String::new()
                            } else {
                                format!("s ({n}; the first is here)")
                            }
                        ),
                    )
                });
            }
            out.bytes = len as u64;
            out.facts = Some(facts);
        }
        Ok(None) if lang.is_python() && lang::too_deeply_indented(&text) => {
            return out.skip(
                "too deeply indented",
                Problem::warning(
                    path,
                    format!(
                        "skipped: more than {} indentation levels, deeper than the Python parser can follow; no findings are reported for it",
                        lang::PYTHON_MAX_INDENT_LEVELS
                    ),
                ),
            )
        }
        Ok(None) => {
            return out.skip(
                "parser failed",
                Problem::error(path, "the parser could not process this file"),
            )
        }
        Err(panic) => {
            return out.skip(
                "internal error",
                Problem::error(
                    path,
                    format!(
                        "internal error while analysing this file (please report it): {}",
                        panic_message(&panic)
                    ),
                ),
            )
        }
    }
    out
}

/// The per-file budget: `FILE_TIMEOUT_SECS` or `RATECHECK_FILE_TIMEOUT`.
fn file_timeout() -> Option<std::time::Duration> {
    let secs = std::env::var("RATECHECK_FILE_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(FILE_TIMEOUT_SECS);
    (secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs.min(1e6)))
}

fn file_deadline() -> Option<std::time::Instant> {
    file_timeout().map(|t| std::time::Instant::now() + t)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Parse once and extract facts; the tree is dropped on return.
pub fn extract_facts(path: &Path, lang: Lang, text: &str) -> Option<FileFacts> {
    let tree = lang::parse(lang, text)?;
    let mut facts = match lang {
        Lang::Python => lang::python::extract(path, text, &tree),
        _ => lang::javascript::extract(path, lang, text, &tree),
    };
    facts.suppressions = crate::suppress::collect(&tree, text);
    facts.limits_requests = crate::lower::limits_requests(text);
    if crate::lower::worth_lowering(text) {
        let module = crate::lower::lower(lang, path, text, &tree);
        if std::env::var_os("RATECHECK_DEBUG_IR").is_some() {
            eprintln!("ir: {}\n{}", path.display(), crate::ir::dump(&module));
        }
        facts.ir = Some(Box::new(module));
    }
    Some(facts)
}

/// Files without limiter words are not lowered while they are parsed
/// (`lower::worth_lowering`), but a limiter's key, store or state often
/// lives in a helper module that limiting code imports, or in the module
/// that imports it. Lower the neighbours (one import away, either
/// direction) of files that limit requests (`lower::limits_requests`) now:
/// read again (and checked against the digest of what was parsed),
/// parsed and lowered, in parallel.
fn lower_neighbours(facts: &mut [FileFacts], digests: &HashMap<PathBuf, Digest>) {
    let index = crate::project::PathIndex::from_paths(facts.iter().map(|f| f.path.as_path()));
    let lowered: Vec<bool> = facts.iter().map(|f| f.ir.is_some()).collect();
    let limits: Vec<bool> = facts.iter().map(|f| f.limits_requests).collect();
    let mut wanted = vec![false; facts.len()];
    for (i, f) in facts.iter().enumerate() {
        let python = f.lang.is_some_and(|l| l.is_python());
        for import in &f.imports {
            let Some(t) = index.resolve(&f.path, &import.module, python) else {
                continue;
            };
            if limits[i] && !lowered[t] {
                wanted[t] = true;
            } else if limits[t] && !lowered[i] {
                wanted[i] = true;
            }
        }
    }
    let lower_again = |f: &FileFacts| -> Option<crate::ir::Module> {
        let lang = f.lang?;
        let bytes = read_source(&f.path, crate::lower::MAX_LOWERED_BYTES as u64).ok()?;
        if digests.get(&f.path) != Some(&Digest::of(&bytes)) {
            return None; // changed since it was parsed: keep what was judged
        }
        let text = match decode(bytes) {
            Decoded::Utf8(t) | Decoded::Lossy(t) => t,
            Decoded::Binary => return None,
        };
        let tree = lang::parse(lang, &text)?;
        Some(crate::lower::lower(lang, &f.path, &text, &tree))
    };
    facts
        .par_iter_mut()
        .zip(wanted)
        .filter(|(_, w)| *w)
        .for_each(|(f, _)| {
            if let Ok(Some(module)) = catch_unwind(AssertUnwindSafe(|| lower_again(f))) {
                f.ir = Some(Box::new(module));
            }
        });
}

/// Parse every file and nothing else: the benchmark's floor.
pub fn parse_only(options: &Options) -> (usize, u64, Vec<Problem>) {
    let pool = thread_pool(options.jobs);
    pool.install(|| {
        let (files, problems) = crate::discover::discover(options);
        let bytes: u64 = files
            .par_iter()
            .map(|p| {
                let Some(lang) = Lang::from_path(p) else {
                    return 0;
                };
                let Ok(b) = read_source(p, MAX_FILE_BYTES) else {
                    return 0;
                };
                let text = String::from_utf8_lossy(&b);
                lang::parse(lang, &text)
                    .map(|_| b.len() as u64)
                    .unwrap_or(0)
            })
            .sum();
        (files.len(), bytes, problems)
    })
}

fn check_project(
    facts: Vec<FileFacts>,
    digests: &HashMap<PathBuf, Digest>,
    options: &Options,
    problems: &mut Vec<Problem>,
    timer: &mut PhaseTimer,
) -> Report {
    if timer.enabled {
        let count = |f: &dyn Fn(&FileFacts) -> usize| facts.iter().map(f).sum::<usize>();
        eprintln!(
            "ratecheck: timing: facts: {} functions, {} call sites, {} params, {} containers, {} accesses, {} imports, {} instantiations",
            count(&|f| f.functions.len()),
            count(&|f| f.functions.iter().map(|x| x.calls.len()).sum()),
            count(&|f| f.functions.iter().map(|x| x.params.len()).sum()),
            count(&|f| f.containers.len()),
            count(&|f| f.accesses.len()),
            count(&|f| f.imports.len()),
            count(&|f| f.instantiations.len()),
        );
    }
    let project = Project::build(facts);
    timer.lap("project phase");
    let rules: Vec<&dyn rules::Rule> = rules::RULES
        .iter()
        .copied()
        .filter(|r| options.rules.contains(&r.id()))
        .collect();
    let rule_problems = Mutex::new(Vec::new());
    let mut findings: Vec<(usize, Finding)> = (0..project.files.len())
        .into_par_iter()
        .flat_map_iter(|fi| {
            let mut out = Vec::new();
            // Test files and mocks never serve traffic: no rule judges them
            // (they still feed the project phase, e.g. call resolution).
            if crate::knowledge::is_test_path(&project.files[fi].path) {
                return out;
            }
            for rule in &rules {
                let mut found = Vec::new();
                let ran = catch_unwind(AssertUnwindSafe(|| {
                    rule.check_file(&project, fi, &options.rule_options, &mut found)
                }));
                match ran {
                    Ok(()) => out.extend(found.into_iter().map(|f| (fi, f))),
                    Err(panic) => rule_problems
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(Problem::error(
                            &project.files[fi].path,
                            format!(
                                "internal error in rule {} (please report it): {}",
                                rule.id(),
                                panic_message(&panic)
                            ),
                        )),
                }
            }
            out
        })
        .collect();
    problems.extend(
        rule_problems
            .into_inner()
            .unwrap_or_else(|e| e.into_inner()),
    );
    for (_, f) in &mut findings {
        if let Some(sev) = options.severity_overrides.get(f.rule_id) {
            f.severity = *sev;
        }
    }
    timer.lap("rules");
    let mut report = Report::default();
    if options.route_statistics && options.rules.contains(&"RATE001") {
        report.stats.routes = Some(rules::rate001_unprotected_route::statistics(
            &project,
            &options.rule_options,
        ));
    }
    if options.route_inventory {
        let listed = catch_unwind(AssertUnwindSafe(|| {
            rules::rate001_unprotected_route::inventory(&project, &options.rule_options)
        }));
        match listed {
            Ok(entries) => report.routes = place_routes(entries, &project, digests, problems),
            Err(panic) => problems.push(Problem {
                kind: ProblemKind::Error,
                path: None,
                position: None,
                message: format!(
                    "internal error while listing routes (please report it): {}",
                    panic_message(&panic)
                ),
            }),
        }
    }
    let (located, unused, sources) = locate(
        findings,
        &project,
        digests,
        problems,
        &mut report.stats,
        options,
    );
    report.findings = located;
    report.unused_suppressions = unused;
    report.sources = sources;
    timer.lap("locate and sort");
    report
}

/// Load `path` into `sources` once, from the bytes that were analysed: a
/// file whose bytes differ now (edited while being linted) gets an error
/// and `None`, so nothing is placed on the wrong lines.
fn load_analysed(
    sources: &mut HashMap<PathBuf, Option<SourceFile>>,
    path: &Path,
    digests: &HashMap<PathBuf, Digest>,
    problems: &mut Vec<Problem>,
) -> bool {
    if !sources.contains_key(path) {
        let bytes = match crate::vfs::stdin_bytes(path) {
            Some(b) => Ok(b),
            None => read_source(path, MAX_FILE_BYTES),
        };
        let loaded = match bytes {
            Ok(b) if digests.get(path) == Some(&Digest::of(&b)) => match decode(b) {
                Decoded::Utf8(t) | Decoded::Lossy(t) => {
                    Some(SourceFile::new(path.to_path_buf(), t))
                }
                Decoded::Binary => None,
            },
            _ => None,
        };
        if loaded.is_none() {
            problems.push(Problem::error(
                path,
                "file changed or vanished while being linted: its findings were not reported; lint it again",
            ));
        }
        sources.insert(path.to_path_buf(), loaded);
    }
    sources[path].is_some()
}

/// Place `--routes`' entries (and their evidence) on lines, in file and
/// line order.
fn place_routes(
    entries: Vec<rules::rate001_unprotected_route::RouteEntry>,
    project: &Project,
    digests: &HashMap<PathBuf, Digest>,
    problems: &mut Vec<Problem>,
) -> Vec<LocatedRoute> {
    use rules::rate001_unprotected_route::Status;
    let mut sources: HashMap<PathBuf, Option<SourceFile>> = HashMap::new();
    let mut routes = Vec::new();
    for e in entries {
        let path = &project.files[e.file].path;
        if !load_analysed(&mut sources, path, digests, problems) {
            continue;
        }
        let at = sources[path]
            .as_ref()
            .expect("loaded")
            .position(e.span.start);
        let (verdict, evidence) = match e.status {
            Status::Protected(ev) => ("protected", Some(ev)),
            Status::Unprotected(_) => ("unprotected", None),
            Status::Unresolved(_, ev) => ("unresolved", Some(ev)),
            Status::Skipped(ev) => ("skipped", Some(ev)),
        };
        let evidence_at = evidence.as_ref().and_then(|ev| {
            let (file, offset) = ev.at?;
            let epath = &project.files[file].path;
            if !load_analysed(&mut sources, epath, digests, problems) {
                return None;
            }
            let line = sources[epath].as_ref()?.position(offset).line;
            Some((epath.clone(), line))
        });
        routes.push(LocatedRoute {
            path: path.clone(),
            line: at.line,
            column: at.column,
            framework: format!("{:?}", e.framework).to_ascii_lowercase(),
            method: e.method,
            route: e.path,
            handler: e.handler,
            verdict,
            severity: e.severity,
            evidence: evidence.map(|ev| ev.what),
            evidence_at,
        });
    }
    routes.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.method).cmp(&(&b.path, b.line, b.column, &b.method))
    });
    routes
}

/// Resolve byte spans to positions, drop suppressed findings, fingerprint
/// and sort. Only files with findings are read again, and only their
/// analysed bytes are used: a file whose bytes differ from what was parsed
/// (edited while being linted) gets an error naming it and its findings
/// are dropped, never placed on the wrong lines. Returns the texts, for
/// the emitters.
fn locate(
    findings: Vec<(usize, Finding)>,
    project: &Project,
    digests: &HashMap<PathBuf, Digest>,
    problems: &mut Vec<Problem>,
    stats: &mut Stats,
    options: &Options,
) -> (
    Vec<LocatedFinding>,
    Vec<crate::suppress::Unused>,
    HashMap<PathBuf, SourceFile>,
) {
    let report_root = options.report_root.as_deref();
    let mut used_suppressions: HashMap<usize, std::collections::HashSet<crate::suppress::Key>> =
        HashMap::new();
    let mut sources: HashMap<PathBuf, Option<SourceFile>> = HashMap::new();
    let load = |sources: &mut HashMap<PathBuf, Option<SourceFile>>,
                path: &Path,
                problems: &mut Vec<Problem>|
     -> bool { load_analysed(sources, path, digests, problems) };
    let mut located = Vec::new();
    for (fi, f) in findings {
        if !load(&mut sources, &f.path, problems) {
            continue;
        }
        for l in &f.labels {
            load(&mut sources, &l.path, problems);
        }
        let src = sources[&f.path].as_ref().expect("loaded above");
        let start = src.position(f.span.start);
        let def_line = crate::suppress::def_line(&f.path, src, start.line);
        if let Some(key) = crate::suppress::lookup(
            &project.files[fi].suppressions,
            f.rule_id,
            start.line,
            def_line,
        ) {
            used_suppressions.entry(fi).or_default().insert(key);
            stats.suppressed += 1;
            continue;
        }
        let end = src.position(f.span.end);
        // A label in a file that changed is left out, not misplaced.
        let labels = f
            .labels
            .iter()
            .filter_map(|l| {
                let s = sources.get(&l.path)?.as_ref()?;
                Some(LocatedLabel {
                    path: l.path.clone(),
                    start: s.position(l.span.start),
                    end: s.position(l.span.end),
                    message: l.message.clone(),
                })
            })
            .collect();
        let code: String = src
            .slice(f.span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let fingerprint_base = format!(
            "{}\0{}\0{}",
            f.rule_id,
            crate::scope::report_path(&f.path, report_root),
            code
        );
        located.push(LocatedFinding {
            finding: f,
            start,
            end,
            labels,
            fingerprint: fingerprint_base,
        });
    }
    located.sort_by(|a, b| {
        (
            &a.finding.path,
            a.start,
            a.finding.rule_id,
            &a.finding.message,
        )
            .cmp(&(
                &b.finding.path,
                b.start,
                b.finding.rule_id,
                &b.finding.message,
            ))
    });
    // The same finding twice (one call reached along two paths of the
    // model) is one finding.
    located.dedup_by(|a, b| {
        a.finding.path == b.finding.path
            && a.start == b.start
            && a.end == b.end
            && a.finding.rule_id == b.finding.rule_id
            && a.finding.message == b.finding.message
    });
    // Identical code flagged twice in one file: number the repeats.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for f in &mut located {
        let n = seen.entry(f.fingerprint.clone()).or_insert(0);
        f.fingerprint = format!(
            "{:016x}",
            fnv1a(format!("{}\0{}", f.fingerprint, n).as_bytes())
        );
        *n += 1;
    }
    let every_rule_ran = rules::RULES.iter().all(|r| options.rules.contains(&r.id()));
    let no_keys = std::collections::HashSet::new();
    let mut unused = Vec::new();
    for (fi, file) in project.files.iter().enumerate() {
        for (line, code) in crate::suppress::unknown_codes(&file.suppressions) {
            problems.push(Problem::warning(
                &file.path,
                format!("line {line}: unknown rule `{code}` in a `ratecheck: ignore` comment: it silences nothing (see `ratecheck --list-rules`)"),
            ));
        }
        if crate::knowledge::is_test_path(&file.path) {
            continue; // no rule judged it
        }
        unused.extend(crate::suppress::unused(
            &file.path,
            &file.suppressions,
            used_suppressions.get(&fi).unwrap_or(&no_keys),
            &options.rules,
            every_rule_ran,
        ));
    }
    unused.sort();
    let sources = sources
        .into_iter()
        .filter_map(|(path, src)| Some((path, src?)))
        .collect();
    (located, unused, sources)
}

/// A path with `/` separators, as shown in reports on every platform.
pub fn slash_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// FNV-1a, 64 bit: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Lint in-memory sources as one project (tests and fixtures). Paths are
/// used for language detection, import resolution and reporting only.
pub fn lint_sources(files: &[(&str, &str)]) -> Vec<LocatedFinding> {
    let dir = tempdir_for_sources(files);
    let options = Options {
        paths: vec![dir.clone()],
        respect_gitignore: false,
        ..Default::default()
    };
    let report = std::env::current_dir()
        .ok()
        .map(|_| {
            with_cwd(&dir, || {
                run(&Options {
                    paths: vec![PathBuf::from(".")],
                    ..options.clone()
                })
            })
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    report.findings
}

fn tempdir_for_sources(files: &[(&str, &str)]) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ratecheck-src-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    for (path, text) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create temp dir");
        }
        std::fs::write(&p, text).expect("write temp source");
    }
    dir
}

/// Run `f` with `dir` as the working directory, so reported paths are
/// relative. Serialised: the working directory is process-wide.
fn with_cwd<T>(dir: &Path, f: impl FnOnce() -> T) -> T {
    static CWD_LOCK: Mutex<()> = Mutex::new(());
    let _guard = CWD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let old = std::env::current_dir().expect("cwd");
    std::env::set_current_dir(dir).expect("enter temp dir");
    let result = catch_unwind(AssertUnwindSafe(f));
    std::env::set_current_dir(old).expect("restore cwd");
    match result {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

#[cfg(test)]
#[path = "engine_reliability_tests.rs"]
mod reliability_tests;
