//! RATE004 non-atomic-check-then-increment: the limiter reads the count,
//! decides, and writes it back in separate steps, so concurrent requests
//! all read the same count and all pass the check.
//!
//! Store-backed, on the model's store commands (`model::store_ops`:
//! clients from factories, fields, typed parameters, other modules and
//! Django's cache): a read (`get`, `zcard`, `hget`, `llen`, …) the
//! function decides on, then a counting write (`incr`, `zadd`, `rpush`, …)
//! of the same key; or a `set` of a value computed from the read (`n + 1`,
//! `payload.attempts += 1`). Separate round trips, or one pipeline that is
//! not a MULTI/EXEC; never a Lua script. INCR first and compare after is
//! atomic.
//!
//! In memory: a hand-rolled limiter's state (the containers RATE002
//! judges) compared and then written in one function, with no lock held in
//! synchronous Python (threaded servers), or with an `await` between the
//! two in async code. Synchronous JavaScript runs to completion: no race.

use super::{Rule, RuleOptions};
use crate::facts::AccessKind;
use crate::finding::{Finding, Label, Severity};
use crate::project::{FileId, Project};

pub struct NonAtomicCheck;

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
        store_races(project, file, python, out);
    }
}

/// A read whose reply the function decides on, then a counting write of
/// the same key (or a `set` of a value computed from the reply) on every
/// path after it, in another round trip. One finding per write.
fn store_races(project: &Project, file: FileId, python: bool, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{
        appends_to_reply, counts_from, decides_on, is_counting_write, is_read, is_set, reply_names,
    };
    let all = super::model_store_use(project);
    let commands = all.commands_with_helpers(file);
    let model = &project.model;
    let facts = &project.files[file];
    let mut taken = super::TakenLines::new(project, file, "RATE004", out);
    let by_key = super::commands_by_function_and_key(commands);
    for read in commands
        .iter()
        .filter(|r| is_read(&r.command) && !r.scripted)
    {
        // A client's count (or a limiter's own key): a global queue length
        // checked before a push is load shedding, not a limiter's race.
        let key_roles = model.roles(read.module, read.function, read.key_expr);
        let per_client = !model
            .address_origins(read.module, read.function, read.key_expr)
            .is_empty()
            || key_roles.contains(&crate::model::Role::Identity)
            // Built from something other than constants (`rl:{tenant}`).
            || !key_roles.contains(&crate::model::Role::Const)
            || crate::knowledge::is_limiter_name(&read.key)
            || crate::model::limiting::limiter_named(model.module(read.module), read.function)
            // One shared window for everyone, refused with a 429 that
            // says so (a full queue's 429 is load shedding).
            || crate::model::limiting::rejects(model.module(read.module), read.function)
                && crate::knowledge::says_rate_limit(
                    model.module(read.module).text(&model.module(read.module).func(read.function).span),
                );
        let names = reply_names(model, read);
        let module = model.module(read.module);
        let decides = read.in_condition || decides_on(model, read, &names);
        let same_key = super::same_function_and_key(&by_key, read);
        let same_key_reads: Vec<_> = same_key
            .iter()
            .filter(|r| is_read(&r.command))
            .map(|r| r.call)
            .collect();
        // The last: the write on the path that lets the request through
        // (`if over: incr; 429 else: incr; next()`).
        let after_read = |w: &&&crate::model::store_ops::StoreCommand| {
            let after = if read.batched && w.batch == read.batch {
                // Queued on the same pipeline after the read; in a
                // MULTI/EXEC nothing runs between them.
                !read.transaction && w.span.end > read.span.end
            } else {
                w.span.start >= read.span.end
            };
            // A write after the key is deleted starts it again: not the
            // count that was read.
            let reset = same_key.iter().any(|d| {
                matches!(d.command.as_str(), "del" | "delete" | "unlink")
                    && d.span.start >= read.span.end
                    && d.span.end <= w.span.start
            });
            after && w.blocks.starts_with(&read.blocks) && !reset
        };
        // The count decided on, then written; else the read value written
        // back changed (`set(k, n + 1)`): a lost update.
        let counted = |w: &&&crate::model::store_ops::StoreCommand| {
            per_client && decides && is_counting_write(&w.command)
        };
        let changed = |w: &&&crate::model::store_ops::StoreCommand| {
            is_set(&w.command)
                && (counts_from(module, read.function, w.call, &names, &same_key_reads)
                    // A log of hits, checked and saved back.
                    || decides && appends_to_reply(module, read.function, w.call, &names))
        };
        let write = same_key
            .iter()
            .rev()
            .find(|w| after_read(w) && counted(w))
            .or_else(|| same_key.iter().rev().find(|w| after_read(w) && changed(w)));
        let Some(write) = write else { continue };
        if taken.is_taken(write.at.clone().into()) || taken.is_taken(read.at.clone().into()) {
            continue;
        }
        taken.take(write.at.clone().into());
        out.push(race(
            facts,
            (write.at.clone().into(), &write.command, &write.key),
            (read.at.clone().into(), &read.command),
            python,
        ));
    }
}

/// The finding at the write (`command` on `key`), with the read as a
/// label.
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

/// A synchronous Python helper that only `async def` code calls runs on
/// the event loop, one request at a time between awaits: no thread
/// interleaves its check and its update (a FastAPI `async def` endpoint
/// calling `within_limit(ip)`).
fn on_event_loop_only(project: &Project, f: crate::project::FnId) -> bool {
    let callers = project.callers_of(f);
    !callers.is_empty() && callers.iter().all(|&c| project.function(c).is_async)
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
            } else if python && !function.locks && !on_event_loop_only(project, (*cf, fi)) {
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
