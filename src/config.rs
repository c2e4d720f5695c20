//! Configuration files: `ratecheck.toml`, `.ratecheck.toml`, or
//! `[tool.ratecheck]` in `pyproject.toml`, found by walking up from the
//! first path. Keys are kebab-case and mirror the command-line flags;
//! unknown keys, bad values and unknown rule ids are errors that name the
//! offending key.

use crate::finding::Severity;
use crate::rules;
use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

// Values are checked while they are deserialised (`deserialize_with`), so
// that a bad value's error carries its position in the file, as a syntax
// error's does.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default, deserialize_with = "select_rules")]
    pub select: Option<Vec<String>>,
    #[serde(default, deserialize_with = "ignore_rules")]
    pub ignore: Option<Vec<String>>,
    #[serde(default, deserialize_with = "fail_on_level")]
    pub fail_on: Option<String>,
    #[serde(default, deserialize_with = "output_format")]
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
    #[serde(default, deserialize_with = "per_file_ignores")]
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// Like `--report-unused-ignores`.
    pub report_unused_ignores: Option<bool>,
    /// Where the rule pages are published (`{rule}` is replaced by the id).
    pub docs_url: Option<String>,
    /// Rule id → `error` | `warning` | `note`.
    #[serde(default, deserialize_with = "severities")]
    pub severity: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Debug, Deserialize)]
struct PyProjectTool {
    ratecheck: Option<Config>,
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
                let has_section = crate::source::read_source(&candidate, MAX_CONFIG_BYTES)
                    .is_ok_and(|b| String::from_utf8_lossy(&b).contains("[tool.ratecheck"));
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
    // Bounded and never blocking: `--config` may name a FIFO or a device.
    let bytes = crate::source::read_source(path, MAX_CONFIG_BYTES).map_err(|e| {
        format!(
            "{}: cannot read: {}",
            path.display(),
            e.describe(MAX_CONFIG_BYTES, "a configuration file")
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{}: cannot read: not valid UTF-8", path.display()))?;
    let located = |e: toml::de::Error| format!("{}:{}", path.display(), one_line(&e, &text));
    if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let py: PyProject = toml::from_str(&text).map_err(located)?;
        Ok(py.tool.and_then(|t| t.ratecheck).unwrap_or_default())
    } else {
        toml::from_str::<Config>(&text).map_err(located)
    }
}

/// Configuration files are small; anything larger is a mistake.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// `LINE:COLUMN: message` (1-based, columns in characters, as in findings),
/// or ` message` when the error has no position.
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let at = crate::source::position_of(text, span.start);
            format!("{}:{}: {msg}", at.line, at.column)
        }
        None => format!(" {msg}"),
    }
}

// Each value is checked inside its own deserialisation (a `Checked`
// seed), so toml places an error at that value: the rule id in a list,
// the level in `[severity]`, not the start of the table.

fn select_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    d.deserialize_seq(RuleList("select".into())).map(Some)
}

fn ignore_rules<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    d.deserialize_seq(RuleList("ignore".into())).map(Some)
}

fn fail_on_level<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Checked(|level: &str| {
        Severity::parse(level).map(|_| ()).ok_or_else(|| {
            format!("`fail-on`: expected `error`, `warning` or `note`, found `{level}`")
        })
    })
    .deserialize(d)
    .map(Some)
}

fn output_format<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Checked(|format: &str| {
        if crate::output::FORMATS.contains(&format) {
            Ok(())
        } else {
            Err(format!(
                "`format`: expected one of {}, found `{format}`",
                crate::output::FORMATS.join(", ")
            ))
        }
    })
    .deserialize(d)
    .map(Some)
}

type PerFileIgnores = BTreeMap<String, Vec<String>>;

fn per_file_ignores<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PerFileIgnores>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = PerFileIgnores;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table of glob patterns to lists of rule ids")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = PerFileIgnores::new();
            let glob = |pattern: &str| {
                globset::Glob::new(pattern)
                    .map(|_| ())
                    .map_err(|e| format!("`per-file-ignores`: invalid pattern `{pattern}`: {e}"))
            };
            while let Some(pattern) = map.next_key_seed(Checked(glob))? {
                let ids =
                    map.next_value_seed(RuleList(format!("per-file-ignores.\"{pattern}\"")))?;
                out.insert(pattern, ids);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Visitor).map(Some)
}

fn severities<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = BTreeMap<String, String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table of rule ids to `error`, `warning` or `note`")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            let rule = |id: &str| match rules::meta(&id.to_ascii_uppercase()) {
                Some(_) => Ok(()),
                None => Err(format!("`severity`: unknown rule `{id}`")),
            };
            while let Some(id) = map.next_key_seed(Checked(rule))? {
                let level = map.next_value_seed(Checked(|level: &str| {
                    Severity::parse(level).map(|_| ()).ok_or_else(|| {
                        format!("`severity.{id}`: expected `error`, `warning` or `note`, found `{level}`")
                    })
                }))?;
                out.insert(id, level);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Visitor).map(Some)
}

/// A string that `check` accepts.
struct Checked<F>(F);

impl<'de, F: FnOnce(&str) -> Result<(), String>> DeserializeSeed<'de> for Checked<F> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        // Checked in the visitor, inside the deserialiser, which is what
        // gives the error the value's own span (in a list too).
        d.deserialize_str(self)
    }
}

impl<'de, F: FnOnce(&str) -> Result<(), String>> serde::de::Visitor<'de> for Checked<F> {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
        (self.0)(value).map_err(E::custom)?;
        Ok(value.to_string())
    }
}

/// A list of rule ids or prefixes, under the key it is named by in errors.
struct RuleList(String);

impl<'de> DeserializeSeed<'de> for RuleList {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RuleList {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of rule ids")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let key = &self.0;
        let mut out = Vec::new();
        let rule = |id: &str| {
            if rules::selector_matches_any(id) {
                Ok(())
            } else {
                Err(format!("`{key}`: unknown rule `{id}`"))
            }
        };
        while let Some(id) = seq.next_element_seed(Checked(rule))? {
            out.push(id);
        }
        Ok(out)
    }
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
    fn errors_give_line_and_column() {
        // A bad value is placed where the value is, like a syntax error.
        let e = load_str(
            "ratecheck.toml",
            "fail-on = \"error\"\nignore = [\"RATE999\"]\n",
        )
        .unwrap_err();
        assert!(
            e.ends_with("ratecheck.toml:2:11: `ignore`: unknown rule `RATE999`"),
            "{e}"
        );
        let e = load_str("ratecheck.toml", "[severity]\nRATE002 = \"loud\"\n").unwrap_err();
        assert!(e.contains("ratecheck.toml:2:11: `severity.RATE002`"), "{e}");
        let e = load_str("ratecheck.toml", "# ü\nselect = [\"RATE002\"\n").unwrap_err();
        assert!(e.contains("ratecheck.toml:2:"), "{e}");
        assert!(!e.contains("byte"), "{e}");
        let e = load_str("ratecheck.toml", "selct = []\n").unwrap_err();
        assert!(
            e.contains("ratecheck.toml:1:1: unknown field `selct`"),
            "{e}"
        );
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
        assert!(
            e.contains("pyproject.toml:2:1: ") && e.contains("bogus"),
            "{e}"
        );
    }
}
