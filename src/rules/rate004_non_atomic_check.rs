//! RATE004 non-atomic-check-then-increment: the limiter reads the count,
//! decides, and writes it back in separate steps, so concurrent requests
//! all read the same count and all pass the check.
//!
//! Store-backed: a read (`get`, `zcard`, `hget`, `llen`, …) and a later
//! counting write (`incr`, `zadd`, `rpush`, `set` of the read value plus
//! one, …) of the same key in separate round trips, neither in one
//! MULTI/EXEC nor a Lua script. INCR first and compare after is atomic.
//! Facts: `StoreOp` from `lang::store_flow`.

use super::{Rule, RuleOptions};
use crate::facts::StoreOp;
use crate::finding::{Finding, Label, Severity};
use crate::knowledge;
use crate::lang::store_flow::{COUNTING_WRITES, READS};
use crate::project::{FileId, Project};

pub struct NonAtomicCheck;

fn is_counting_write(op: &StoreOp) -> bool {
    COUNTING_WRITES.contains(&op.command.as_str())
        || (matches!(op.command.as_str(), "set" | "setex" | "psetex" | "hset")
            && (op.value_counts || op.value_from_read))
}

impl Rule for NonAtomicCheck {
    fn id(&self) -> &'static str {
        "RATE004"
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
        let python = facts.lang.is_some_and(|l| l.is_python());
        let ops = &facts.store_ops;
        // A per-client or limiter-named key: a global queue length checked
        // before a push is load shedding, not a client's count.
        for write in ops.iter().filter(|o| {
            is_counting_write(o)
                && o.limiter_context
                && (o.per_client || o.limiter_key || o.named_limiter)
                && !o.opaque_function
        }) {
            let read = ops.iter().find(|r| {
                r.function == write.function
                    && r.key == write.key
                    && READS.contains(&r.command.as_str())
                    && r.span.end < write.span.end
                    && r.step != 0
                    && write.step != 0
                    // Separate round trips, or one pipeline that is not a
                    // transaction (other clients interleave).
                    && (r.step != write.step || !write.in_transaction && write.pipeline.is_some())
            });
            let Some(read) = read else { continue };
            out.push(Finding {
                rule_id: "RATE004",
                severity: Severity::Warning,
                message: format!(
                    "`{}` on `{}` follows a separate `{}` of the same key: concurrent requests all read the same count and all pass the check",
                    write.command, write.key, read.command
                ),
                path: facts.path.clone(),
                span: write.span,
                primary_label: "written in a second round trip".to_string(),
                labels: vec![Label {
                    path: facts.path.clone(),
                    span: read.span,
                    message: format!("the count is read here (`{}`)", read.command),
                }],
                help: if python {
                    "increment first and decide on the returned value (`count = r.incr(key)`; `if count > limit: …`), or do the read and the write in one Lua script".to_string()
                } else {
                    "increment first and decide on the returned value (`const count = await client.incr(key)`), or do the read and the write in one Lua script".to_string()
                },
            });
        }
    }
}
