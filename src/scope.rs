//! Where a file belongs: its project root (what is analysed when only the
//! file is named, and what test folders are judged against) and its
//! repository root (what SARIF, `github` annotations, fingerprints and
//! baselines are relative to, whatever the working directory).

use std::path::{Component, Path, PathBuf};

/// Files and folders that mark a project's root folder: ratecheck's own
/// configuration, a package manifest, or a version-control root.
pub const PROJECT_MARKERS: &[&str] = &[
    "ratecheck.toml",
    ".ratecheck.toml",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    "package.json",
    "deno.json",
    ".git",
    ".hg",
];

/// Version-control roots: the folder code scanning calls the repository.
pub const VCS_MARKERS: &[&str] = &[".git", ".hg"];

/// An absolute path without `.` and `..` components; symbolic links are
/// resolved when the path exists (so that `./a.py`, `a.py` and
/// `/abs/a.py` compare equal).
pub fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    // A path that does not exist (yet): resolve its parent if that exists.
    if let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) {
        if let Ok(p) = std::fs::canonicalize(parent) {
            return p.join(name);
        }
    }
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The nearest folder at or above `path` (a file's own folder for a file)
/// that holds one of `markers`.
fn nearest_with(path: &Path, markers: &[&str]) -> Option<PathBuf> {
    let abs = absolute(path);
    let start = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent()?
    };
    start
        .ancestors()
        .find(|d| markers.iter().any(|m| d.join(m).exists()))
        .map(Path::to_path_buf)
}

/// The project `path` belongs to: the nearest folder with a ratecheck
/// configuration, a package manifest or a version-control root.
pub fn project_root(path: &Path) -> Option<PathBuf> {
    nearest_with(path, PROJECT_MARKERS)
}

/// The repository `path` belongs to (the nearest `.git` or `.hg`).
pub fn vcs_root(path: &Path) -> Option<PathBuf> {
    nearest_with(path, VCS_MARKERS)
}

/// The root that reports are relative to: the repository of `path`, else
/// the working directory.
pub fn report_root(path: &Path) -> PathBuf {
    vcs_root(path).unwrap_or_else(|| absolute(Path::new(".")))
}

/// `path` relative to `root` when it lies below it (with `/` separators on
/// every platform), else `None`.
pub fn relative_to(path: &Path, root: &Path) -> Option<String> {
    let abs = absolute(path);
    let rel = abs.strip_prefix(root).ok()?;
    Some(crate::engine::slash_path(rel))
}

/// How a path is written in reports that code scanning reads: relative to
/// `root` when below it, else as given.
pub fn report_path(path: &Path, root: Option<&Path>) -> String {
    root.and_then(|r| relative_to(path, r))
        .unwrap_or_else(|| crate::engine::slash_path(path))
}

/// What to analyse and what to report on, from the paths on the command
/// line. A folder is analysed and reported as given. A file is judged in
/// its project: its project root is analysed (so an app-wide limiter in
/// another file counts), and only the file is reported.
#[derive(Debug, Default)]
pub struct Targets {
    /// Paths for the engine: folders as given, files' project roots, and
    /// the files themselves (a file named on the command line is always
    /// linted, even where an exclude pattern would skip it).
    pub analyse: Vec<PathBuf>,
    /// `None`: report on everything analysed.
    pub report: Option<ReportScope>,
}

/// The files and folders to report on (absolute).
#[derive(Debug, Default)]
pub struct ReportScope {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl ReportScope {
    pub fn contains(&self, path: &Path) -> bool {
        let abs = absolute(path);
        self.files.contains(&abs) || self.dirs.iter().any(|d| abs.starts_with(d))
    }
}

/// A path as the engine should walk it: relative to the working directory
/// when below it (`.` for the working directory itself), else absolute.
fn walk_path(abs: &Path) -> PathBuf {
    let shown = crate::discover::display_path(abs);
    if shown.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        shown
    }
}

pub fn targets(paths: &[PathBuf], stdin_file: Option<&Path>) -> Targets {
    let mut dirs: Vec<(PathBuf, PathBuf)> = Vec::new(); // (as given, absolute)
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for p in paths {
        if std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            files.push((p.clone(), absolute(p)));
        } else {
            // Folders, and missing paths (the engine reports those).
            dirs.push((p.clone(), absolute(p)));
        }
    }
    let stdin_abs = stdin_file.map(absolute);
    if files.is_empty() && stdin_abs.is_none() {
        return Targets {
            analyse: paths.to_vec(),
            report: None,
        };
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    for abs in files.iter().map(|(_, a)| a).chain(stdin_abs.iter()) {
        if let Some(root) = project_root(abs) {
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
    }
    // A root inside another root or inside a folder argument is walked once.
    let covering: Vec<PathBuf> = roots
        .iter()
        .chain(dirs.iter().map(|(_, a)| a))
        .cloned()
        .collect();
    roots.retain(|r| !covering.iter().any(|c| c != r && r.starts_with(c)));
    let mut analyse: Vec<PathBuf> = roots.iter().map(|r| walk_path(r)).collect();
    for (given, abs) in &dirs {
        if !roots.iter().any(|r| abs.starts_with(r)) {
            analyse.push(given.clone());
        }
    }
    for (given, _) in &files {
        // The parent resolved, the name kept: a symbolic link named on the
        // command line is read as named.
        let parent = given
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        match given.file_name() {
            Some(name) => analyse.push(walk_path(&absolute(parent).join(name))),
            None => analyse.push(given.clone()),
        }
    }
    let report = ReportScope {
        files: files
            .iter()
            .map(|(_, a)| a.clone())
            .chain(stdin_abs)
            .collect(),
        dirs: dirs.iter().map(|(_, a)| a.clone()).collect(),
    };
    Targets {
        analyse,
        report: Some(report),
    }
}

static INCLUDE_TESTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--include-tests`: judge test, spec and mock files like any other.
pub fn set_include_tests(on: bool) {
    INCLUDE_TESTS.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn include_tests() -> bool {
    INCLUDE_TESTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// An absolute path without `.` and `..`, without touching the file system
/// beyond the working directory.
fn lexical_absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match std::env::current_dir() {
            Ok(d) => d.join(path),
            Err(_) => return path.to_path_buf(),
        }
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` below its project root (the nearest folder with a project
/// marker), or `None` when it has none. Cached per folder.
pub fn project_relative(path: &Path) -> Option<PathBuf> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static ROOTS: Mutex<Option<HashMap<PathBuf, Option<PathBuf>>>> = Mutex::new(None);
    let abs = lexical_absolute(path);
    let dir = abs.parent()?.to_path_buf();
    let cached = ROOTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&dir)
        .cloned();
    let root = match cached {
        Some(root) => root,
        None => {
            let root = dir
                .ancestors()
                .find(|d| PROJECT_MARKERS.iter().any(|m| d.join(m).exists()))
                .map(Path::to_path_buf);
            ROOTS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(HashMap::new)
                .insert(dir, root.clone());
            root
        }
    };
    Some(abs.strip_prefix(root?).ok()?.to_path_buf())
}

/// Whether `path` is test, spec or mock code, judged on its path below its
/// project root (a project kept under `spec/` is not a test of anything),
/// or on the path as given when it has no project root. Always false with
/// `--include-tests`.
pub fn is_test_file(path: &Path) -> bool {
    if include_tests() {
        return false;
    }
    match project_relative(path) {
        Some(rel) => crate::knowledge::is_test_relative_path(&rel),
        None => crate::knowledge::is_test_relative_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_the_nearest_marker() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("repo/.git")).unwrap();
        std::fs::create_dir_all(root.join("repo/web/src/routes")).unwrap();
        std::fs::write(root.join("repo/web/package.json"), "{}").unwrap();
        let file = root.join("repo/web/src/routes/users.js");
        std::fs::write(&file, "").unwrap();
        assert_eq!(project_root(&file), Some(root.join("repo/web")));
        assert_eq!(vcs_root(&file), Some(root.join("repo")));
        assert_eq!(
            relative_to(&file, &root.join("repo")).as_deref(),
            Some("web/src/routes/users.js")
        );
        assert_eq!(
            absolute(&root.join("repo/web/../web/./x.py")),
            root.join("repo/web/x.py")
        );
    }
}
