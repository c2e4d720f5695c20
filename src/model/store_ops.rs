//! Store commands of limiting code on the model (RULES.md RATE005 and
//! RATE006): each call of a counting or expiry command on a value whose
//! role is a store client, in a function the model counts as limiting
//! code (helpers it calls included), with the key it names, whether it
//! rides in a pipeline or MULTI, and the `if` that guards it.
//!
//! The first-generation `lang::store_flow` sees only clients it can name
//! in the same function; the model also knows clients from factories,
//! other modules, typed parameters and fields (`this.client.incr`), and
//! helpers that limiting code calls with the key.

use super::limiting::FunctionRef;
use super::{tables, ModId, Model, Role};
use crate::ir::*;
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct StoreCommand {
    pub module: ModId,
    pub function: FuncId,
    /// Lower case: `incr`, `pexpire`.
    pub command: String,
    /// The key argument's text, what it names in the function (a local's
    /// name stays its name: two commands on `key` share a key).
    pub key: String,
    pub key_expr: ExprId,
    /// The whole call.
    pub span: Span,
    /// Where a finding goes: the call, or for a chained command
    /// (`multi().get(k).incr(k)`, whose call starts at the client) from
    /// its name to the end of the call.
    pub at: Span,
    pub call: ExprId,
    /// Sent in a pipeline or MULTI with other commands (one round trip).
    pub batched: bool,
    /// The batch is a MULTI/EXEC transaction: no other client's command
    /// runs between its commands.
    pub transaction: bool,
    /// Which batch: the local holding it and where it was assigned
    /// (`pipe@120`), or `@offset` of the call that made it for a chain
    /// (`r.pipeline().incr(k)…`).
    pub batch: Option<String>,
    pub guard: Guard,
    /// `EXPIRE … NX` / `nx=True`: sets the expiry only when the key has none.
    pub nx: bool,
    /// A write that (re)sets the key's expiry: `SETEX`, `set(k, v,
    /// ex=60)`, `{ EX: 60 }`, Django's `cache.set` (its default timeout
    /// applies too); not with `KEEPTTL`.
    pub sets_ttl: bool,
    /// `KEEPTTL`: the key keeps the expiry it has.
    pub keeps_ttl: bool,
    /// A cache that expires or evicts keys itself (Django's cache, whose
    /// default timeout applies; memcached).
    pub evicts: bool,
    /// The key is made from a name that says client (`ip`, `user_id`).
    pub client_named: bool,
    /// On Django's cache API (messages and fixes differ).
    pub django: bool,
    /// The key names a time bucket (`rl:{ip}:{minute}`), so refreshing its
    /// expiry cannot stretch a window.
    pub time_bucketed: bool,
    /// The function sends a Lua script (`eval`, `evalsha`, a registered
    /// script) or WATCHes keys: what it does to the key is not read, or
    /// a transaction retries on conflict, so no finding.
    pub scripted: bool,
    /// The blocks the command runs in, outermost first (the function body
    /// is `[0]`): a command whose path is a prefix of another's runs
    /// before it on every path that reaches the other.
    pub blocks: Vec<u32>,
    /// The locals the command's reply is assigned to (`n = await
    /// r.get(k)`; every name of `[, count] = await pipe.exec()` for a
    /// batched command, or of `[n, t] = await Promise.all([…])`).
    pub results: Vec<String>,
    /// The value written (`set(key, value)`).
    pub value: Option<ExprId>,
    /// The command is part of an `if` condition: its reply decides.
    pub in_condition: bool,
    /// The call of a project helper that sends this one command on the
    /// key it is given (`key_helpers`), not a command itself.
    pub through_helper: bool,
}

/// A call that talks to the store (any command, a pipeline's `exec`, a
/// registered script) in limiting code (RULES.md RATE010).
#[derive(Debug, Clone)]
pub struct StoreCall {
    pub module: ModId,
    pub function: FuncId,
    pub span: Span,
    pub call: ExprId,
    /// What is called, for messages: `redisClient.hGetAll`.
    pub what: String,
    /// Inside a `try` with a handler, or a promise chain with `.catch`.
    pub handled: bool,
    /// The literal `true` / `false` a handler of the enclosing `try`
    /// returns (`except RedisError: return True`): the function's answer
    /// while the store is down.
    pub returns_on_error: Option<(bool, Span)>,
    /// A handler of the enclosing `try` answers 429 (`except
    /// ConnectionError: return …, 429`): the store's outage refuses
    /// everyone.
    pub rejects_on_error: bool,
    /// On Django's cache API: a remote store only where `CACHES` says so.
    pub django: bool,
}

/// A call of a project function from limiting code, and whether its
/// errors are handled there.
#[derive(Debug, Clone)]
pub struct CallSite {
    pub caller: FunctionRef,
    pub callee: FunctionRef,
    pub handled: bool,
    /// The call, in the caller's module.
    pub span: Span,
}

/// What the walk of limiting code finds.
#[derive(Debug, Default)]
pub struct StoreUse {
    pub commands: Vec<StoreCommand>,
    pub calls: Vec<StoreCall>,
    pub sites: Vec<CallSite>,
    /// Closures and nested functions defined inside a `try` with a
    /// handler (or a `.catch` chain) of limiting code.
    pub guarded_closures: HashSet<FunctionRef>,
}

/// Client-side methods of a store client: no round trip.
const CLIENT_SIDE: &[&str] = &[
    "pipeline",
    "multi",
    "transaction",
    "on",
    "once",
    "off",
    "emit",
    "duplicate",
    "defineCommand",
    "register_script",
    "then",
    "catch",
    "finally",
    // Connection management: not a command of the limiter.
    "connect",
    "quit",
    "disconnect",
    "close",
    "end",
];

/// The methods that send a pipeline or MULTI.
const SENDS_BATCH: &[&str] = &["exec", "execute", "execAsPipeline", "exec_multi"];

/// The condition of the innermost `if` a command runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// On the function's main path.
    None,
    /// `count == 1` / `count <= 1`: only when the window starts.
    FirstHit,
    /// `count > limit`, `limit < count`: only once the client is over.
    OverLimit,
    /// A TTL check (`ttl == -1`, `pttl(key) < 0`) or anything else.
    Other,
}

/// Commands that read the count a limiter decides on.
pub fn is_read(command: &str) -> bool {
    matches!(
        command,
        "get"
            | "hget"
            | "hgetall"
            | "hmget"
            | "zcard"
            | "zcount"
            | "llen"
            | "lrange"
            | "scard"
            | "smembers"
    )
}

/// Commands that add to a count, a window or a set.
pub fn is_counting_write(command: &str) -> bool {
    is_counter(command) || matches!(command, "zadd" | "rpush" | "lpush" | "sadd")
}

/// Counting commands of a fixed window.
pub fn is_counter(command: &str) -> bool {
    matches!(
        command,
        "incr" | "incrby" | "incrbyfloat" | "hincrby" | "decr" | "decrby"
    )
}

/// Commands that give a key a relative expiry (Django's
/// `cache.touch(key, timeout)` too).
pub fn is_relative_expire(command: &str) -> bool {
    matches!(command, "expire" | "pexpire" | "touch")
}

/// Does this write (re)set the key's expiry?
/// An option of a write: `ex=60`, `'EX', 60`, `{ EX: 60 }`, `KEEPTTL`.
fn has_option(module: &Module, call: &Call, name: &str) -> bool {
    call.named_arg(module, name)
        .or_else(|| call.named_arg(module, &name.to_ascii_uppercase()))
        .is_some()
        || call.args.iter().skip(1).any(|a| {
            module
                .str_value(*a)
                .is_some_and(|s| s.eq_ignore_ascii_case(name))
        })
}

fn sets_ttl(module: &Module, call: &Call, command: &str, django: bool) -> bool {
    let option = |name: &str| has_option(module, call, name);
    if option("keepttl") {
        return false;
    }
    match command {
        "setex" | "psetex" => true,
        // The cache's default timeout applies when none is given.
        "set" | "add" if django => true,
        "set" => ["ex", "px", "exat", "pxat", "expire", "timeout"]
            .iter()
            .any(|o| option(o)),
        _ => false,
    }
}

/// Does the value a write stores count: `n + 1`, or a value computed
/// by arithmetic from what `reads` (calls reading the key) returned or
/// from `names` (their replies: `tokens -= 1`, `payload.attempts += 1`)?
/// A cached lookup written back unchanged is not a count.
pub fn counts_from(
    module: &Module,
    function: FuncId,
    call: ExprId,
    names: &HashSet<String>,
    reads: &[ExprId],
) -> bool {
    let from_read = |e: ExprId| {
        let mut found = false;
        walk_expr(module, e, &mut |x| found |= reads.contains(&x));
        found || mentions(module, e, names)
    };
    let arithmetic = |e: ExprId| {
        let mut found = false;
        walk_expr(module, e, &mut |x| {
            if let ExprKind::Binary {
                op: BinOp::Add | BinOp::Sub,
                left,
                right,
            } = &module.expr(x).kind
            {
                let one = |y: ExprId| matches!(module.expr(y).kind, ExprKind::Num(n) if n == 1.0);
                found |= from_read(*left) || from_read(*right) || one(*left) || one(*right);
            }
        });
        found
    };
    let ExprKind::Call(written) = &module.expr(call).kind else {
        return false;
    };
    // The values, not the key (`"rl:" + ip` is no count).
    let values = || written.args.iter().skip(1).copied();
    if values().any(arithmetic) {
        return true;
    }
    // A reply (or a field of one) the function changed by arithmetic
    // before writing it.
    let mut changed = HashSet::new();
    walk_stmts(module, &module.func(function).body, &mut |s| {
        if let StmtKind::Assign {
            target, value, op, ..
        } = &module.stmt(s).kind
        {
            let counted = matches!(op, Some(BinOp::Add | BinOp::Sub)) || arithmetic(*value);
            walk_expr(module, *target, &mut |x| {
                if let ExprKind::Name(n) = &module.expr(x).kind {
                    if counted && names.contains(n) {
                        changed.insert(n.clone());
                    }
                }
            });
        }
    });
    values().any(|v| mentions(module, v, &changed))
        || written
            .keywords
            .iter()
            .any(|(_, v)| mentions(module, *v, &changed) || arithmetic(*v))
}

/// Does the write store a reply the function appended to (a log of hits:
/// `stamps.append(now)` / `stamps.push(now)`, then `set(key, stamps)`)?
pub fn appends_to_reply(
    module: &Module,
    function: FuncId,
    call: ExprId,
    names: &HashSet<String>,
) -> bool {
    let mut grown = HashSet::new();
    function_exprs(module, function, &mut |x| {
        let ExprKind::Call(c) = &module.expr(x).kind else {
            return;
        };
        let ExprKind::Attr { obj, name } = &module.expr(c.callee).kind else {
            return;
        };
        if let ExprKind::Name(n) = &module.expr(*obj).kind {
            if matches!(name.as_str(), "append" | "push" | "unshift" | "insert")
                && names.contains(n)
            {
                grown.insert(n.clone());
            }
        }
    });
    let ExprKind::Call(written) = &module.expr(call).kind else {
        return false;
    };
    !grown.is_empty()
        && written
            .args
            .iter()
            .skip(1)
            .any(|&v| mentions(module, v, &grown))
}

const SCRIPT_CALLS: &[&str] = &[
    "watch",
    "eval",
    "evalsha",
    "register_script",
    "script_load",
    "defineCommand",
    "evalSha",
    "scriptLoad",
];

/// Every store command, store call and project call of limiting code, in
/// module and source order.
pub fn store_use(model: &Model, limiting: &HashSet<FunctionRef>) -> StoreUse {
    let mut ordered: Vec<FunctionRef> = limiting.iter().copied().collect();
    ordered.sort();
    let mut out = StoreUse::default();
    let helpers = key_helpers(model, &ordered);
    for (m, f) in ordered {
        let module = model.module(m);
        let mut walk = Walk::new(model, m, f);
        walk.helpers = Some(&helpers);
        walk.block(&module.func(f).body);
        let scripted = walk.scripted;
        out.commands.extend(walk.found.into_iter().map(|mut c| {
            c.scripted = scripted;
            c
        }));
        out.calls.extend(walk.calls);
        out.sites.extend(walk.sites);
        out.guarded_closures.extend(walk.guarded_closures);
    }
    // Calls of code that answers 429 from the rest of the project (the
    // route that calls the service that limits), in its modules and the
    // modules that import them: whether they handle its errors decides
    // whether a store outage reaches the request. (Calls of other
    // limiting code, an admin route resetting a client's counters, are
    // not the limiter's request path.)
    let rejecting: HashSet<FunctionRef> = limiting
        .iter()
        .copied()
        .filter(|&(m, f)| super::limiting::rejects(model.module(m), f))
        .collect();
    let near: HashSet<ModId> = rejecting.iter().map(|&(m, _)| m).collect();
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        if !near.contains(&m) && !model.imported_modules(m).any(|t| near.contains(&t)) {
            continue;
        }
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            if module.func(f).kind == FunctionKind::Module || limiting.contains(&(m, f)) {
                continue;
            }
            let mut walk = Walk {
                sites_only: true,
                ..Walk::new(model, m, f)
            };
            walk.block(&module.func(f).body);
            out.sites.extend(
                walk.sites
                    .into_iter()
                    .filter(|s| rejecting.contains(&s.callee)),
            );
        }
    }
    out
}

/// One command a project helper sends on the key its caller passes
/// (`async function find(db, key) { return db.get(key) }`,
/// `countLimit(key) { return this.redis.zcount(key, …) }`): the call of
/// the helper is that command, on the caller's key.
#[derive(Debug, Clone)]
struct HelperCommand {
    command: String,
    /// Which argument of the call is the key.
    arg: usize,
    nx: bool,
    sets_ttl: bool,
    keeps_ttl: bool,
    evicts: bool,
    django: bool,
}

type KeyHelpers = std::collections::HashMap<FunctionRef, Vec<HelperCommand>>;

/// The limiting functions that send one command on one of their
/// parameters, directly or in a closure they run (a Promise executor's callback-style
/// `db.get(key, cb)`). A read counts only in a helper that returns a
/// value (its reply, or a Promise of it).
fn key_helpers(model: &Model, ordered: &[FunctionRef]) -> KeyHelpers {
    let mut found = KeyHelpers::new();
    for &(m, f) in ordered {
        let module = model.module(m);
        let mut walk = Walk::new(model, m, f);
        walk.block(&module.func(f).body);
        for c in walk.found {
            let ExprKind::Name(key) = &module.expr(c.key_expr).kind else {
                continue;
            };
            // The function whose parameter the key is: this one, or the
            // one a closure without such a parameter is defined in.
            let owns = |g: FuncId| module.func(g).params.iter().position(|p| &p.name == key);
            let (owner, index) = match owns(f) {
                Some(i) => (f, i),
                None => match module.func(f).parent.and_then(|g| Some((g, owns(g)?))) {
                    Some(found) => found,
                    None => continue,
                },
            };
            let owner_fn = module.func(owner);
            if owner_fn.kind == FunctionKind::Module
                || owner_fn.params[index].rest
                || is_read(&c.command) && !returns_value(module, owner)
            {
                continue;
            }
            // Python methods take the instance first; it is no argument.
            let skip =
                usize::from(module.is_python() && owner_fn.class.is_some() && !owner_fn.is_static);
            let Some(arg) = index.checked_sub(skip) else {
                continue;
            };
            found.entry((m, owner)).or_default().push(HelperCommand {
                command: c.command,
                arg,
                nx: c.nx,
                sets_ttl: c.sets_ttl,
                keeps_ttl: c.keeps_ttl,
                evicts: c.evicts,
                django: c.django,
            });
        }
    }
    // Thin wrappers only: a helper that sends several commands on the key
    // (INCR then EXPIRE) is judged where it sends them.
    found.retain(|_, commands| commands.len() == 1);
    found
}

/// Does `f` return a value somewhere?
fn returns_value(module: &Module, f: FuncId) -> bool {
    let mut found = false;
    walk_stmts(module, &module.func(f).body, &mut |s| {
        found |= matches!(module.stmt(s).kind, StmtKind::Return(Some(_)));
    });
    found
}

struct Walk<'a> {
    model: &'a Model,
    m: ModId,
    f: FuncId,
    /// The guards of the enclosing `if`s, innermost last.
    guards: Vec<Guard>,
    /// The blocks being walked, outermost first, and the next block's id.
    blocks: Vec<u32>,
    next_block: u32,
    /// The value an assignment statement stores, and the locals it is
    /// stored in.
    assigned_to: Option<(ExprId, Vec<String>)>,
    /// Walking an `if` condition.
    in_condition: bool,
    /// Inside this many `try` bodies that have a handler.
    handled_depth: u32,
    /// What the handlers of the enclosing `try`s return, innermost last.
    error_returns: Vec<Option<(bool, Span)>>,
    /// Whether a handler of each enclosing `try` answers 429.
    error_rejects: Vec<bool>,
    /// Calls inside the receiver of a `.catch(…)`.
    caught: HashSet<ExprId>,
    /// Locals that hold a pipeline or MULTI (`pipe = r.pipeline()`,
    /// `async with r.pipeline() as pipe`), and whether it is a
    /// transaction.
    batches: std::collections::HashMap<String, (String, bool)>,
    /// The function sends MULTIs with node-redis `execAsPipeline()`:
    /// without MULTI/EXEC.
    pipelined: bool,
    /// Locals holding what a counting command returned (`n = r.incr(k)`).
    counters: HashSet<String>,
    scripted: bool,
    found: Vec<StoreCommand>,
    calls: Vec<StoreCall>,
    sites: Vec<CallSite>,
    guarded_closures: HashSet<FunctionRef>,
    /// Only the calls of project functions are wanted (code outside
    /// limiting code): its store commands are not looked at.
    sites_only: bool,
    /// Helpers whose call is a command on the caller's key.
    helpers: Option<&'a KeyHelpers>,
}

impl<'a> Walk<'a> {
    fn new(model: &'a Model, m: ModId, f: FuncId) -> Self {
        Walk {
            model,
            m,
            f,
            guards: Vec::new(),
            blocks: vec![0],
            next_block: 1,
            assigned_to: None,
            in_condition: false,
            handled_depth: 0,
            error_returns: Vec::new(),
            error_rejects: Vec::new(),
            caught: HashSet::new(),
            batches: std::collections::HashMap::new(),
            pipelined: function_text(model.module(m), f).contains("execAsPipeline"),
            counters: HashSet::new(),
            scripted: false,
            found: Vec::new(),
            calls: Vec::new(),
            sites: Vec::new(),
            guarded_closures: HashSet::new(),
            sites_only: false,
            helpers: None,
        }
    }
}

impl Walk<'_> {
    fn block(&mut self, body: &[StmtId]) {
        let module = self.model.module(self.m);
        for &s in body {
            let stmt = module.stmt(s);
            match &stmt.kind {
                StmtKind::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    self.in_condition = true;
                    self.exprs(*cond);
                    self.in_condition = false;
                    let found = &self.found;
                    let read_reply = |n: &str| {
                        found
                            .iter()
                            .any(|c| is_read(&c.command) && c.results.iter().any(|r| r == n))
                    };
                    self.guards
                        .push(guard_of(module, *cond, &self.counters, read_reply));
                    self.nested(then);
                    self.guards.pop();
                    self.guards.push(Guard::Other);
                    self.nested(otherwise);
                    self.guards.pop();
                    continue;
                }
                StmtKind::Assign { target, value, .. } => {
                    if let ExprKind::Name(n) = &module.expr(*target).kind {
                        self.batches.remove(n);
                        if let Some((_, transaction)) = self.is_batch(*value) {
                            let id = format!("{n}@{}", stmt.span.start);
                            self.batches.insert(n.clone(), (id, transaction));
                        }
                        // `n = await r.incr(k)`, or a value made from one
                        // (`count = parseInt(raw, 10)`).
                        if counted(module, *value) || mentions(module, *value, &self.counters) {
                            self.counters.insert(n.clone());
                        }
                    }
                    let mut names = Vec::new();
                    walk_expr(module, *target, &mut |x| {
                        if let ExprKind::Name(n) = &module.expr(x).kind {
                            names.push(n.clone());
                        }
                    });
                    if !names.is_empty() {
                        self.replies_of_sent_batch(*value, &names);
                        self.assigned_to = Some((*value, names));
                    }
                }
                StmtKind::FunctionDef(g) if self.handled_depth > 0 => {
                    self.guarded_closures.insert((self.m, *g));
                }
                StmtKind::Try {
                    body,
                    handlers,
                    otherwise,
                    finally,
                } => {
                    // `except ValueError:` (a missing key) does not catch
                    // a store outage.
                    let catches = handlers.iter().any(|h| catches_store_errors(module, h));
                    self.handled_depth += u32::from(catches);
                    self.error_returns
                        .push(handlers.iter().find_map(|h| returns_bool(module, &h.body)));
                    self.error_rejects
                        .push(handlers.iter().any(|h| answers_429(module, &h.body)));
                    self.block(body);
                    self.error_returns.pop();
                    self.error_rejects.pop();
                    self.handled_depth -= u32::from(catches);
                    // Recovery code runs once the store has failed: its
                    // calls are not the request path's.
                    self.handled_depth += 1;
                    for h in handlers {
                        self.guards.push(Guard::Other);
                        self.nested(&h.body);
                        self.guards.pop();
                    }
                    self.handled_depth -= 1;
                    self.block(otherwise);
                    self.block(finally);
                    continue;
                }
                StmtKind::With { items, .. } => {
                    for (value, target) in items {
                        if let Some(ExprKind::Name(n)) = target.map(|t| &module.expr(t).kind) {
                            if let Some((_, transaction)) = self.is_batch(*value) {
                                let id = format!("{n}@{}", stmt.span.start);
                                self.batches.insert(n.clone(), (id, transaction));
                            }
                        }
                    }
                }
                _ => {}
            }
            stmt_exprs(module, s, &mut |e| self.exprs(e));
            self.assigned_to = None;
            // Loop, `try` and `with` bodies run on the statement's own
            // path; `else` / `except` bodies are branches.
            child_blocks(module, s, &mut |block, branch| {
                if branch {
                    self.guards.push(Guard::Other);
                    self.nested(block);
                    self.guards.pop();
                } else {
                    self.block(block);
                }
            });
        }
    }

    /// A nested block gets its own id on the block path.
    fn nested(&mut self, body: &[StmtId]) {
        self.blocks.push(self.next_block);
        self.next_block += 1;
        self.block(body);
        self.blocks.pop();
    }

    fn exprs(&mut self, e: ExprId) {
        let module = self.model.module(self.m);
        let mut calls = Vec::new();
        let mut caught = Vec::new();
        walk_expr(module, e, &mut |x| {
            if let ExprKind::Call(call) = &module.expr(x).kind {
                calls.push((x, call));
                if let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind {
                    if name == "catch" {
                        caught.push(*obj);
                    }
                }
            }
        });
        for obj in caught {
            walk_expr(module, obj, &mut |x| {
                self.caught.insert(x);
            });
        }
        walk_expr(module, e, &mut |x| {
            if let ExprKind::Function(g) = &module.expr(x).kind {
                if self.handled_depth > 0 || self.caught.contains(&x) {
                    self.guarded_closures.insert((self.m, *g));
                }
            }
        });
        // Source order: `walk_expr` visits outer calls before inner ones.
        calls.sort_by_key(|(x, _)| module.expr(*x).span.start);
        for (x, call) in calls {
            self.call(x, call);
        }
    }

    fn call(&mut self, x: ExprId, call: &Call) {
        let module = self.model.module(self.m);
        let handled = self.handled_depth > 0 || self.caught.contains(&x);
        let callee_roles = self.model.roles(self.m, self.f, call.callee);
        for r in &callee_roles {
            if let Role::Func(tm, g) = r {
                self.sites.push(CallSite {
                    caller: (self.m, self.f),
                    callee: (*tm, *g),
                    handled,
                    span: module.expr(x).span.clone(),
                });
            }
        }
        if self.sites_only {
            return;
        }
        self.helper_commands(x, call, &callee_roles);
        let store_call = StoreCall {
            module: self.m,
            function: self.f,
            span: module.expr(x).span.clone(),
            call: x,
            what: module
                .dotted(call.callee)
                .unwrap_or_else(|| module.text(&module.expr(call.callee).span).to_string()),
            handled,
            returns_on_error: self.error_returns.last().cloned().flatten(),
            rejects_on_error: self.error_rejects.last().copied().unwrap_or(false),
            django: false,
        };
        // A registered script called: `script(keys=[key])`.
        if callee_roles.contains(&Role::Store) {
            self.scripted = true;
            self.calls.push(store_call);
            return;
        }
        let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind else {
            return;
        };
        let batch = self.is_batch(*obj);
        // Destructuring assigns one value per name: the call is seen once
        // per name, its reply goes to all of them.
        let replies = self.replies(x);
        if let Some(seen) = self
            .found
            .iter_mut()
            .find(|c| c.call == x && !c.through_helper)
        {
            for n in replies {
                if !seen.results.contains(&n) {
                    seen.results.push(n);
                }
            }
            return;
        }
        let receiver = self.model.roles(self.m, self.f, *obj);
        // Django's cache is a store only where `CACHES` says so: the rules
        // judge its calls with the settings.
        let django_cache = receiver
            .iter()
            .any(|r| matches!(r, Role::Ext(p) if p.starts_with("django.core.cache")));
        let on_store = (receiver.contains(&Role::Store) || named_store(module, *obj, &receiver))
            && !django_cache;
        let sends = if batch.is_some() {
            SENDS_BATCH.contains(&name.as_str())
        } else {
            (on_store || django_cache) && !CLIENT_SIDE.contains(&name.as_str())
        };
        if sends {
            self.calls.push(StoreCall {
                django: django_cache,
                ..store_call
            });
        }
        if SCRIPT_CALLS.contains(&name.as_str()) {
            self.scripted = true;
            return;
        }
        let command = name.to_ascii_lowercase();
        if !is_counting_write(&command)
            && !is_relative_expire(&command)
            && !is_read(&command)
            && !is_set(&command)
            && !matches!(
                command.as_str(),
                "ttl" | "pttl" | "del" | "delete" | "unlink"
            )
        {
            return;
        }
        let Some(&key_expr) = call.args.first() else {
            return;
        };
        if batch.is_none() && !on_store && !django_cache {
            return;
        }
        let nx = call.args.iter().skip(1).any(|a| {
            module
                .str_value(*a)
                .is_some_and(|s| s.eq_ignore_ascii_case("nx"))
        }) || call
            .named_arg(module, "nx")
            .is_some_and(|v| !matches!(module.expr(v).kind, ExprKind::Bool(false)));
        let key = module.text(&module.expr(key_expr).span).trim().to_string();
        let sets_ttl = sets_ttl(module, call, &command, django_cache);
        let keeps_ttl = has_option(module, call, "keepttl");
        let sources = self.key_sources(key_expr);
        let evicts = receiver.iter().any(
            |r| matches!(r, Role::Ext(p) if tables::EVICTING_STORES.iter().any(|s| p.starts_with(s))),
        );
        self.found.push(StoreCommand {
            sets_ttl,
            keeps_ttl,
            evicts: evicts || django_cache,
            django: django_cache,
            module: self.m,
            function: self.f,
            command,
            time_bucketed: time_bucketed(module, &sources),
            client_named: client_named(module, &sources),
            key,
            key_expr,
            span: module.expr(x).span.clone(),
            at: {
                let (callee, whole) = (&module.expr(call.callee).span, &module.expr(x).span);
                let chained = matches!(module.expr(*obj).kind, ExprKind::Call(_));
                if chained {
                    callee.end.saturating_sub(name.len()).max(whole.start)..whole.end
                } else {
                    whole.clone()
                }
            },
            call: x,
            batched: batch.is_some(),
            transaction: batch.as_ref().is_some_and(|(_, t)| *t),
            batch: batch.map(|(b, _)| b),
            guard: self.guards.last().copied().unwrap_or(Guard::None),
            nx,
            scripted: false,
            blocks: self.blocks.clone(),
            results: replies,
            value: call.args.get(1).copied(),
            in_condition: self.in_condition,
            through_helper: false,
        });
    }

    /// The call of a key helper (`key_helpers`) is its commands on the
    /// key passed here.
    fn helper_commands(&mut self, x: ExprId, call: &Call, callee_roles: &[Role]) {
        let Some(helpers) = self.helpers else {
            return;
        };
        if self.found.iter().any(|c| c.call == x && c.through_helper) {
            return;
        }
        let module = self.model.module(self.m);
        let mut seen = HashSet::new();
        for r in callee_roles {
            let Role::Func(tm, g) = r else { continue };
            for h in helpers.get(&(*tm, *g)).into_iter().flatten() {
                let Some(&key_expr) = call.args.get(h.arg) else {
                    continue;
                };
                if !seen.insert(&h.command) {
                    continue;
                }
                let sources = self.key_sources(key_expr);
                self.found.push(StoreCommand {
                    module: self.m,
                    function: self.f,
                    command: h.command.clone(),
                    key: module.text(&module.expr(key_expr).span).trim().to_string(),
                    key_expr,
                    span: module.expr(x).span.clone(),
                    at: module.expr(x).span.clone(),
                    call: x,
                    batched: false,
                    transaction: false,
                    batch: None,
                    guard: self.guards.last().copied().unwrap_or(Guard::None),
                    nx: h.nx,
                    sets_ttl: h.sets_ttl,
                    keeps_ttl: h.keeps_ttl,
                    evicts: h.evicts,
                    client_named: client_named(module, &sources),
                    django: h.django,
                    time_bucketed: time_bucketed(module, &sources),
                    scripted: false,
                    blocks: self.blocks.clone(),
                    results: self.replies(x),
                    value: None,
                    in_condition: self.in_condition,
                    through_helper: true,
                });
            }
        }
    }

    /// A pipeline or MULTI handle: `r.pipeline()`, `client.multi()`, a
    /// command chained on one (`multi().incr(k)`), or a local holding one;
    /// which batch it is and whether it is a transaction.
    fn is_batch(&self, e: ExprId) -> Option<(String, bool)> {
        let module = self.model.module(self.m);
        match &module.expr(e).kind {
            ExprKind::Await(inner) => self.is_batch(*inner),
            ExprKind::Name(n) => self.batches.get(n).cloned(),
            ExprKind::Call(call) => match &module.expr(call.callee).kind {
                ExprKind::Attr { obj, name }
                    if tables::STORE_HANDLES.contains(&name.as_str()) && self.on_store(*obj) =>
                {
                    Some((
                        format!("@{}", module.expr(e).span.start),
                        self.transactional(module, *obj, call, name),
                    ))
                }
                ExprKind::Attr { obj, .. } => self.is_batch(*obj),
                _ => None,
            },
            _ => None,
        }
    }

    /// A store client by role, or by a Redis name the model cannot follow.
    fn on_store(&self, e: ExprId) -> bool {
        let roles = self.model.roles(self.m, self.f, e);
        roles.contains(&Role::Store) || named_store(self.model.module(self.m), e, &roles)
    }

    /// `multi()` is MULTI/EXEC unless sent with `execAsPipeline()`;
    /// redis-py's `pipeline()` is one unless `transaction=False` or on a
    /// cluster; ioredis and Upstash pipelines are not.
    fn transactional(&self, module: &Module, client: ExprId, call: &Call, name: &str) -> bool {
        match name {
            "multi" | "transaction" => !self.pipelined,
            "pipeline" if module.lang.is_some_and(|l| l.is_python()) => {
                let off = call
                    .named_arg(module, "transaction")
                    .is_some_and(|v| matches!(module.expr(v).kind, ExprKind::Bool(false)));
                let cluster = module
                    .text(&module.expr(client).span)
                    .to_ascii_lowercase()
                    .contains("cluster")
                    || self.model.roles(self.m, self.f, client).iter().any(
                        |r| matches!(r, Role::Ext(p) if p.to_ascii_lowercase().contains("cluster")),
                    );
                !off && !cluster
            }
            _ => false,
        }
    }

    /// The locals the reply of call `x` goes to, or a value computed from
    /// it: the call is part of the statement's value (`n = int(await
    /// r.get(k) or 0)`, `n = cache.get(k, 0) + 1`, `[a, b] = await
    /// Promise.all([...])`, a chain's `exec()`).
    fn replies(&self, x: ExprId) -> Vec<String> {
        let module = self.model.module(self.m);
        let Some((value, names)) = &self.assigned_to else {
            return Vec::new();
        };
        // Destructuring's synthetic `value[i]` has the pattern's span.
        let inner = &module.expr(x).span;
        let within = |e: ExprId| {
            let outer = &module.expr(e).span;
            outer.start <= inner.start && inner.end <= outer.end
        };
        if within(*value) || within(replied(module, *value)) {
            names.clone()
        } else {
            Vec::new()
        }
    }

    /// `_, count = pipe.execute()`: the commands queued on `pipe` reply
    /// now.
    fn replies_of_sent_batch(&mut self, value: ExprId, names: &[String]) {
        let module = self.model.module(self.m);
        let source = replied(module, value);
        let ExprKind::Call(call) = &module.expr(source).kind else {
            return;
        };
        let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind else {
            return;
        };
        let ExprKind::Name(local) = &module.expr(*obj).kind else {
            return;
        };
        let Some((batch, _)) = self
            .batches
            .get(local)
            .filter(|_| SENDS_BATCH.contains(&name.as_str()))
        else {
            return;
        };
        for c in self
            .found
            .iter_mut()
            .filter(|c| c.batch.as_ref() == Some(batch))
        {
            for n in names {
                if !c.results.contains(n) {
                    c.results.push(n.clone());
                }
            }
        }
    }

    /// The key and the values the locals it is made from hold
    /// (`key = f"q:{tenant}:{window}"`, `window = int(time.time() // 60)`),
    /// at most 16 locals deep.
    fn key_sources(&self, key: ExprId) -> Vec<ExprId> {
        let module = self.model.module(self.m);
        let mut assigned: Vec<(&str, ExprId)> = Vec::new();
        walk_stmts(module, &module.func(self.f).body, &mut |s| {
            if let StmtKind::Assign { target, value, .. } = &module.stmt(s).kind {
                if let ExprKind::Name(t) = &module.expr(*target).kind {
                    assigned.push((t.as_str(), *value));
                }
            }
        });
        let mut seen: HashSet<&str> = HashSet::new();
        let mut sources = Vec::new();
        let mut pending = vec![key];
        while let Some(e) = pending.pop() {
            sources.push(e);
            walk_expr(module, e, &mut |x| {
                if let ExprKind::Name(n) = &module.expr(x).kind {
                    if seen.len() < 16 && seen.insert(n.as_str()) {
                        pending.extend(
                            assigned
                                .iter()
                                .filter(|(t, _)| *t == n.as_str())
                                .map(|(_, v)| *v),
                        );
                    }
                }
            });
        }
        sources
    }
}

/// Does a key made from these values read the clock (a key per window)?
fn time_bucketed(module: &Module, sources: &[ExprId]) -> bool {
    sources.iter().any(|&e| {
        let text = module.text(&module.expr(e).span);
        tables::CLOCK_READS
            .iter()
            .chain(WINDOW_WORDS)
            .any(|w| text.contains(w))
            || text.contains("//")
            || text.to_ascii_lowercase().contains("bucket")
    })
}

/// Does a key made from these values name a client (`ip`, `user_id`,
/// `client_ip`, `request.remote_addr`)?
fn client_named(module: &Module, sources: &[ExprId]) -> bool {
    let mut found = false;
    for &e in sources {
        walk_expr(module, e, &mut |x| match &module.expr(x).kind {
            ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => {
                found |= crate::knowledge::is_client_like_variable(n)
            }
            _ => {}
        });
    }
    found
}

/// Does some function of the project sweep store keys by pattern
/// (`for k in r.scan_iter(match="rl:*"): r.delete(k)`, a scheduled
/// cleanup)? Keys it may cover are not kept for ever.
pub fn sweeps_keys(model: &Model) -> bool {
    model.modules.iter().any(|module| {
        (0..module.functions.len()).any(|fi| {
            let (mut scans, mut deletes) = (false, false);
            function_exprs(module, FuncId(fi as u32), &mut |e| {
                let ExprKind::Call(call) = &module.expr(e).kind else {
                    return;
                };
                let ExprKind::Attr { name, .. } = &module.expr(call.callee).kind else {
                    return;
                };
                let pattern = |a: ExprId| module.text(&module.expr(a).span).contains('*');
                scans |= matches!(
                    name.as_str(),
                    "scan_iter" | "scanIterator" | "scanStream" | "scan" | "keys"
                ) && (call.args.iter().any(|&a| pattern(a))
                    || call.named_arg(module, "match").is_some_and(pattern));
                deletes |= matches!(name.as_str(), "delete" | "del" | "unlink");
            });
            scans && deletes
        })
    })
}

/// Besides the clock reads (`tables::CLOCK_READS`), names of a window
/// in a key: a key per window.
const WINDOW_WORDS: &[&str] = &["minute", "Minute", "window_start", "windowStart"];

/// The reply of a read command and the locals computed from it
/// (`data = r.hgetall(k)`, `tokens = float(data[b"tokens"])`), two
/// assignments deep.
pub fn reply_names(model: &Model, read: &StoreCommand) -> HashSet<String> {
    let module = model.module(read.module);
    let mut names: HashSet<String> = read.results.iter().cloned().collect();
    if names.is_empty() {
        return names;
    }
    let mut assigns = Vec::new();
    walk_stmts(module, &module.func(read.function).body, &mut |s| {
        if let StmtKind::Assign { target, value, .. } = &module.stmt(s).kind {
            if let ExprKind::Name(n) = &module.expr(*target).kind {
                assigns.push((n.clone(), *value));
            }
        }
    });
    for _ in 0..2 {
        let more: Vec<String> = assigns
            .iter()
            .filter(|(n, v)| !names.contains(n) && mentions(module, *v, &names))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        names.extend(more);
    }
    names
}

/// Does the function decide on these names: an `if` condition or a
/// comparison that reads one?
pub fn decides_on(model: &Model, c: &StoreCommand, names: &HashSet<String>) -> bool {
    let module = model.module(c.module);
    let mut found = false;
    walk_stmts(module, &module.func(c.function).body, &mut |s| {
        if let StmtKind::If { cond, .. } = &module.stmt(s).kind {
            found |= mentions(module, *cond, names);
        }
    });
    function_exprs(module, c.function, &mut |e| {
        if let ExprKind::Compare { left, right, .. } = &module.expr(e).kind {
            found |= mentions(module, *left, names) || mentions(module, *right, names);
        }
    });
    found
}

/// Does `e` read one of `names`?
pub fn mentions(module: &Module, e: ExprId, names: &HashSet<String>) -> bool {
    let mut found = false;
    walk_expr(
        module,
        e,
        &mut |x| found |= matches!(&module.expr(x).kind, ExprKind::Name(n) if names.contains(n)),
    );
    found
}

/// Errors that are never a store's outage: a handler catching only these
/// lets a connection error through.
const NON_STORE_ERRORS: &[&str] = &[
    "ValueError",
    "KeyError",
    "TypeError",
    "IndexError",
    "AttributeError",
    "JSONDecodeError",
    "ZeroDivisionError",
    "UnicodeDecodeError",
];

/// Does this handler catch a store's errors: a bare `except:` / `catch`,
/// or a type other than the plain value errors above?
fn catches_store_errors(module: &Module, h: &Handler) -> bool {
    h.types.is_empty()
        || h.types.iter().any(|&t| {
            let name = match &module.expr(t).kind {
                ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => n.as_str(),
                _ => return true,
            };
            !NON_STORE_ERRORS.contains(&name)
        })
}

/// Do these statements answer 429 (the number, or a status name)?
fn answers_429(module: &Module, body: &[StmtId]) -> bool {
    let mut found = false;
    walk_stmts(module, body, &mut |s| {
        stmt_exprs(module, s, &mut |e| {
            walk_expr(module, e, &mut |x| {
                found |= super::limiting::status_429(module, x)
            })
        })
    });
    found
}

/// The first `return True` / `return false` in these statements, and
/// where it is.
fn returns_bool(module: &Module, body: &[StmtId]) -> Option<(bool, Span)> {
    let mut found = None;
    walk_stmts(module, body, &mut |s| {
        if let StmtKind::Return(Some(e)) = &module.stmt(s).kind {
            if let ExprKind::Bool(b) = module.expr(*e).kind {
                found = found.clone().or(Some((b, module.stmt(s).span.clone())));
            }
        }
    });
    found
}

/// The call whose reply a value holds: `await r.get(k)`, `int(r.get(k))`,
/// `Number(await r.get(k))`, `r.get(k) or 0` are all `r.get(k)`; a
/// destructured `[n] = await Promise.all(…)` is the `Promise.all`.
fn replied(module: &Module, value: ExprId) -> ExprId {
    let mut e = value;
    loop {
        match &module.expr(e).kind {
            ExprKind::Await(inner) => e = *inner,
            ExprKind::Subscript { obj, .. } => e = *obj,
            // `r.get(k) or 0`, `(await r.get(k)) ?? 0`
            ExprKind::Logic { left, .. } => e = *left,
            ExprKind::Call(call)
                if call.args.len() == 1
                    && matches!(&module.expr(call.callee).kind, ExprKind::Name(n)
                        if matches!(n.as_str(), "int" | "float" | "Number" | "parseInt" | "parseFloat")) =>
            {
                e = call.args[0]
            }
            _ => return e,
        }
    }
}

/// A client the model cannot follow but whose name says Redis
/// (`req.server.redis`, `app.locals.redisClient`): a decorated framework
/// instance or a value set up outside the code that is read.
fn named_store(module: &Module, e: ExprId, roles: &[Role]) -> bool {
    // An imported library or class named `redis` / `Redis` is not a client
    // (`redis.createClient()`, `Redis.fromEnv()`); what a library call
    // returned (`aioredis.create_redis_pool()`) and a project module
    // wrapping one (`require('./redis').incr(key)`) may be.
    let library = roles.iter().any(|r| match r {
        Role::Ext(path) => !path.ends_with("()"),
        Role::Class(..) => true,
        _ => false,
    });
    match &module.expr(e).kind {
        ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => {
            !library && tables::names_redis_client(n)
        }
        _ => false,
    }
}

/// Commands that write a value the caller computed (`set(k, n + 1)`).
pub fn is_set(command: &str) -> bool {
    matches!(command, "set" | "hset" | "setex" | "psetex" | "hmset")
}

/// The source text of function `f`.
fn function_text(module: &Module, f: FuncId) -> &str {
    module.text(&module.func(f).span)
}

/// `r.incr(k)` / `await client.incr(k)` / `await r.incr(k).catch(…)`.
fn counted(module: &Module, value: ExprId) -> bool {
    let mut e = value;
    let call = loop {
        match &module.expr(e).kind {
            ExprKind::Await(inner) => e = *inner,
            ExprKind::Call(call) => match &module.expr(call.callee).kind {
                ExprKind::Attr { obj, name }
                    if matches!(name.as_str(), "catch" | "then" | "finally") =>
                {
                    e = *obj
                }
                _ => break call,
            },
            _ => return false,
        }
    };
    matches!(&module.expr(call.callee).kind, ExprKind::Attr { name, .. } if is_counter(&name.to_ascii_lowercase()))
}

/// What an `if` condition says about the count a counting command
/// returned (`counters`): the window starts, or the client is over.
fn guard_of(
    module: &Module,
    cond: ExprId,
    counters: &HashSet<String>,
    read_reply: impl Fn(&str) -> bool,
) -> Guard {
    let text = module.text(&module.expr(cond).span).to_ascii_lowercase();
    if text.contains("ttl") {
        return Guard::Other;
    }
    // `if current is None:` / `if (!current)` on a read's reply: the key
    // did not exist, so the window starts.
    // Looked up only for these shapes: one scan per such `if`.
    let reply = |e: ExprId| matches!(&module.expr(e).kind, ExprKind::Name(n) if read_reply(n));
    match &module.expr(cond).kind {
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } if reply(*operand) => return Guard::FirstHit,
        ExprKind::Compare {
            op: CmpOp::Is | CmpOp::Eq,
            left,
            right,
        } if reply(*left) && matches!(module.expr(*right).kind, ExprKind::Null) => {
            return Guard::FirstHit
        }
        _ => {}
    }
    let ExprKind::Compare { op, left, right } = &module.expr(cond).kind else {
        return Guard::Other;
    };
    let is_count = |e: ExprId| {
        let mut found = false;
        walk_expr(
            module,
            e,
            &mut |x| {
                found |= matches!(&module.expr(x).kind, ExprKind::Name(n) if counters.contains(n))
            },
        );
        found
    };
    let num = |e: ExprId| match module.expr(e).kind {
        ExprKind::Num(n) => Some(n),
        _ => None,
    };
    // Put the count on the left: `limit < count` is `count > limit`.
    let (op, other) = if is_count(*left) {
        (*op, *right)
    } else if is_count(*right) {
        let flipped = match op {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtE => CmpOp::GtE,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtE => CmpOp::LtE,
            other => *other,
        };
        (flipped, *left)
    } else {
        return Guard::Other;
    };
    match (op, num(other)) {
        (CmpOp::Eq, Some(n)) | (CmpOp::LtE, Some(n)) if n == 1.0 => Guard::FirstHit,
        (CmpOp::Lt, Some(2.0)) => Guard::FirstHit,
        // Over a limit that is a name or a number above 1.
        (CmpOp::Gt | CmpOp::GtE, n) if n.is_none_or(|n| n > 1.0) => Guard::OverLimit,
        _ => Guard::Other,
    }
}
