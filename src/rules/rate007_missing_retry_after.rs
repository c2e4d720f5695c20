//! RATE007 missing-retry-after: a rate limiter's 429 that tells the client
//! neither when to retry nor its quota. Without `Retry-After` (or a
//! `RateLimit` reset), clients retry at once and in lock-step.
//!
//! Judged per function: a limiter's 429 (see `Project::is_limiter_rejection`)
//! in a function that sets none of `Retry-After`, `RateLimit`,
//! `RateLimit-Reset`, `X-RateLimit-Reset`. One finding per function.

use super::{Rule, RuleOptions};
use crate::finding::{Finding, Severity};
use crate::knowledge;
use crate::project::{FileId, Project};

pub struct MissingRetryAfter;

impl Rule for MissingRetryAfter {
    fn id(&self) -> &'static str {
        "RATE007"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        // Headers set here, in the function it is inline in, or in a helper
        // it calls.
        let sets_headers = |f| {
            project.function(f).sets_limit_headers
                || project
                    .callees_of(f)
                    .any(|c| project.function(c).sets_limit_headers)
        };
        for rejection in project.limiter_rejections(file, sets_headers) {
            let python = facts.lang.is_some_and(|l| l.is_python());
            out.push(Finding {
                rule_id: "RATE007",
                severity: Severity::Warning,
                message: MESSAGE.to_string(),
                path: facts.path.clone(),
                span: rejection.span,
                primary_label: LABEL.to_string(),
                labels: Vec::new(),
                help: knowledge::retry_after_fix(
                    project.framework_for(file, Some(rejection.function)),
                    python,
                )
                .to_string(),
            });
        }
        // Each 429 on its own path (the model), where the pass above,
        // which judges a function as a whole, said nothing.
        let mut taken = super::TakenLines::new(project, file, "RATE007", out);
        let python = facts.lang.is_some_and(|l| l.is_python());
        for rejection in super::model_rejections(project, file) {
            if rejection.retry_after
                || !rejection.status_429
                || !taken.take_branch(
                    rejection.span.clone().into(),
                    rejection.branch.clone().into(),
                )
            {
                continue;
            }
            out.push(Finding {
                rule_id: "RATE007",
                severity: Severity::Warning,
                message: MESSAGE.to_string(),
                path: facts.path.clone(),
                span: rejection.span.into(),
                primary_label: LABEL.to_string(),
                labels: Vec::new(),
                help: knowledge::retry_after_fix(project.framework_for(file, None), python)
                    .to_string(),
            });
        }
    }
}

const MESSAGE: &str = "this 429 tells the client neither when to retry nor its quota: no `Retry-After` (or `RateLimit-Reset`) header";
const LABEL: &str = "rejected without `Retry-After`";
