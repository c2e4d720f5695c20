//! Source text that is not on disk: `--stdin-filename PATH` lints standard
//! input as if it were PATH (an editor's unsaved buffer). Every read of
//! source text goes through `read`, which serves that text for PATH and
//! the file system for everything else. Set once, by the command line.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Virtual {
    /// Absolute, for comparison.
    absolute: PathBuf,
    /// As the engine lists and reports it.
    display: PathBuf,
    text: String,
}

static STDIN_FILE: OnceLock<Virtual> = OnceLock::new();

/// Serve `text` for `path` from now on. Only the first call counts.
pub fn set_stdin_file(path: &Path, text: String) {
    let absolute = crate::scope::absolute(path);
    let display = crate::discover::display_path(&absolute);
    let _ = STDIN_FILE.set(Virtual {
        absolute,
        display,
        text,
    });
}

/// The stdin file as the engine lists it, if there is one.
pub fn stdin_file() -> Option<&'static Path> {
    STDIN_FILE.get().map(|v| v.display.as_path())
}

/// Standard input's bytes when `path` is the stdin file.
pub fn stdin_bytes(path: &Path) -> Option<Vec<u8>> {
    let v = STDIN_FILE.get()?;
    (path == v.display || crate::scope::absolute(path) == v.absolute)
        .then(|| v.text.clone().into_bytes())
}

/// The bytes of `path`: standard input's for the stdin file, else the file's.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(v) = STDIN_FILE.get() {
        if path == v.display || crate::scope::absolute(path) == v.absolute {
            return Ok(v.text.clone().into_bytes());
        }
    }
    std::fs::read(path)
}
