//! RATE008 silent-rejection: a hand-rolled limiter's rejection that
//! nothing records: no log line, no metric. Limits cannot be tuned and
//! false positives (an office behind one NAT address) go unseen. A 429, or
//! the branch a limiter's check refuses answered some other way
//! (`model::rejections`, `status_429: false`).
//!
//! Judged per rejection on the model: one whose branch (or the helpers it
//! calls) calls no logger and no metric. One finding per branch; severity
//! note. Request-logging middleware records every answer.

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
        let mut answered = super::AnsweredBranches::default();
        for rejection in super::model_rejections(project, file) {
            if !rejection.recorded && answered.take(&rejection) {
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
