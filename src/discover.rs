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
    // Roots below a folder with a FIFO or device for an ignore file are
    // walked without ignore files (the crate reads every parent's).
    let (plain, hostile): (Vec<PathBuf>, Vec<PathBuf>) = roots.into_iter().partition(|r| {
        !options.respect_gitignore || hostile_ignore_file_above(r, &mut problems).is_none()
    });
    let hostile_dirs = walk(
        &plain,
        options.respect_gitignore,
        &excludes,
        &mut files,
        &mut problems,
    );
    // Folders whose own ignore file is a FIFO or device, met while walking:
    // walked again without ignore files, which also keeps the crate from
    // opening anything below them. Their own nested hostile folders are
    // then never met (nothing is read), so this ends.
    let mut pending = hostile;
    pending.extend(hostile_dirs);
    walk(&pending, false, &excludes, &mut files, &mut problems);
    files.sort();
    files.dedup();
    (files, problems)
}

/// Ignore files the `ignore` crate opens in a folder as it walks. It opens
/// them with a blocking `open`: a FIFO would hang the whole run, and a
/// device would be read for ever.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore", ".git/info/exclude"];

/// An ignore file of `dir` that exists and is not a regular file (or a
/// folder, which the crate reports as an error without blocking), with
/// what it is.
fn hostile_ignore_file(dir: &Path) -> Option<(PathBuf, &'static str)> {
    IGNORE_FILES.iter().find_map(|name| {
        let path = dir.join(name);
        // `metadata` follows symbolic links, as the crate's `open` does.
        let meta = std::fs::metadata(&path).ok()?;
        crate::source::special_kind(meta.file_type()).map(|kind| (path, kind))
    })
}

fn hostile_ignore_warning(path: &Path, kind: &str, folder: &Path) -> Problem {
    Problem {
        kind: ProblemKind::Warning,
        path: Some(display_path(path)),
        position: None,
        message: format!(
            "ignore file skipped: {kind}, not a regular file; files in `{}` were linted without ignore files",
            crate::engine::slash_path(&display_path(folder))
        ),
    }
}

/// A hostile ignore file in `root` or a folder above it (the crate reads
/// the ignore files of every parent of a root), with a warning.
fn hostile_ignore_file_above(root: &Path, problems: &mut Vec<Problem>) -> Option<PathBuf> {
    let abs = crate::scope::absolute(root);
    let (path, kind) = abs.ancestors().find_map(hostile_ignore_file)?;
    problems.push(hostile_ignore_warning(&path, kind, root));
    Some(path)
}

/// Walk `roots` in parallel, adding source files to `files`. With
/// `ignore_files`, `.gitignore` / `.ignore` / `.git/info/exclude` are
/// honoured, and folders whose ignore file is a FIFO or device are not
/// entered but returned (with a warning).
fn walk(
    roots: &[PathBuf],
    ignore_files: bool,
    excludes: &Excludes,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) -> Vec<PathBuf> {
    let Some((first, rest)) = roots.split_first() else {
        return Vec::new();
    };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    let walk_problems = Mutex::new(Vec::new());
    // (folder, its ignore file, what that is); the filter must be 'static.
    let hostile = std::sync::Arc::new(Mutex::new(Vec::new()));
    builder
        .hidden(false)
        .git_ignore(ignore_files)
        .git_global(ignore_files)
        .git_exclude(ignore_files)
        .ignore(ignore_files)
        .parents(ignore_files)
        .require_git(false)
        .follow_links(false);
    if ignore_files {
        // Called before a folder is entered, so before the crate opens its
        // ignore files.
        let hostile = hostile.clone();
        builder.filter_entry(move |e| {
            if !e.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            match hostile_ignore_file(e.path()) {
                None => true,
                Some((path, kind)) => {
                    hostile.lock().unwrap_or_else(|p| p.into_inner()).push((
                        e.path().to_path_buf(),
                        path,
                        kind,
                    ));
                    false
                }
            }
        });
    }
    let found = Mutex::new(Vec::new());
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
    let hostile = std::mem::take(&mut *hostile.lock().unwrap_or_else(|p| p.into_inner()));
    hostile
        .into_iter()
        // The filter runs before the exclude check: an excluded folder
        // (`node_modules`) is not walked again, nor warned about.
        .filter(|(dir, _, _)| !excludes.matches(dir))
        .map(|(dir, path, kind)| {
            problems.push(hostile_ignore_warning(&path, kind, &dir));
            dir
        })
        .collect()
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
