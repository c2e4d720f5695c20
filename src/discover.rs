//! Which files to lint: walk the given paths in parallel, honouring
//! `.gitignore` (also outside git repositories) and the exclude globs, and
//! keep files with a known source extension. A file named explicitly on
//! the command line is linted even if an exclude pattern matches it (as in
//! ruff and eslint).

use crate::engine::{Options, Problem, ProblemKind, DEFAULT_EXCLUDES};
use crate::lang::Lang;
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Exclude patterns: a pattern without `/` matches any path component
/// (`dist`, `*.min.js`); one with `/` matches the path below the walked root.
pub struct Excludes {
    names: GlobSet,
    paths: GlobSet,
    /// Absolute patterns (a config file's, anchored at its folder): matched
    /// against absolute paths.
    anchored: GlobSet,
    cwd: PathBuf,
}

impl Excludes {
    pub fn new(patterns: &[String]) -> Result<Excludes, String> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        let mut anchored = GlobSetBuilder::new();
        for p in patterns {
            let p = p.trim_end_matches('/');
            let glob =
                |s: &str| Glob::new(s).map_err(|e| format!("invalid exclude pattern `{p}`: {e}"));
            if Path::new(p).is_absolute() {
                anchored.add(glob(p)?);
                anchored.add(glob(&format!("{p}/**"))?);
            } else if p.contains('/') {
                let anchored = p.trim_start_matches("./");
                paths.add(glob(anchored)?);
                paths.add(glob(&format!("{anchored}/**"))?);
                if !anchored.starts_with("**/") {
                    paths.add(glob(&format!("**/{anchored}"))?);
                    paths.add(glob(&format!("**/{anchored}/**"))?);
                }
            } else {
                names.add(glob(p)?);
            }
        }
        Ok(Excludes {
            names: names.build().map_err(|e| e.to_string())?,
            paths: paths.build().map_err(|e| e.to_string())?,
            anchored: anchored.build().map_err(|e| e.to_string())?,
            cwd: std::env::current_dir().unwrap_or_default(),
        })
    }

    pub fn matches(&self, path: &Path) -> bool {
        let name_hit = path
            .file_name()
            .is_some_and(|n| self.names.is_match(Path::new(n)));
        let rel = path.strip_prefix(".").unwrap_or(path);
        name_hit
            || self.paths.is_match(rel)
            || (!self.anchored.is_empty() && self.anchored.is_match(self.cwd.join(rel)))
    }
}

pub fn exclude_patterns(options: &Options) -> Vec<String> {
    let mut patterns: Vec<String> = Vec::new();
    if options.default_excludes {
        patterns.extend(DEFAULT_EXCLUDES.iter().map(|s| s.to_string()));
    }
    patterns.extend(options.excludes.iter().cloned());
    patterns
}

const SKIPPED_SPECIAL: &str = "skipped: not a regular file or folder";
const SKIPPED_OTHER: &str = "skipped: not a Python, JavaScript or TypeScript file";

/// For `--statistics`: the reason a path named on the command line was
/// skipped, from the warning `discover` gave.
pub fn skip_reason(message: &str) -> Option<&'static str> {
    if message.starts_with(SKIPPED_SPECIAL) {
        Some("not a regular file")
    } else if message == SKIPPED_OTHER {
        Some("not a source file")
    } else {
        None
    }
}

/// Files to lint, sorted, and problems met on the way (missing paths,
/// unreadable folders).
pub fn discover(options: &Options) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut problems = Vec::new();
    let excludes = match Excludes::new(&exclude_patterns(options)) {
        Ok(e) => e,
        Err(message) => {
            problems.push(Problem {
                kind: ProblemKind::Error,
                position: None,
                path: None,
                message,
            });
            return (Vec::new(), problems);
        }
    };
    let mut files = Vec::new();
    let mut roots = Vec::new();
    for path in &options.paths {
        match std::fs::metadata(path) {
            Err(e) => problems.push(Problem {
                kind: ProblemKind::Error,
                position: None,
                path: Some(path.clone()),
                message: if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file or directory".to_string()
                } else {
                    format!("cannot access: {e}")
                },
            }),
            Ok(m) if m.is_dir() => roots.push(path.clone()),
            // FIFOs, devices and sockets are never opened: a FIFO would
            // block the run forever, a device would never end.
            Ok(m) if !m.is_file() => problems.push(Problem {
                kind: ProblemKind::Warning,
                position: None,
                path: Some(path.clone()),
                message: format!(
                    "{SKIPPED_SPECIAL}: {}",
                    crate::source::special_kind(m.file_type()).unwrap_or("not a regular file")
                ),
            }),
            Ok(_) => {
                if Lang::from_path(path).is_some() {
                    files.push(display_path(path));
                } else {
                    problems.push(Problem {
                        kind: ProblemKind::Warning,
                        position: None,
                        path: Some(path.clone()),
                        message: SKIPPED_OTHER.to_string(),
                    });
                }
            }
        }
    }
    if let Some((first, rest)) = roots.split_first() {
        let mut builder = WalkBuilder::new(first);
        for r in rest {
            builder.add(r);
        }
        builder
            .hidden(false)
            .git_ignore(options.respect_gitignore)
            .git_global(options.respect_gitignore)
            .git_exclude(options.respect_gitignore)
            .ignore(options.respect_gitignore)
            .parents(options.respect_gitignore)
            .require_git(false)
            .follow_links(false);
        let found = Mutex::new(Vec::new());
        let walk_problems = Mutex::new(Vec::new());
        let excludes = &excludes;
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(e) => {
                        let is_root = e.depth() == 0;
                        if !is_root && excludes.matches(e.path()) {
                            return WalkState::Skip;
                        }
                        if e.file_type().is_some_and(|t| t.is_file())
                            && Lang::from_path(e.path()).is_some()
                        {
                            found
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(display_path(e.path()));
                        }
                    }
                    Err(err) => walk_problems
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(walk_error(err)),
                }
                WalkState::Continue
            })
        });
        files.extend(found.into_inner().unwrap_or_else(|p| p.into_inner()));
        problems.extend(
            walk_problems
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
        );
    }
    files.sort();
    files.dedup();
    (files, problems)
}

fn walk_error(err: ignore::Error) -> Problem {
    let (path, message) = split_walk_error(&err);
    // A broken .gitignore line only weakens filtering; everything else
    // (an unreadable folder) means files were not linted.
    let kind = if matches!(err, ignore::Error::Glob { .. }) || message.contains("gitignore") {
        ProblemKind::Warning
    } else {
        ProblemKind::Error
    };
    Problem {
        kind,
        path,
        position: None,
        message,
    }
}

fn split_walk_error(err: &ignore::Error) -> (Option<PathBuf>, String) {
    match err {
        ignore::Error::WithPath { path, err } => (
            Some(display_path(path)),
            format!("cannot read: {}", split_walk_error(err).1),
        ),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            split_walk_error(err)
        }
        ignore::Error::Io(e) => (None, e.to_string()),
        other => (None, other.to_string()),
    }
}

/// Paths as the user will see them: relative to the working directory
/// when below it, without a leading `./`.
pub fn display_path(path: &Path) -> PathBuf {
    let stripped = path.strip_prefix(".").unwrap_or(path);
    if stripped.is_absolute() {
        if let Ok(cwd) = std::env::current_dir() {
            if let Ok(rel) = stripped.strip_prefix(&cwd) {
                return rel.to_path_buf();
            }
        }
    }
    stripped.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_patterns_match_names_and_paths() {
        let ex =
            Excludes::new(&["node_modules".into(), "*.min.js".into(), "src/gen".into()]).unwrap();
        assert!(ex.matches(Path::new("a/node_modules")));
        assert!(ex.matches(Path::new("./web/app.min.js")));
        assert!(ex.matches(Path::new("src/gen")));
        assert!(ex.matches(Path::new("./pkg/src/gen/x.py")));
        assert!(!ex.matches(Path::new("src/general.py")));
        assert!(!ex.matches(Path::new("app.js")));
        assert!(Excludes::new(&["a[".into()]).is_err());
    }
}
