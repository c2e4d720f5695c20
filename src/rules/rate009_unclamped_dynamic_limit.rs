//! RATE009 unclamped-dynamic-limit: a rate limit computed at run time —
//! from a model's answer, a service's response or the request itself — is
//! applied with no floor and ceiling, so one bad value sets it to zero (or
//! to "unlimited"); and literal zero limits, which block every request.
//!
//! The flow analysis lives in `lang::limit_flow`; this rule words the
//! findings.

use super::{Rule, RuleOptions};
use crate::facts::LimitSource;
use crate::finding::{Finding, Label, Severity};
use crate::project::{FileId, Project};

pub struct UnclampedDynamicLimit;

impl Rule for UnclampedDynamicLimit {
    fn id(&self) -> &'static str {
        "RATE009"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        let python = facts.lang.is_some_and(|l| l.is_python());
        for limit in &facts.dynamic_limits {
            let (origin, consequence, help) = match limit.source {
                LimitSource::ModelResponse => (
                    "a model's answer",
                    "one bad answer can set it to zero and block all traffic",
                    clamp_help(python),
                ),
                LimitSource::ServiceResponse => (
                    "a parsed response",
                    "a bad or missing value can set it to zero and block all traffic",
                    clamp_help(python),
                ),
                LimitSource::RequestData => (
                    "the request",
                    "the client chooses its own limit",
                    "do not take the limit from the request: derive it on the server (from the authenticated plan or configuration), and clamp any value that must vary".to_string(),
                ),
            };
            out.push(Finding {
                rule_id: "RATE009",
                severity: Severity::Error,
                message: format!(
                    "{what} is taken from {origin} with no floor or ceiling: {consequence}",
                    what = limit.what,
                ),
                path: facts.path.clone(),
                span: limit.span,
                primary_label: format!("`{}` applied unclamped", limit.value),
                labels: vec![Label {
                    path: facts.path.clone(),
                    span: limit.source_span,
                    message: format!("run-time value from {origin}"),
                }],
                help,
            });
        }
        for zero in &facts.zero_limits {
            out.push(Finding {
                rule_id: "RATE009",
                severity: Severity::Error,
                message: format!(
                    "`{}` is a limit of zero: {} rejects every request",
                    zero.text, zero.what
                ),
                path: facts.path.clone(),
                span: zero.span,
                primary_label: "zero requests allowed".to_string(),
                labels: Vec::new(),
                help: "set a positive limit; to switch limiting off, use the library's `enabled`/`skip` option instead of a zero".to_string(),
            });
        }
    }
}

fn clamp_help(python: bool) -> String {
    if python {
        "clamp the value before applying it: `limit = min(max(value, FLOOR), CEILING)`, and fall back to a configured default when it is missing or not a number".to_string()
    } else {
        "clamp the value before applying it: `Math.min(Math.max(value, FLOOR), CEILING)`, and fall back to a configured default when it is missing or not a finite number".to_string()
    }
}
