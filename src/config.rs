//! Configuration files: `ratecheck.toml`, `.ratecheck.toml`, or
//! `[tool.ratecheck]` in `pyproject.toml`, found by walking up from the
//! first path. Keys are kebab-case and mirror the command-line flags;
//! unknown keys, bad values and unknown rule ids are errors that name the
//! offending key.

use crate::finding::Severity;
use crate::rules;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub format: Option<String>,
    pub exclude: Option<Vec<String>>,
    pub respect_gitignore: Option<bool>,
    pub limiter_names: Option<Vec<String>>,
    pub sensitive_routes: Option<Vec<String>>,
    pub skip_routes: Option<Vec<String>>,
    /// Like `--include-tests`.
    pub include_tests: Option<bool>,
    /// Glob (relative to this file's folder) → rule ids or prefixes that
    /// are not reported for the files it matches.
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// Like `--report-unused-ignores`.
    pub report_unused_ignores: Option<bool>,
    /// Where the rule pages are published (`{rule}` is replaced by the id).
    pub docs_url: Option<String>,
    /// Rule id → `error` | `warning` | `note`.
    pub severity: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Debug, Deserialize)]
struct PyProjectTool {
    ratecheck: Option<toml::Value>,
}

pub const FILE_NAMES: &[&str] = &["ratecheck.toml", ".ratecheck.toml", "pyproject.toml"];

/// The configuration file governing `start`, if any.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        for name in FILE_NAMES {
            let candidate = d.join(name);
            if !candidate.is_file() {
                continue;
            }
            if *name == "pyproject.toml" {
                // Only a pyproject that has a [tool.ratecheck] table counts.
                let has_section = std::fs::read_to_string(&candidate)
                    .map(|s| s.contains("[tool.ratecheck"))
                    .unwrap_or(false);
                if !has_section {
                    continue;
                }
            }
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let config = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let py: PyProject =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), one_line(&e)))?;
        match py.tool.and_then(|t| t.ratecheck) {
            Some(value) => value
                .try_into::<Config>()
                .map_err(|e| format!("{}: [tool.ratecheck]: {}", path.display(), one_line(&e)))?,
            None => Config::default(),
        }
    } else {
        toml::from_str::<Config>(&text)
            .map_err(|e| format!("{}: {}", path.display(), one_line(&e)))?
    };
    validate(&config).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(config)
}

fn one_line(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => format!("{msg} (at byte {})", span.start),
        None => msg,
    }
}

fn validate(config: &Config) -> Result<(), String> {
    for (key, list) in [("select", &config.select), ("ignore", &config.ignore)] {
        for id in list.iter().flatten() {
            if !rules::selector_matches_any(id) {
                return Err(format!("`{key}`: unknown rule `{id}`"));
            }
        }
    }
    if let Some(level) = &config.fail_on {
        Severity::parse(level).ok_or_else(|| {
            format!("`fail-on`: expected `error`, `warning` or `note`, found `{level}`")
        })?;
    }
    if let Some(format) = &config.format {
        if !crate::output::FORMATS.contains(&format.as_str()) {
            return Err(format!(
                "`format`: expected one of {}, found `{format}`",
                crate::output::FORMATS.join(", ")
            ));
        }
    }
    for (pattern, ids) in config.per_file_ignores.iter().flatten() {
        globset::Glob::new(pattern)
            .map_err(|e| format!("`per-file-ignores`: invalid pattern `{pattern}`: {e}"))?;
        for id in ids {
            if !rules::selector_matches_any(id) {
                return Err(format!(
                    "`per-file-ignores.\"{pattern}\"`: unknown rule `{id}`"
                ));
            }
        }
    }
    for (id, level) in config.severity.iter().flatten() {
        if rules::meta(&id.to_ascii_uppercase()).is_none() {
            return Err(format!("`severity`: unknown rule `{id}`"));
        }
        Severity::parse(level).ok_or_else(|| {
            format!("`severity.{id}`: expected `error`, `warning` or `note`, found `{level}`")
        })?;
    }
    Ok(())
}

/// The configuration's folder: relative `exclude` patterns with a `/` and
/// `per-file-ignores` patterns are anchored there.
pub fn folder(config_path: &Path) -> PathBuf {
    crate::scope::absolute(config_path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// `exclude` patterns of a configuration file: one with a `/` is anchored
/// at the file's folder (made absolute), unless it covers a path named on
/// the command line (which the user asked for); one without a `/` matches
/// a file or folder name anywhere.
pub fn anchor_excludes(patterns: &[String], folder: &Path, named: &[PathBuf]) -> Vec<String> {
    let named: Vec<PathBuf> = named.iter().map(|p| crate::scope::absolute(p)).collect();
    let base = globset::escape(&folder.to_string_lossy());
    let mut out = Vec::new();
    for p in patterns {
        let trimmed = p.trim_end_matches('/');
        if !trimmed.contains('/') {
            out.push(p.clone());
            continue;
        }
        let rel = trimmed.trim_start_matches("./").trim_start_matches('/');
        let anchored = format!("{}/{rel}", base.trim_end_matches('/'));
        let covers_named = globset::GlobSetBuilder::new()
            .add(match globset::Glob::new(&anchored) {
                Ok(g) => g,
                Err(_) => {
                    out.push(anchored);
                    continue;
                }
            })
            .add(globset::Glob::new(&format!("{anchored}/**")).expect("valid glob"))
            .build()
            .is_ok_and(|set| named.iter().any(|n| set.is_match(n)));
        if !covers_named {
            out.push(anchored);
        }
    }
    out
}

/// `per-file-ignores`: whether `rule_id` is ignored for `path`. A pattern
/// with a `/` matches the path below the configuration's folder (and
/// everything under a matching folder); one without matches a file or
/// folder name.
pub fn per_file_ignored(
    ignores: &BTreeMap<String, Vec<String>>,
    folder: &Path,
    path: &Path,
    rule_id: &str,
) -> bool {
    let Some(rel) = crate::scope::relative_to(path, folder) else {
        return false;
    };
    ignores.iter().any(|(pattern, ids)| {
        if !ids.iter().any(|s| rules::selector_matches(s, rule_id)) {
            return false;
        }
        let Ok(glob) = globset::Glob::new(pattern.trim_end_matches('/')) else {
            return false;
        };
        let m = glob.compile_matcher();
        if pattern.contains('/') {
            let rel_path = Path::new(&rel);
            rel_path.ancestors().any(|a| m.is_match(a))
        } else {
            Path::new(&rel)
                .components()
                .any(|c| m.is_match(c.as_os_str()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(name: &str, text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        load(&p)
    }

    #[test]
    fn accepts_known_keys() {
        let c = load_str(
            "ratecheck.toml",
            "select = [\"RATE002\"]\nfail-on = \"error\"\nlimiter-names = [\"guard\"]\n[severity]\nRATE002 = \"error\"\n",
        )
        .unwrap();
        assert_eq!(c.fail_on.as_deref(), Some("error"));
        assert_eq!(c.limiter_names, Some(vec!["guard".to_string()]));
    }

    #[test]
    fn rejects_unknown_keys_and_rules_by_name() {
        let e = load_str("ratecheck.toml", "selct = [\"RATE002\"]\n").unwrap_err();
        assert!(e.contains("selct"), "{e}");
        let e = load_str("ratecheck.toml", "ignore = [\"RATE999\"]\n").unwrap_err();
        assert!(e.contains("RATE999") && e.contains("ignore"), "{e}");
        let e = load_str("ratecheck.toml", "fail-on = \"loud\"\n").unwrap_err();
        assert!(e.contains("fail-on"), "{e}");
        let e = load_str("ratecheck.toml", "select = [\n").unwrap_err();
        assert!(e.contains("ratecheck.toml"), "{e}");
    }

    #[test]
    fn pyproject_section() {
        let c = load_str(
            "pyproject.toml",
            "[project]\nname = \"x\"\n[tool.ratecheck]\nignore = [\"RATE002\"]\n",
        )
        .unwrap();
        assert_eq!(c.ignore, Some(vec!["RATE002".to_string()]));
        let e = load_str("pyproject.toml", "[tool.ratecheck]\nbogus = 1\n").unwrap_err();
        assert!(e.contains("bogus") && e.contains("tool.ratecheck"), "{e}");
    }
}
