//! RATE008 silent-rejection: a hand-rolled limiter's rejection that
//! nothing records: no log line, no metric. Limits cannot be tuned and
//! false positives (an office behind one NAT address) go unseen. A 429, or
//! the branch a limiter's check refuses answered some other way
//! (`model::rejections`, `status_429: false`).
//!
//! Judged per function: a limiter's 429 (see `Project::is_limiter_rejection`)
//! in a function (or the function it is inline in) that calls no logger and
//! no metric. One finding per function; severity note.

use super::{Rule, RuleOptions};
use crate::finding::{Finding, Severity};
use crate::project::{FileId, Project};

pub struct SilentRejection;

impl Rule for SilentRejection {
    fn id(&self) -> &'static str {
        "RATE008"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        // With request-logging middleware every 429 is in the access log.
        if project.summary(file).access_logging {
            return;
        }
        let python = facts.lang.is_some_and(|l| l.is_python());
        let finding = |span, what: &str| {
            Finding {
            rule_id: "RATE008",
            severity: Severity::Note,
            message: format!("this {what} is neither logged nor counted: nothing records who was limited, so limits cannot be tuned and false positives go unseen"),
            path: facts.path.clone(),
            span,
            primary_label: "rejected silently".to_string(),
            labels: Vec::new(),
            help: if python {
                "log the rejection with the key, the limit and the route, e.g. `logger.warning(\"rate limited\", extra={\"key\": key, \"limit\": limit, \"path\": request.path})`, or count it in a metric"
            } else {
                "log the rejection with the key, the limit and the route, e.g. `logger.warn({ key, limit, path: req.path }, 'rate limited')`, or count it in a metric"
            }
            .to_string(),
        }
        };
        for rejection in project.limiter_rejections(file, |f| project.function(f).logs_or_counts) {
            out.push(finding(rejection.span, "429"));
        }
        // Each 429 on its own branch (the model), where the pass above,
        // which judges a function as a whole, said nothing.
        let mut taken = super::TakenLines::new(project, file, "RATE008", out);
        for rejection in super::model_rejections(project, file) {
            if !rejection.recorded
                && taken.take_branch(
                    rejection.span.clone().into(),
                    rejection.branch.clone().into(),
                )
            {
                let what = if rejection.status_429 {
                    "429"
                } else {
                    "rejection"
                };
                out.push(finding(rejection.span.into(), what));
            }
        }
    }
}
