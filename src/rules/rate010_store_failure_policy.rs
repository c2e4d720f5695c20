//! RATE010 store-failure-policy, the library-configuration half: a limiter
//! on a shared store whose behaviour during a store outage is left to the
//! default (a 500 on every limited request), or a rejection handler that
//! answers 429 to store errors too (everyone refused: fail closed).
//!
//! Only setups whose options can be read are judged, and only when the
//! store is a shared one (a memory store is RATE002's concern). The
//! hand-rolled half (unguarded Redis calls on the request path) needs the
//! store model and is not implemented yet.

use super::{Rule, RuleOptions};
use crate::facts::{ConsumeSite, LimiterSetup};
use crate::finding::{Finding, Label, Severity};
use crate::knowledge::{self, FailurePolicy, MemoryWhen};
use crate::project::{FileId, Project};

pub struct StoreFailurePolicy;

impl Rule for StoreFailurePolicy {
    fn id(&self) -> &'static str {
        "RATE010"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        if knowledge::is_test_path(&facts.path) {
            return;
        }
        for setup in &facts.limiter_setups {
            out.extend(unhandled_outage(project, file, setup));
        }
        for site in &facts.consume_sites {
            out.extend(fail_closed_handler(project, file, site));
        }
    }
}

fn mentioned_anywhere(project: &Project, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| project.files.iter().any(|f| f.config_names.contains(*n)))
}

/// Does this setup count in a shared store (as opposed to process memory)?
fn uses_shared_store(project: &Project, setup: &LimiterSetup) -> bool {
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    match lib.memory {
        MemoryWhen::Never => true,
        MemoryWhen::NoStore {
            store_options,
            memory_values,
            config_names,
        } => match setup
            .options
            .iter()
            .find(|(k, _)| store_options.contains(&k.as_str()))
        {
            Some((_, value)) => !memory_values.iter().any(|m| value.contains(m)),
            // Only the key this library really reads selects a store (the
            // first one listed): flask-limiter ≥ 3 ignores `_URL`, slowapi
            // ignores `_URI`. RATE002 stays silent on either, to be safe.
            None => mentioned_anywhere(project, &config_names[..config_names.len().min(1)]),
        },
        MemoryWhen::OptionIs { .. } | MemoryWhen::Always | MemoryWhen::MemoryUri => false,
    }
}

fn unhandled_outage(project: &Project, file: FileId, setup: &LimiterSetup) -> Option<Finding> {
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    let FailurePolicy::UnlessOption {
        options,
        config_names,
        outcome,
        fix,
    } = lib.failure
    else {
        return None;
    };
    if setup.options_unknown || !uses_shared_store(project, setup) {
        return None;
    }
    let is_set = |name: &str| {
        setup.options.iter().any(|(k, v)| {
            k == name
                && !matches!(
                    v.as_str(),
                    "False" | "false" | "None" | "null" | "undefined" | "[]"
                )
        })
    };
    if options.iter().any(|o| is_set(o)) || mentioned_anywhere(project, config_names) {
        return None;
    }
    Some(Finding {
        rule_id: "RATE010",
        severity: Severity::Warning,
        message: format!(
            "`{}(…)` ({}) leaves a store outage to the default: {outcome}",
            setup.callee, lib.package
        ),
        path: project.files[file].path.clone(),
        span: setup.span,
        primary_label: format!("no policy for store errors ({})", options.join(", ")),
        labels: Vec::new(),
        help: fix.to_string(),
    })
}

fn fail_closed_handler(project: &Project, file: FileId, site: &ConsumeSite) -> Option<Finding> {
    if !site.answers_429 || site.tells_errors_apart {
        return None;
    }
    let (setup_file, setup) = find_limiter(project, file, &site.receiver)?;
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    if !matches!(lib.failure, FailurePolicy::ConsumeRejects)
        || setup.options_unknown
        || setup.options.iter().any(|(k, _)| k == "insuranceLimiter")
    {
        return None;
    }
    Some(Finding {
        rule_id: "RATE010",
        severity: Severity::Warning,
        message: format!(
            "`{}.consume(…)` answers 429 to every rejection: when the store is down `consume` rejects with an `Error` and every client is refused (fail closed)",
            site.receiver
        ),
        path: project.files[file].path.clone(),
        span: site.span,
        primary_label: "store errors and limits end in the same 429".to_string(),
        labels: vec![Label {
            path: project.files[setup_file].path.clone(),
            span: setup.span,
            message: "store-backed limiter without `insuranceLimiter`".to_string(),
        }],
        help: "tell errors from limits: `if (err instanceof Error)` let the request through (or answer 503) and alert; or add `insuranceLimiter: new RateLimiterMemory({ points, duration })`".to_string(),
    })
}

/// The limiter a `consume` receiver names: a setup stored under that name
/// in this file, or in a project file this file imports it from.
fn find_limiter<'p>(
    project: &'p Project,
    file: FileId,
    receiver: &str,
) -> Option<(FileId, &'p LimiterSetup)> {
    let bound = |fi: FileId, name: &str| {
        project.files[fi]
            .limiter_setups
            .iter()
            .find(|s| s.bound_to.as_deref() == Some(name))
            .map(|s| (fi, s))
    };
    if let Some(found) = bound(file, receiver) {
        return Some(found);
    }
    let import = project.files[file]
        .imports
        .iter()
        .find(|i| i.local == receiver)?;
    let name = import.name.as_deref().unwrap_or(receiver);
    (0..project.files.len())
        .filter(|fi| *fi != file)
        .find_map(|fi| bound(fi, name))
}
