//! RATE004 non-atomic-check-then-increment: the limiter reads the count,
//! decides, and writes it back in separate steps, so concurrent requests
//! all read the same count and all pass the check.
//!
//! Store-backed: a read (`get`, `zcard`, `hget`, `llen`, …) and a later
//! counting write (`incr`, `zadd`, `rpush`, `set` of the read value plus
//! one, …) of the same key in separate round trips, neither in one
//! MULTI/EXEC nor a Lua script. INCR first and compare after is atomic.
//! Facts: `StoreOp` from `lang::store_flow`.
//!
//! In memory: a hand-rolled limiter's state (the containers RATE002
//! judges) compared and then written in one function, with no lock held in
//! synchronous Python (threaded servers), or with an `await` between the
//! two in async code. Synchronous JavaScript runs to completion: no race.

use super::{Rule, RuleOptions};
use crate::facts::{AccessKind, StoreOp};
use crate::finding::{Finding, Label, Severity};
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
        let python = facts.lang.is_some_and(|l| l.is_python());
        in_memory_races(project, file, _options, python, out);
        let ops = &facts.store_ops;
        let same_key = super::ops_by_function_and_key(ops);
        // A per-client or limiter-named key: a global queue length checked
        // before a push is load shedding, not a client's count.
        for write in ops.iter().filter(|o| {
            is_counting_write(o)
                && o.limiter_context
                && (o.per_client || o.limiter_key || o.named_limiter)
                && !o.opaque_function
        }) {
            let read = super::same_function_and_key(&same_key, write)
                .iter()
                .find(|r| {
                    READS.contains(&r.command.as_str())
                    && r.span.end < write.span.end
                    && r.step != 0
                    && write.step != 0
                    // Separate round trips, or one pipeline that is not a
                    // transaction (other clients interleave).
                    && (r.step != write.step || !write.in_transaction && write.pipeline.is_some())
                });
            let Some(read) = read else { continue };
            out.push(race(
                facts,
                (write.span, &write.command, &write.key),
                (read.span, &read.command),
                python,
            ));
        }
        model_check_then_write(project, file, python, out);
    }
}

/// On the model's store commands (`model::store_ops`: clients from
/// factories, fields, typed parameters and other modules): a read whose
/// reply the function decides on, then a counting write of the same key
/// (or a `set` / `hset` of a value computed from the reply) on every path
/// after it, each in its own round trip. Lines the pass above reported
/// are left to it.
fn model_check_then_write(project: &Project, file: FileId, python: bool, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{decides_on, is_counting_write, is_read, mentions, reply_names};
    let all = super::model_store_use(project);
    let commands = all.commands(file);
    let model = &project.model;
    let facts = &project.files[file];
    let mut taken = super::TakenLines::new(project, file, "RATE004", out);
    for read in commands
        .iter()
        .filter(|r| is_read(&r.command) && !r.batched && !r.scripted)
    {
        // A client's count (or a limiter's own key): a global queue length
        // checked before a push is load shedding, not a limiter's race.
        let per_client = !model
            .address_origins(read.module, read.function, read.key_expr)
            .is_empty()
            || model
                .roles(read.module, read.function, read.key_expr)
                .contains(&crate::model::Role::Identity)
            || crate::knowledge::is_limiter_name(&read.key)
            || crate::model::limiting::limiter_named(model.module(read.module), read.function);
        if !per_client {
            continue;
        }
        let names = reply_names(model, read);
        if !read.in_condition && !decides_on(model, read, &names) {
            continue;
        }
        let module = model.module(read.module);
        let write = commands.iter().find(|w| {
            w.function == read.function
                && w.key == read.key
                && w.span.start >= read.span.end
                && !w.batched
                && w.blocks.starts_with(&read.blocks)
                && (is_counting_write(&w.command)
                    || matches!(w.command.as_str(), "set" | "hset")
                        && mentions(module, w.call, &names))
        });
        let Some(write) = write else { continue };
        if taken.is_taken(write.span.clone().into()) || taken.is_taken(read.span.clone().into()) {
            continue;
        }
        taken.take(write.span.clone().into());
        out.push(race(
            facts,
            (write.span.clone().into(), &write.command, &write.key),
            (read.span.clone().into(), &read.command),
            python,
        ));
    }
}

/// The finding at the write (`command` on `key`), with the read as a
/// label; both passes report races of a store key the same way.
fn race(
    facts: &crate::facts::FileFacts,
    (write, command, key): (crate::source::Span, &str, &str),
    (read, read_command): (crate::source::Span, &str),
    python: bool,
) -> Finding {
    Finding {
        rule_id: "RATE004",
        severity: Severity::Warning,
        message: format!(
            "`{command}` on `{key}` follows a separate `{read_command}` of the same key: concurrent requests all read the same count and all pass the check"
        ),
        path: facts.path.clone(),
        span: write,
        primary_label: "written in a second round trip".to_string(),
        labels: vec![Label {
            path: facts.path.clone(),
            span: read,
            message: format!("the count is read here (`{read_command}`)"),
        }],
        help: fix_help(python),
    }
}

fn fix_help(python: bool) -> String {
    if python {
        "increment first and decide on the returned value (`count = r.incr(key)`; `if count > limit: …`), or do the read and the write in one Lua script".to_string()
    } else {
        "increment first and decide on the returned value (`const count = await client.incr(key)`), or do the read and the write in one Lua script".to_string()
    }
}

fn in_memory_races(
    project: &Project,
    file: FileId,
    options: &RuleOptions,
    python: bool,
    out: &mut Vec<Finding>,
) {
    let facts = &project.files[file];
    for state in super::rate002_in_memory_limiter::hand_rolled_states(project, file, options) {
        let container = &facts.containers[state.container];
        let mut reported = std::collections::HashSet::new();
        // Writes in this file by function, in source order: looked up per
        // check instead of scanning every access of the container.
        let mut writes: std::collections::HashMap<usize, Vec<&crate::facts::StateAccess>> =
            std::collections::HashMap::new();
        for (wf, w) in &state.accesses {
            if let (true, Some(fi), AccessKind::Write { .. }) = (*wf == file, w.function, &w.kind) {
                writes.entry(fi).or_default().push(w);
            }
        }
        // Only races in the container's own file: a finding belongs to the
        // file being checked (suppressions are looked up there).
        for (cf, check) in state
            .accesses
            .iter()
            .filter(|(cf, a)| *cf == file && a.kind == AccessKind::Compare)
        {
            let Some(fi) = check.function else { continue };
            if reported.contains(&(*cf, fi)) {
                continue;
            }
            let function = &project.files[*cf].functions[fi];
            let write = writes
                .get(&fi)
                .and_then(|ws| ws.iter().find(|w| w.span.start >= check.span.end));
            let Some(write) = write else { continue };
            let awaited = function
                .awaits
                .iter()
                .any(|&o| o >= check.span.end && o < write.span.start);
            let why = if function.is_async {
                if !awaited {
                    continue;
                }
                "an `await` between them lets other requests run and pass the same check"
            } else if python && !function.locks {
                "no lock is held, so threads serving concurrent requests all pass the check"
            } else {
                continue;
            };
            reported.insert((*cf, fi));
            out.push(Finding {
                rule_id: "RATE004",
                severity: Severity::Warning,
                message: format!(
                    "`{}` is checked and then updated in separate steps: {why}",
                    container.name
                ),
                path: project.files[*cf].path.clone(),
                span: write.span,
                primary_label: "updated after the check".to_string(),
                labels: vec![Label {
                    path: project.files[*cf].path.clone(),
                    span: check.span,
                    message: "checked here".to_string(),
                }],
                help: if function.is_async {
                    "update the count before the first `await` (check and record in one synchronous step), or move the limiter to Redis with an atomic `INCR`".to_string()
                } else {
                    "hold one lock around the check and the update (`with lock:`), or move the limiter to Redis with an atomic `INCR`".to_string()
                },
            });
        }
    }
}
