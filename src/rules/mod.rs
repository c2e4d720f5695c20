//! The rule registry. Each rule's metadata (name, severity, languages,
//! summary) and documentation live in one place, `rules/RATE00N.md`; the
//! same text feeds `--explain`, `--list-rules`, SARIF rule metadata and the
//! README's rule table (a test keeps them in agreement).

pub mod rate001_unprotected_route;
mod rate002_in_memory_limiter;
mod rate003_client_key;
mod rate004_non_atomic_check;
mod rate005_unbounded_state;
mod rate006_window_ttl;
mod rate007_missing_retry_after;
mod rate008_silent_rejection;
mod rate009_unclamped_dynamic_limit;
mod rate010_store_failure_policy;

use crate::finding::{Finding, Severity};
use crate::project::{FileId, Project};
use crate::source::Span;

/// What the user configured that rules need.
#[derive(Debug, Default, Clone)]
pub struct RuleOptions {
    /// Extra identifiers that count as rate limiting (`limiter-names`).
    pub limiter_names: Vec<String>,
    /// Extra words that make a route a brute-force target (`sensitive-routes`).
    pub sensitive_routes: Vec<String>,
    /// Route paths RATE001 skips besides health checks (`skip-routes`).
    pub skip_routes: Vec<String>,
}

pub trait Rule: Sync {
    fn id(&self) -> &'static str;
    /// Findings whose primary location is in `file`. Rules may read the
    /// whole project; running per file keeps a panic contained to one file.
    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        options: &RuleOptions,
        out: &mut Vec<Finding>,
    );
}

pub static RULES: &[&dyn Rule] = &[
    &rate001_unprotected_route::UnprotectedRoute,
    &rate002_in_memory_limiter::InMemoryLimiter,
    &rate003_client_key::ClientKeyRule,
    &rate004_non_atomic_check::NonAtomicCheck,
    &rate005_unbounded_state::UnboundedState,
    &rate006_window_ttl::WindowTtl,
    &rate007_missing_retry_after::MissingRetryAfter,
    &rate008_silent_rejection::SilentRejection,
    &rate009_unclamped_dynamic_limit::UnclampedDynamicLimit,
    &rate010_store_failure_policy::StoreFailurePolicy,
];

/// Documentation pages, by rule id, compiled in.
static DOCS: &[(&str, &str)] = &[
    ("RATE001", include_str!("../../rules/RATE001.md")),
    ("RATE002", include_str!("../../rules/RATE002.md")),
    ("RATE003", include_str!("../../rules/RATE003.md")),
    ("RATE004", include_str!("../../rules/RATE004.md")),
    ("RATE005", include_str!("../../rules/RATE005.md")),
    ("RATE006", include_str!("../../rules/RATE006.md")),
    ("RATE007", include_str!("../../rules/RATE007.md")),
    ("RATE008", include_str!("../../rules/RATE008.md")),
    ("RATE009", include_str!("../../rules/RATE009.md")),
    ("RATE010", include_str!("../../rules/RATE010.md")),
];

#[derive(Debug, Clone)]
pub struct RuleMeta {
    pub id: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub languages: Vec<&'static str>,
    pub summary: &'static str,
    pub cwe: Vec<&'static str>,
    pub precision: &'static str,
    pub security_severity: &'static str,
    /// The page without its front matter.
    pub body: &'static str,
}

impl RuleMeta {
    /// The rule page's address under `docs_url` (a template with `{rule}`,
    /// or a base to which `/RATE002.md` is added); none when no address is
    /// configured: the page ships with the tool (`ratecheck --explain`).
    pub fn help_uri(&self, docs_url: Option<&str>) -> Option<String> {
        let base = docs_url?.trim();
        if base.is_empty() {
            return None;
        }
        Some(if base.contains("{rule}") {
            base.replace("{rule}", self.id)
        } else {
            format!("{}/{}.md", base.trim_end_matches('/'), self.id)
        })
    }

    /// Where to read the rule's page: its address, else the command that
    /// prints it.
    pub fn see_also(&self, docs_url: Option<&str>) -> String {
        self.help_uri(docs_url)
            .unwrap_or_else(|| format!("`ratecheck --explain {}`", self.id))
    }

    /// The "Why this matters" paragraph: SARIF's fullDescription.
    pub fn why(&self) -> String {
        section(self.body, "Why this matters")
            .unwrap_or(self.summary)
            .trim()
            .to_string()
    }
}

/// A file's store commands by (function, key), each list in source order:
/// rules that pair a command with another on the same key look there
/// instead of scanning every command of the file for each one (quadratic
/// in a large generated file).
pub fn commands_by_function_and_key(
    commands: &[crate::model::store_ops::StoreCommand],
) -> CommandsByKey<'_> {
    let mut index = CommandsByKey::new();
    for c in commands {
        index
            .entry((c.function, c.key.as_str()))
            .or_default()
            .push(c);
    }
    index
}

pub type CommandsByKey<'a> = std::collections::HashMap<
    (crate::ir::FuncId, &'a str),
    Vec<&'a crate::model::store_ops::StoreCommand>,
>;

/// Is a store command's key per client: named for one (`ip`, `user_id`),
/// or made from an address or an account?
pub fn keyed_per_client(
    model: &crate::model::Model,
    c: &crate::model::store_ops::StoreCommand,
) -> bool {
    c.client_named
        || !model
            .address_origins(c.module, c.function, c.key_expr)
            .is_empty()
        || model
            .roles(c.module, c.function, c.key_expr)
            .contains(&crate::model::Role::Identity)
}

/// The commands in `c`'s function on `c`'s key, in source order.
pub fn same_function_and_key<'a>(
    index: &'a CommandsByKey<'a>,
    c: &'a crate::model::store_ops::StoreCommand,
) -> &'a [&'a crate::model::store_ops::StoreCommand] {
    index
        .get(&(c.function, c.key.as_str()))
        .map_or(&[][..], Vec::as_slice)
}

/// Text under `## heading` up to the next `## ` heading.
pub fn section<'a>(body: &'a str, heading: &str) -> Option<&'a str> {
    let marker = format!("## {heading}\n");
    let start = body.find(&marker)? + marker.len();
    let rest = &body[start..];
    let end = rest.find("\n## ").map(|e| e + 1).unwrap_or(rest.len());
    Some(&rest[..end])
}

fn parse_doc(id: &'static str, doc: &'static str) -> RuleMeta {
    let rest = doc
        .strip_prefix("---\n")
        .unwrap_or_else(|| panic!("rules/{id}.md: missing front matter"));
    let end = rest
        .find("\n---\n")
        .unwrap_or_else(|| panic!("rules/{id}.md: unterminated front matter"));
    let (front, body) = (&rest[..end], &rest[end + 5..]);
    let get = |key: &str| -> &'static str {
        front
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .map(str::trim)
            .unwrap_or_else(|| panic!("rules/{id}.md: front matter lacks `{key}`"))
    };
    let list = |key: &str| -> Vec<&'static str> {
        get(key)
            .trim_matches(['[', ']'])
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    };
    assert_eq!(get("id"), id, "rules/{id}.md: id mismatch");
    RuleMeta {
        id,
        name: get("name"),
        severity: Severity::parse(get("severity"))
            .unwrap_or_else(|| panic!("rules/{id}.md: bad severity")),
        languages: list("languages"),
        summary: get("summary"),
        cwe: list("cwe"),
        precision: get("precision"),
        security_severity: get("security-severity"),
        body: body.trim_start(),
    }
}

/// Metadata for every registered rule, in id order.
pub fn all_meta() -> Vec<RuleMeta> {
    let mut metas: Vec<RuleMeta> = DOCS.iter().map(|(id, doc)| parse_doc(id, doc)).collect();
    metas.sort_by_key(|m| m.id);
    metas
}

pub fn meta(id: &str) -> Option<RuleMeta> {
    all_meta().into_iter().find(|m| m.id == id)
}

/// Does `selector` (an id like `RATE002` or a prefix like `RATE00`, `RATE`,
/// or `ALL`) name at least one rule?
pub fn selector_matches_any(selector: &str) -> bool {
    let s = selector.to_ascii_uppercase();
    s == "ALL" || all_meta().iter().any(|m| m.id.starts_with(&s))
}

pub fn selector_matches(selector: &str, id: &str) -> bool {
    let s = selector.to_ascii_uppercase();
    s == "ALL" || id.starts_with(&s)
}

/// The README's rule table, generated from the docs.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Rule | Name | Severity | Languages | What it finds |\n|---|---|---|---|---|\n",
    );
    for m in all_meta() {
        out.push_str(&format!(
            "| [{id}](rules/{id}.md) | `{name}` | {sev} | {langs} | {summary} |\n",
            id = m.id,
            name = m.name,
            sev = m.severity.as_str(),
            langs = m.languages.join(", "),
            summary = m.summary
        ));
    }
    out
}

/// The model's limiter rejections (`model::rejections`) by file, computed
/// once per run for RATE007 and RATE008.
pub struct ModelRejections(
    std::collections::HashMap<FileId, Vec<crate::model::rejections::Rejection>>,
);

pub fn model_rejections(
    project: &Project,
    file: FileId,
) -> Vec<crate::model::rejections::Rejection> {
    let all = project.per_run(|| {
        let mut by_file: std::collections::HashMap<FileId, Vec<_>> = Default::default();
        for r in crate::model::rejections::rejections(&project.model, &limiting_code(project).0) {
            by_file.entry(r.module.0 as usize).or_default().push(r);
        }
        ModelRejections(by_file)
    });
    if crate::knowledge::is_test_path(&project.files[file].path) {
        return Vec::new();
    }
    all.0.get(&file).cloned().unwrap_or_default()
}

/// The model's limiting code (`model::limiting`), computed once per run
/// for every rule that asks.
pub struct LimitingCode(pub std::collections::HashSet<crate::model::limiting::FunctionRef>);

pub fn limiting_code(project: &Project) -> std::sync::Arc<LimitingCode> {
    project.per_run(|| LimitingCode(crate::model::limiting::limiting_functions(&project.model)))
}

/// The model's store use in limiting code (`model::store_ops`), computed
/// once per run for RATE004, RATE005, RATE006 and RATE010.
pub struct ModelStoreUse {
    commands: std::collections::HashMap<FileId, Vec<crate::model::store_ops::StoreCommand>>,
    /// `commands` with the calls of key helpers among them (RATE004).
    with_helpers: std::collections::HashMap<FileId, Vec<crate::model::store_ops::StoreCommand>>,
    calls: std::collections::HashMap<FileId, Vec<crate::model::store_ops::StoreCall>>,
    /// Call sites by the function that calls.
    pub callees: std::collections::HashMap<
        crate::model::limiting::FunctionRef,
        Vec<crate::model::store_ops::CallSite>,
    >,
    /// Call sites by the function called.
    pub callers: std::collections::HashMap<
        crate::model::limiting::FunctionRef,
        Vec<crate::model::store_ops::CallSite>,
    >,
    pub guarded_closures: std::collections::HashSet<crate::model::limiting::FunctionRef>,
}

pub fn model_store_use(project: &Project) -> std::sync::Arc<ModelStoreUse> {
    project.per_run(|| {
        let model = &project.model;
        let found = crate::model::store_ops::store_use(model, &limiting_code(project).0);
        let production = |m: crate::model::ModId| {
            !crate::knowledge::is_test_path(&project.files[m.0 as usize].path)
        };
        let mut uses = ModelStoreUse {
            commands: Default::default(),
            with_helpers: Default::default(),
            calls: Default::default(),
            callers: Default::default(),
            callees: Default::default(),
            guarded_closures: found.guarded_closures,
        };
        for c in found.commands.into_iter().filter(|c| production(c.module)) {
            let file = c.module.0 as usize;
            if !c.through_helper {
                uses.commands.entry(file).or_default().push(c.clone());
            }
            uses.with_helpers.entry(file).or_default().push(c);
        }
        for c in found.calls.into_iter().filter(|c| production(c.module)) {
            uses.calls.entry(c.module.0 as usize).or_default().push(c);
        }
        for site in found.sites {
            uses.callees
                .entry(site.caller)
                .or_default()
                .push(site.clone());
            uses.callers.entry(site.callee).or_default().push(site);
        }
        uses
    })
}

impl ModelStoreUse {
    /// The store commands of one file, in source order.
    pub fn commands(&self, file: FileId) -> &[crate::model::store_ops::StoreCommand] {
        self.commands.get(&file).map_or(&[], |v| v.as_slice())
    }

    /// The store commands of one file and the calls of helpers that each
    /// send one command on the key they are given (`find(db, key)`), in
    /// source order. A helper's own command is judged where it is too;
    /// only RATE004 pairs a read with a write across such calls.
    pub fn commands_with_helpers(&self, file: FileId) -> &[crate::model::store_ops::StoreCommand] {
        self.with_helpers.get(&file).map_or(&[], |v| v.as_slice())
    }

    /// The calls that talk to the store in one file, in source order.
    pub fn calls(&self, file: FileId) -> &[crate::model::store_ops::StoreCall] {
        self.calls.get(&file).map_or(&[], |v| v.as_slice())
    }
}

/// The branches (if/else/except bodies) whose answer is already reported:
/// a status set in one statement and returned in the next is one response.
#[derive(Default)]
pub struct AnsweredBranches(std::collections::HashSet<(usize, usize)>);

impl AnsweredBranches {
    /// First rejection of its branch?
    pub fn take(&mut self, rejection: &crate::model::rejections::Rejection) -> bool {
        self.0
            .insert((rejection.branch.start, rejection.branch.end))
    }
}

/// The lines of `file` that findings of `rule` in `out` cover. The model's
/// findings beside a first-generation pass are added only on lines that
/// pass left alone.
pub struct TakenLines {
    line_starts: Vec<usize>,
    taken: std::collections::HashSet<usize>,
}

impl TakenLines {
    pub fn new(project: &Project, file: FileId, rule: &str, out: &[Finding]) -> TakenLines {
        let source = &project
            .model
            .module(crate::model::ModId(file as u32))
            .source;
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut lines = TakenLines {
            line_starts,
            taken: Default::default(),
        };
        let path = &project.files[file].path;
        for f in out.iter().filter(|f| f.rule_id == rule && &f.path == path) {
            lines.take(f.span);
        }
        lines
    }

    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// Is the first line of `span` taken?
    pub fn is_taken(&self, span: Span) -> bool {
        self.taken.contains(&self.line(span.start))
    }

    /// Marks the lines of `span` taken; false if its first line already was.
    pub fn take(&mut self, span: Span) -> bool {
        let first = self.line(span.start);
        let free = !self.taken.contains(&first);
        for l in first..=self.line(span.end.max(span.start)) {
            self.taken.insert(l);
        }
        free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_doc_and_every_doc_a_rule() {
        let docs: Vec<&str> = all_meta().iter().map(|m| m.id).collect();
        let rules: Vec<&str> = RULES.iter().map(|r| r.id()).collect();
        let mut sorted = rules.clone();
        sorted.sort();
        assert_eq!(docs, sorted);
    }

    #[test]
    fn docs_have_the_required_sections() {
        for m in all_meta() {
            for heading in [
                "Why this matters",
                "What it flags",
                "What it does not flag",
                "Examples",
                "References",
            ] {
                assert!(
                    section(m.body, heading).is_some(),
                    "{}: missing `## {heading}`",
                    m.id
                );
            }
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}: name must be kebab-case",
                m.id
            );
            assert!(
                !m.summary.ends_with('.'),
                "{}: summary ends with a period",
                m.id
            );
            for lang in ["Python", "JavaScript"] {
                assert!(
                    m.body.contains(&format!("### {lang}")),
                    "{}: no {lang} example",
                    m.id
                );
            }
        }
    }

    #[test]
    fn selectors() {
        assert!(selector_matches_any("RATE002"));
        assert!(selector_matches_any("rate0"));
        assert!(selector_matches_any("ALL"));
        assert!(!selector_matches_any("RATE999"));
        assert!(!selector_matches_any("E501"));
        assert!(selector_matches("RATE", "RATE002"));
    }
}
