//! RATE006 window-ttl: the store key's expiry makes the window misbehave.
//! - refreshed on every hit: a fixed-window counter whose EXPIRE (without
//!   `NX`, not behind a guard) or `SET … EX` of the count runs on every
//!   request, so a client that keeps calling never sees its window end;
//! - refreshed on every hit over the limit: the client stays limited;
//! - INCR and EXPIRE in two round trips, the EXPIRE behind `count == 1`
//!   (or a missing read: `if current is None`), or right after the INCR
//!   inside another branch: if the process dies in between, the key
//!   never expires.
//!
//! Sorted-set sliding windows (ZADD + EXPIRE) are correct and not
//! counters here. On the model's store commands (`model::store_ops`).

use super::{Rule, RuleOptions};
use crate::finding::{Finding, Label, Severity};
use crate::project::{FileId, Project};

pub struct WindowTtl;

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
        window_ttl(project, file, out);
    }
}

fn refresh_help(python: bool, django: bool) -> String {
    match (python, django) {
        (true, true) => "create the key once with its timeout (`cache.add(key, 0, window)`), then `cache.incr(key)`, which keeps the expiry".to_string(),
        (true, _) => "set the expiry only when the window starts: `r.expire(key, window, nx=True)` in the same transaction as `incr` (or `if count == 1` inside a Lua script)".to_string(),
        (false, _) => "set the expiry only when the window starts: `expire(key, window, 'NX')` in the same MULTI as `incr` (or inside a Lua script)".to_string(),
    }
}

/// Each relative expiry judged against the nearest counter of its key
/// before it, then each SET of a count with an expiry.
fn window_ttl(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{
        counts_from, is_counter, is_read, is_relative_expire, reply_names, Guard,
    };
    let all = super::model_store_use(project);
    let commands = all.commands(file);
    let facts = &project.files[file];
    let python = facts.lang.is_some_and(|l| l.is_python());
    let mut taken = super::TakenLines::new(project, file, "RATE006", out);
    let by_key = super::commands_by_function_and_key(commands);
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
        // The nearest before it: an earlier statement, or earlier in one
        // chain (`pipeline().incr(k).expire(k, 60)`, whose calls share a
        // start); a reset branch's `set(k, 1)` further up is another path.
        let same_key = super::same_function_and_key(&by_key, e);
        let Some(counter) = same_key.iter().rev().find(|c| {
            (is_counter(&c.command) || starts_count(c))
                && c.span.end < e.span.end
                && c.call != e.call
        }) else {
            continue;
        };
        let first_hit =
            e.guard == Guard::FirstHit || starts_count(counter) && e.blocks == counter.blocks;
        // Inside some other `if`, right after the counter in the same
        // block: it runs whenever the counter does, in a second round trip.
        let beside = e.guard == Guard::Other && e.blocks == counter.blocks;
        let (message, label, help) = match e.guard {
            _ if (first_hit || beside) && !e.batched && !counter.batched => (
                format!("`{}` and `{}` on `{}` are two round trips: if the process dies or the connection drops between them, the key never expires and the client stays limited", counter.command, e.command, e.key),
                "expiry set in a second round trip",
                two_round_trips_help(python),
            ),
            _ if starts_count(counter) => continue,
            Guard::None if !e.time_bucketed => (
                format!("`{}` on `{}` runs on every request and restarts the window: a client that keeps calling never sees its counter reset", e.command, e.key),
                "expiry restarted on every hit",
                refresh_help(python, e.django),
            ),
            Guard::OverLimit if !e.time_bucketed => (
                format!("`{}` on `{}` runs on every request over the limit and restarts the window: a client that keeps calling stays limited for good", e.command, e.key),
                "expiry restarted on every hit over the limit",
                refresh_help(python, e.django),
            ),
            _ => continue,
        };
        if !taken.take(e.at.clone().into()) {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE006",
            severity: Severity::Warning,
            message,
            path: facts.path.clone(),
            span: e.at.clone().into(),
            primary_label: label.to_string(),
            labels: vec![Label {
                path: facts.path.clone(),
                span: counter.at.clone().into(),
                message: format!("the counter: `{}`", counter.command),
            }],
            help,
        });
    }
    // A SET of the count with an expiry, on every hit.
    for set in commands.iter().filter(|c| {
        matches!(c.command.as_str(), "set" | "setex" | "psetex")
            && c.sets_ttl
            && c.guard == Guard::None
            && !c.time_bucketed
            && !c.scripted
    }) {
        let module = project.model.module(set.module);
        let same_key = super::same_function_and_key(&by_key, set);
        let reads: Vec<_> = same_key.iter().filter(|r| is_read(&r.command)).collect();
        let mut names = std::collections::HashSet::new();
        for r in &reads {
            names.extend(reply_names(&project.model, r));
        }
        let calls: Vec<_> = reads.iter().map(|r| r.call).collect();
        if !counts_from(module, set.function, set.call, &names, &calls) {
            continue;
        }
        // The remaining TTL read first and written back: no refresh.
        let keeps_remaining = same_key
            .iter()
            .any(|t| matches!(t.command.as_str(), "ttl" | "pttl") && t.span.end <= set.span.start);
        if keeps_remaining {
            continue;
        }
        if !taken.take(set.at.clone().into()) {
            continue;
        }
        let how = if set.django {
            "`cache.set` with the count resets the key's timeout"
        } else {
            "`SET … EX` with the count restarts the key's expiry"
        };
        out.push(Finding {
            rule_id: "RATE006",
            severity: Severity::Warning,
            message: format!("{how} on every request: a client that keeps calling never sees its window end, so its counter only grows"),
            path: facts.path.clone(),
            span: set.at.clone().into(),
            primary_label: "expiry restarted on every hit".to_string(),
            labels: Vec::new(),
            help: refresh_help(python, set.django),
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
