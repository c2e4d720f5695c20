//! RATE005 unbounded-limiter-state: per-client state is created and never
//! removed, so memory grows with every new client (and an attacker who
//! rotates keys drives it).
//!
//! Store half: a per-client key written by a counting command (`incr`,
//! `zadd`, `rpush`, `hincrby`, a `set` without `ex`/`px`) in a Redis
//! client, with no expiry given to it anywhere: no `expire`/`setex`/`EX`
//! in the function, none on the same key in the file, and no Lua script
//! (which may set one). Django's cache always applies a timeout and
//! Memcached evicts, so neither is judged. Facts: `StoreOp`.

use super::{Rule, RuleOptions};
use crate::facts::{StoreClient, StoreOp};
use crate::finding::{Finding, Severity};
use crate::knowledge;
use crate::lang::store_flow::COUNTING_WRITES;
use crate::project::{FileId, Project};

pub struct UnboundedState;

fn grows(op: &StoreOp) -> bool {
    COUNTING_WRITES.contains(&op.command.as_str()) || matches!(op.command.as_str(), "set" | "hset")
}

impl Rule for UnboundedState {
    fn id(&self) -> &'static str {
        "RATE005"
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
        if ops.iter().any(|o| o.opaque_function) {
            return;
        }
        let mut reported = std::collections::HashSet::new();
        for op in ops.iter().filter(|o| {
            o.client == StoreClient::Redis
                && o.per_client
                && o.limiter_context
                && grows(o)
                && !o.sets_ttl
                && !o.keeps_ttl
        }) {
            let expired = ops.iter().any(|e| {
                (e.sets_ttl || e.keeps_ttl) && (e.function == op.function || e.key == op.key)
            });
            if expired || !reported.insert(&op.key) {
                continue;
            }
            out.push(Finding {
                rule_id: "RATE005",
                severity: Severity::Warning,
                message: format!(
                    "per-client key `{}` is written with `{}` and never given an expiry: every client ever seen stays in the store, and rotating keys grows it without bound",
                    op.key, op.command
                ),
                path: facts.path.clone(),
                span: op.span,
                primary_label: "key created with no TTL".to_string(),
                labels: Vec::new(),
                help: if python {
                    "give the key the window as its TTL in the same transaction: `pipe.incr(key); pipe.expire(key, window, nx=True)` (or `set(key, 1, ex=window, nx=True)` first)".to_string()
                } else {
                    "give the key the window as its TTL in the same transaction: `client.multi().incr(key).expire(key, window, 'NX').exec()` (or `set(key, 1, { EX: window, NX: true })` first)".to_string()
                },
            });
        }
    }
}
