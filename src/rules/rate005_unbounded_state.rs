//! RATE005 unbounded-limiter-state: per-client state is created and never
//! removed, so memory grows with every new client (and an attacker who
//! rotates keys drives it).
//!
//! Store half: a per-client key written by a counting command (`incr`,
//! `zadd`, `rpush`, `hincrby`, a `set` without `ex`/`px`) in a Redis
//! client, with no expiry given to it anywhere: no `expire`/`setex`/`EX`
//! in the function, none on the same key in the file, no Lua script
//! (which may set one) and no sweep of keys by pattern in the project.
//! Django's cache always applies a timeout and Memcached evicts, so
//! neither is judged. On the model's store commands (`model::store_ops`).
//!
//! In-memory half: see `in_memory_growth`.

use super::{Rule, RuleOptions};
use crate::finding::{Finding, Severity};
use crate::project::{FileId, Project};

pub struct UnboundedState;

impl Rule for UnboundedState {
    fn id(&self) -> &'static str {
        "RATE005"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        let python = facts.lang.is_some_and(|l| l.is_python());
        in_memory_growth(project, file, options, out);
        expiry_only_over_limit(project, file, out);
        store_growth(project, file, python, out);
    }
}

/// A per-client key that a counting command (or a `set` / `hset`)
/// writes, with no expiry given in the function or to the key anywhere in
/// the file, on a store that keeps keys until told (Redis, not Django's
/// cache or memcached). A function that sends a Lua script may set one:
/// silent.
fn store_growth(project: &Project, file: FileId, python: bool, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{is_counting_write, is_relative_expire, is_set};
    let all = super::model_store_use(project);
    let commands = all.commands(file);
    if commands.iter().any(|c| c.scripted) || commands.is_empty() {
        return;
    }
    struct KeySweeps(bool);
    let sweeps =
        project.per_run(|| KeySweeps(crate::model::store_ops::sweeps_keys(&project.model)));
    if sweeps.0 {
        return;
    }
    let model = &project.model;
    let facts = &project.files[file];
    let expires = |c: &&crate::model::store_ops::StoreCommand| {
        c.sets_ttl || c.keeps_ttl || is_relative_expire(&c.command) || c.command == "expireat"
    };
    let expiring_functions: std::collections::HashSet<_> = commands
        .iter()
        .filter(expires)
        .map(|c| c.function)
        .collect();
    let expiring_keys: std::collections::HashSet<&str> = commands
        .iter()
        .filter(expires)
        .map(|c| c.key.as_str())
        .collect();
    let mut taken = super::TakenLines::new(project, file, "RATE005", out);
    let mut reported = std::collections::HashSet::new();
    for c in commands.iter().filter(|c| {
        (is_counting_write(&c.command) || is_set(&c.command))
            && !c.evicts
            && !c.sets_ttl
            && !c.keeps_ttl
            && !expiring_functions.contains(&c.function)
            && !expiring_keys.contains(c.key.as_str())
    }) {
        if !super::keyed_per_client(model, c)
            || !reported.insert(c.key.as_str())
            || !taken.take(c.at.clone().into())
        {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE005",
            severity: Severity::Warning,
            message: format!(
                "per-client key `{}` is written with `{}` and never given an expiry: every client ever seen stays in the store, and rotating keys grows it without bound",
                c.key, c.command
            ),
            path: facts.path.clone(),
            span: c.at.clone().into(),
            primary_label: "key created with no TTL".to_string(),
            labels: Vec::new(),
            help: no_ttl_help(python),
        });
    }
}

fn no_ttl_help(python: bool) -> String {
    if python {
        "give the key the window as its TTL in the same transaction: `pipe.incr(key); pipe.expire(key, window, nx=True)` (or `set(key, 1, ex=window, nx=True)` first)".to_string()
    } else {
        "give the key the window as its TTL in the same transaction: `client.multi().incr(key).expire(key, window, 'NX').exec()` (or `set(key, 1, { EX: window, NX: true })` first)".to_string()
    }
}

/// On the model (`model::store_ops`): a per-client counter whose only
/// expiry runs once the client is over the limit (`if (n > max)
/// expire(key)`). Clients that stay under the limit keep their key for
/// ever.
fn expiry_only_over_limit(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{is_counter, is_relative_expire, Guard};
    let all = super::model_store_use(project);
    let commands = all.commands(file);
    let facts = &project.files[file];
    let python = facts.lang.is_some_and(|l| l.is_python());
    let model = &project.model;
    let mut taken = super::TakenLines::new(project, file, "RATE005", out);
    for c in commands
        .iter()
        .filter(|c| is_counter(&c.command) && !c.scripted)
    {
        let expiries: Vec<_> = commands
            .iter()
            .filter(|e| {
                e.function == c.function && e.key == c.key && is_relative_expire(&e.command)
            })
            .collect();
        let only_over = !expiries.is_empty()
            && expiries
                .iter()
                .all(|e| e.guard == Guard::OverLimit && !e.nx);
        let per_client = !model
            .address_origins(c.module, c.function, c.key_expr)
            .is_empty()
            || model
                .roles(c.module, c.function, c.key_expr)
                .contains(&crate::model::Role::Identity);
        if !only_over || !per_client || !taken.take(c.span.clone().into()) {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE005",
            severity: Severity::Warning,
            message: format!(
                "per-client key `{}` gets an expiry only once the client is over the limit: keys of clients that stay under it are never removed, and rotating keys grows the store without bound",
                c.key
            ),
            path: facts.path.clone(),
            span: c.span.clone().into(),
            primary_label: "key created with no TTL".to_string(),
            labels: vec![crate::finding::Label {
                path: facts.path.clone(),
                span: expiries[0].span.clone().into(),
                message: "the only expiry, over the limit".to_string(),
            }],
            help: if python {
                "give the key its TTL when the window starts, in the same transaction: `pipe.incr(key); pipe.expire(key, window, nx=True)`".to_string()
            } else {
                "give the key its TTL when the window starts, in the same transaction: `client.multi().incr(key).expire(key, window, 'NX').exec()`".to_string()
            },
        });
    }
}

/// The in-memory half: a hand-rolled limiter's container (the ones RATE002
/// judges) that gains an entry per client and is never pruned: no
/// `del`/`pop`/`clear`/`Map.delete` anywhere, no reassignment, and not a
/// bounded cache (`TTLCache`, `LRUCache`, lru-cache with `max`).
pub(super) fn in_memory_growth(
    project: &Project,
    file: FileId,
    options: &RuleOptions,
    out: &mut Vec<Finding>,
) {
    let facts = &project.files[file];
    let python = facts.lang.is_some_and(|l| l.is_python());
    for state in super::rate002_in_memory_limiter::hand_rolled_states(project, file, options) {
        let container = &facts.containers[state.container];
        if container.bounded
            || state
                .accesses
                .iter()
                .any(|(_, a)| a.kind == crate::facts::AccessKind::Delete)
        {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE005",
            severity: Severity::Warning,
            message: format!(
                "`{}` gains an entry per client and nothing ever removes one: memory grows with every new client, and rotating addresses grows it on purpose",
                container.name
            ),
            path: facts.path.clone(),
            span: container.span,
            primary_label: "never pruned".to_string(),
            labels: vec![crate::finding::Label {
                path: project.files[state.write_file].path.clone(),
                span: state.write.span,
                message: match &state.write.key_text {
                    Some(key) => format!("a new entry per client (`{key}`)"),
                    None => "a new entry per client".to_string(),
                },
            }],
            help: if python {
                "evict idle clients (`cachetools.TTLCache(maxsize=100_000, ttl=WINDOW)`, or delete keys whose window has passed), or move the state to Redis with a TTL".to_string()
            } else {
                "evict idle clients (`new LRUCache({ max: 100_000, ttl: WINDOW_MS })` from lru-cache, or delete entries whose window has passed), or move the state to Redis with a TTL".to_string()
            },
        });
    }
}
