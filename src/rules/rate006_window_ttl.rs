//! RATE006 window-ttl: the store key's expiry makes the window misbehave.
//! - refreshed on every hit: a fixed-window counter whose EXPIRE (without
//!   `NX`, not behind a guard) or `SET … EX` runs on every request, so a
//!   client that keeps calling never sees its window end;
//! - INCR and EXPIRE in two round trips, the EXPIRE behind `count == 1`:
//!   if the process dies in between, the key never expires.
//!
//! Sorted-set sliding windows (ZADD + EXPIRE) are correct and not
//! counters here. Facts: `StoreOp` from `lang::store_flow`.

use super::{Rule, RuleOptions};
use crate::facts::{StoreClient, StoreOp};
use crate::finding::{Finding, Label, Severity};
use crate::project::{FileId, Project};

pub struct WindowTtl;

/// INCR-style counters of a fixed window.
fn is_counter(op: &StoreOp) -> bool {
    matches!(
        op.command.as_str(),
        "incr" | "incrby" | "incrbyfloat" | "hincrby" | "decr" | "decrby"
    )
}

fn is_relative_expire(op: &StoreOp) -> bool {
    matches!(op.command.as_str(), "expire" | "pexpire" | "touch")
}

impl Rule for WindowTtl {
    fn id(&self) -> &'static str {
        "RATE006"
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
        let ops = &facts.store_ops;
        let finding = |op: &StoreOp,
                       message: String,
                       label: &str,
                       related: Option<&StoreOp>,
                       help: String| Finding {
            rule_id: "RATE006",
            severity: Severity::Warning,
            message,
            path: facts.path.clone(),
            span: op.span,
            primary_label: label.to_string(),
            labels: related
                .map(|r| Label {
                    path: facts.path.clone(),
                    span: r.span,
                    message: format!("the counter: `{}`", r.command),
                })
                .into_iter()
                .collect(),
            help,
        };
        let same_key = super::ops_by_function_and_key(ops);
        for op in ops.iter().filter(|o| o.limiter_context && !o.conditional) {
            // SET of an incremented count with an expiry, on every hit.
            let set_with_ttl = matches!(op.command.as_str(), "set" | "setex" | "psetex")
                && op.value_counts
                && op.sets_ttl
                && !op.keeps_ttl
                && !op.time_bucketed;
            if set_with_ttl {
                let how = if op.client == StoreClient::DjangoCache {
                    "`cache.set` with the count resets the key's timeout"
                } else {
                    "`SET … EX` with the count restarts the key's expiry"
                };
                out.push(finding(
                    op,
                    format!("{how} on every request: a client that keeps calling never sees its window end, so its counter only grows"),
                    "expiry restarted on every hit",
                    None,
                    refresh_help(python, op.client),
                ));
                continue;
            }
            // A key per window (`rl:{ip}:{minute}`): refreshing its expiry
            // cannot stretch the window.
            if !is_relative_expire(op) || op.nx || op.time_bucketed {
                continue;
            }
            let counter = super::same_function_and_key(&same_key, op)
                .iter()
                .copied()
                .find(|c| is_counter(c));
            if let Some(counter) = counter {
                out.push(finding(
                    op,
                    format!("`{}` on `{}` runs on every request and restarts the window: a client that keeps calling never sees its counter reset", op.command, op.key),
                    "expiry restarted on every hit",
                    Some(counter),
                    refresh_help(python, op.client),
                ));
            }
        }
        // INCR, then EXPIRE behind `count == 1`, in separate round trips.
        for op in ops.iter().filter(|o| o.limiter_context && o.conditional) {
            if !is_relative_expire(op) || op.nx || op.guard_reads_ttl || op.step == 0 {
                continue;
            }
            let counter = super::same_function_and_key(&same_key, op)
                .iter()
                .copied()
                .find(|c| {
                    is_counter(c) && c.step != op.step && c.step != 0 && c.span.end < op.span.end
                });
            if let Some(counter) = counter {
                out.push(finding(
                    op,
                    format!("`{}` and `{}` on `{}` are two round trips: if the process dies or the connection drops between them, the key never expires and the client stays limited", counter.command, op.command, op.key),
                    "expiry set in a second round trip",
                    Some(counter),
                    two_round_trips_help(python),
                ));
            }
        }
        model_window_ttl(project, file, out);
    }
}

fn refresh_help(python: bool, client: StoreClient) -> String {
    match (python, client) {
        (true, StoreClient::DjangoCache) => "create the key once with its timeout (`cache.add(key, 0, window)`), then `cache.incr(key)`, which keeps the expiry".to_string(),
        (true, _) => "set the expiry only when the window starts: `r.expire(key, window, nx=True)` in the same transaction as `incr` (or `if count == 1` inside a Lua script)".to_string(),
        (false, _) => "set the expiry only when the window starts: `expire(key, window, 'NX')` in the same MULTI as `incr` (or inside a Lua script)".to_string(),
    }
}

/// The same judgements on the model's store commands (`model::store_ops`:
/// clients from factories, fields and other modules, helpers limiting
/// code calls), where the pass above reported nothing on the line; and a
/// counter whose expiry is re-set on every request over the limit.
fn model_window_ttl(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{is_counter, is_relative_expire, Guard};
    let all = super::model_store_use(project);
    let commands = all.commands(file);
    let facts = &project.files[file];
    let python = facts.lang.is_some_and(|l| l.is_python());
    let mut taken = super::TakenLines::new(project, file, "RATE006", out);
    for e in commands
        .iter()
        .filter(|e| is_relative_expire(&e.command) && !e.nx && !e.scripted)
    {
        // `set(key, 1)` starts a count as INCR does.
        let starts_count = |c: &crate::model::store_ops::StoreCommand| {
            c.command == "set"
                && c.value.is_some_and(|v| {
                    matches!(
                        project.model.module(c.module).expr(v).kind,
                        crate::ir::ExprKind::Num(_)
                    )
                })
        };
        let Some(counter) = commands.iter().find(|c| {
            (is_counter(&c.command) || starts_count(c))
                && c.function == e.function
                && c.key == e.key
                && c.span.start < e.span.start
        }) else {
            continue;
        };
        let first_hit =
            e.guard == Guard::FirstHit || starts_count(counter) && e.blocks == counter.blocks;
        let (message, label, help) = match e.guard {
            _ if first_hit && !e.batched && !counter.batched => (
                format!("`{}` and `{}` on `{}` are two round trips: if the process dies or the connection drops between them, the key never expires and the client stays limited", counter.command, e.command, e.key),
                "expiry set in a second round trip",
                two_round_trips_help(python),
            ),
            _ if starts_count(counter) => continue,
            Guard::None if !e.time_bucketed => (
                format!("`{}` on `{}` runs on every request and restarts the window: a client that keeps calling never sees its counter reset", e.command, e.key),
                "expiry restarted on every hit",
                refresh_help(python, StoreClient::Redis),
            ),
            Guard::OverLimit if !e.time_bucketed => (
                format!("`{}` on `{}` runs on every request over the limit and restarts the window: a client that keeps calling stays limited for good", e.command, e.key),
                "expiry restarted on every hit over the limit",
                refresh_help(python, StoreClient::Redis),
            ),
            _ => continue,
        };
        if !taken.take(e.span.clone().into()) {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE006",
            severity: Severity::Warning,
            message,
            path: facts.path.clone(),
            span: e.span.clone().into(),
            primary_label: label.to_string(),
            labels: vec![Label {
                path: facts.path.clone(),
                span: counter.span.clone().into(),
                message: format!("the counter: `{}`", counter.command),
            }],
            help,
        });
    }
}

fn two_round_trips_help(python: bool) -> String {
    if python {
        "send both in one transaction: `pipe = r.pipeline(); pipe.incr(key); pipe.expire(key, window, nx=True); count, _ = pipe.execute()` (or a Lua script)".to_string()
    } else {
        "send both in one transaction: `const [count] = await client.multi().incr(key).expire(key, window, 'NX').exec()` (or a Lua script)".to_string()
    }
}
