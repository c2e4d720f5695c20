//! RATE007 missing-retry-after: a rate limiter's 429 that tells the client
//! neither when to retry nor its quota. Without `Retry-After` (or a
//! `RateLimit` reset), clients retry at once and in lock-step.
//!
//! Judged per 429 on the model (`model::rejections`): each limiter 429
//! whose path sets none of `Retry-After`, `RateLimit`, `RateLimit-Reset`,
//! `X-RateLimit-Reset`. One finding per branch that answers.

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
        let python = facts.lang.is_some_and(|l| l.is_python());
        let mut answered = super::AnsweredBranches::default();
        for rejection in super::model_rejections(project, file) {
            if rejection.retry_after || !rejection.status_429 || !answered.take(&rejection) {
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
