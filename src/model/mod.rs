//! The project model of the second-generation core: modules linked by
//! their imports, and value roles propagated to a fixed point over the IR
//! (`crate::ir`). See README "Architecture" and `../shared/design/MODELS.md`.
//!
//! A value's roles say what it is for the rules: a request, a client
//! address in one of its forms, a store client, an instance of a project
//! class, a project function... They flow through locals, module globals,
//! instance attributes (`self.r`, `this.store`), returns, arguments into
//! parameters, imports and `or` / `??` / ternary joins. The state is a map
//! from slots (where a value can live) to small role sets; each round
//! re-reads every statement once, and the sets only grow, so the loop ends
//! (bounded by `MAX_ROUNDS`). No code here knows syntax or branches on the
//! language for it; library and framework knowledge is in `tables`.

pub mod keys;
pub mod limiting;
pub mod rejections;
pub mod state;
pub mod store_ops;
pub mod tables;

use crate::ir::*;
use crate::project::PathIndex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModId(pub u32);

/// The forms a client address takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    /// The TCP peer: `remote_addr`, `client.host`, `socket.remoteAddress`.
    Peer,
    /// `req.ip` / `ctx.ip` / `request.ip`: the peer, or the forwarded
    /// address the app's proxy trust selects.
    ReqIp,
    /// The whole `X-Forwarded-For` / `Forwarded` header value.
    ForwardedWhole,
    /// The forwarded addresses as a list (`req.ips`, `access_route`,
    /// `header.split(",")`).
    ForwardedList,
    /// The leftmost forwarded entry: written by the client.
    ForwardedLeftmost,
    /// The rightmost forwarded entry: written by the nearest proxy.
    ForwardedRightmost,
    /// `X-Real-IP`-style single-address headers.
    RealIpHeader,
    /// A header the client sets to name itself (`User-Agent`,
    /// `X-Client-Id`): not an address, but as a key the client chooses it.
    ClientHeader,
}

/// Where an address role was read or last transformed (the expression
/// `split(",")[0]`, `req.ip`): findings about a key point there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub module: ModId,
    pub start: u32,
    pub end: u32,
}

impl Origin {
    /// The placeholder in tables; `eval` replaces it with the expression.
    pub const TABLE: Origin = Origin {
        module: ModId(u32::MAX),
        start: 0,
        end: 0,
    };

    pub fn span(self) -> Span {
        self.start as usize..self.end as usize
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// A value from outside the project, by access path (`flask.request`,
    /// `redis.Redis()`): tables give it a meaning.
    Ext(String),
    Request,
    /// A request's headers (or WSGI environ / Django `META`).
    Headers,
    /// ASGI `request.client`.
    ClientInfo,
    /// Node's `req.socket` / `req.connection`.
    Socket,
    Addr(Addr, Origin),
    /// A function that, given the request, returns this address
    /// (`get_remote_address`, a project `key_func`).
    KeyFunc(Addr),
    /// Who the caller is by account: a user id, session, API key or token.
    Identity,
    /// The `request-ip` middleware, which sets `req.clientIp`.
    RequestIpMiddleware,
    /// A Redis / Memcached / cache client.
    Store,
    /// A literal string or number.
    Const,
    Module(ModId),
    /// An object / dict literal (options passed by variable, config
    /// objects): its entries are read where a member is asked for.
    Object(ModId, FuncId, ExprId),
    Class(ModId, ClassId),
    Instance(ModId, ClassId),
    Func(ModId, FuncId),
}

/// Where a value can live.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A local (or parameter) of a function.
    Local(ModId, FuncId, String),
    /// A module-level name.
    Global(ModId, String),
    /// An attribute of a project class's instances (or a class attribute).
    Field(ModId, ClassId, String),
    /// What a function returns.
    Return(ModId, FuncId),
    /// An attribute the project sets on requests (`ctx.remoteip = …` in a
    /// middleware, read as `ctx.remoteip` by a limiter elsewhere): the
    /// addresses and accounts written there, project-wide.
    RequestField(String),
}

/// The owner of the project-wide request attributes (`Slot::RequestField`).
const REQUEST_FIELDS: Unit = (ModId(u32::MAX), None);

/// A unit of propagation and the owner of slots: one function of a
/// module (its locals, parameters and return), or a module's globals,
/// fields and class bodies (`None`).
type Unit = (ModId, Option<FuncId>);

/// An export's roles this round, and the units computing them read.
type CachedExport = (Roles, Vec<Unit>);

impl Slot {
    /// The unit whose slots these are.
    fn owner(&self) -> Unit {
        match self {
            Slot::Local(m, f, _) | Slot::Return(m, f) => (*m, Some(*f)),
            Slot::Global(m, _) | Slot::Field(m, ..) => (*m, None),
            Slot::RequestField(_) => REQUEST_FIELDS,
        }
    }
}

/// A small set of roles; beyond `MAX_ROLES` new roles are dropped (the
/// set stays monotone, so propagation still ends).
pub type Roles = Vec<Role>;
const MAX_ROLES: usize = 12;
const MAX_ROUNDS: usize = 8;
/// Access paths of external values longer than this (in bytes, or in
/// members after the module) are not followed: the tables name short
/// paths, and a loop such as `scope = scope.upper` would otherwise grow a
/// longer path every round and never settle.
const MAX_EXT_LEN: usize = 120;
const MAX_EXT_MEMBERS: usize = 5;

/// Where an import of a module leads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Project(ModId),
    External(String),
}

pub struct Model {
    /// One module per project file, in the project's file order (empty
    /// for files that were not lowered).
    pub modules: Vec<Module>,
    /// Per module, per import: where its module specifier leads.
    targets: Vec<Vec<Target>>,
    /// Module paths, to resolve inline `require('m')` calls.
    index: PathIndex,
    /// Module by its path (Python submodules of a package).
    by_path: HashMap<std::path::PathBuf, ModId>,
    /// Per module, per function: names bound in that function's scope.
    bound: Vec<Vec<HashSet<String>>>,
    /// Per module, per function: names declared `global` there.
    globals: Vec<Vec<HashSet<String>>>,
    slots: HashMap<Slot, Roles>,
    /// The units whose slots changed in this round.
    changed: HashSet<Unit>,
    /// What `export_roles` found this round, by (module, name): barrels
    /// that re-export each other with `export *` would otherwise be walked
    /// again for every name, exponentially. An entry in progress is empty,
    /// which also cuts cycles.
    export_cache: Mutex<HashMap<(ModId, String), CachedExport>>,
    /// Per module: the last import binding of a local name in a scope.
    import_index: Vec<HashMap<(FuncId, String), usize>>,
    /// Evaluation steps so far: bounds the work spent per module (see
    /// `propagate_module`).
    work: AtomicU64,
    /// Modules whose propagation ran over its budget (generated or bundled
    /// code): they keep what they had and are not propagated further.
    pub saturated: Vec<bool>,
    /// Propagation is over: the model only answers queries (from any
    /// thread; see `QUERY_EXPORTS`).
    built: bool,
}

thread_local! {
    /// Evaluation steps left for the expression being evaluated: one
    /// expression's value is looked up through other functions, modules
    /// and object literals, and in generated code that graph can branch
    /// at every step. Reset for every top-level evaluation.
    static STEPS_LEFT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

thread_local! {
    /// Once the model is built, what `export_roles` found during one
    /// top-level evaluation (cleared by `start_eval`): rules query the
    /// model from several threads, and a cache shared between queries would
    /// make an answer depend on which query ran first (a result cut short
    /// by another query's budget or cycle), so findings would change from
    /// run to run.
    static QUERY_EXPORTS: std::cell::RefCell<HashMap<(ModId, String), Roles>> =
        std::cell::RefCell::new(HashMap::new());
}

thread_local! {
    /// The units whose slots the unit being propagated has read: it needs
    /// another round only when one of them changed.
    /// `None` outside propagation (queries of rules need no record).
    static READS: std::cell::RefCell<Option<HashSet<Unit>>> = const { std::cell::RefCell::new(None) };
}

/// Steps one top-level evaluation may take (a normal one takes tens).
const STEPS_PER_EVAL: u32 = 2_000;

/// Evaluation steps a module may take per round, per expression it has:
/// normal code needs a handful; bundles with deep call chains would
/// otherwise cost time quadratic in their size.
const WORK_PER_EXPR: u64 = 48;

impl Model {
    /// Link the modules and propagate roles to a fixed point.
    pub fn build(modules: Vec<Module>) -> Model {
        let index = PathIndex::from_paths(modules.iter().map(|m| m.path.as_path()));
        let aliases = AliasIndex::new(&modules);
        let targets = modules
            .iter()
            .enumerate()
            .map(|(own, m)| {
                m.imports
                    .iter()
                    .map(|imp| {
                        match index
                            .resolve(&m.path, &imp.module, m.is_python())
                            .or_else(|| aliases.resolve(&imp.module))
                            // `import redis` in the project's own `redis.py`
                            // is the installed package, not the file itself.
                            .filter(|&id| id != own)
                        {
                            Some(id) => Target::Project(ModId(id as u32)),
                            // Python `import redis.asyncio` binds `redis`:
                            // `redis.asyncio.Redis` is read from the top.
                            None if m.is_python()
                                && imp.name.is_none()
                                && imp.module.split('.').next() == Some(imp.local.as_str()) =>
                            {
                                Target::External(imp.local.clone())
                            }
                            None => Target::External(external_module(&imp.module)),
                        }
                    })
                    .collect()
            })
            .collect();
        let (bound, globals) = modules.iter().map(scopes).unzip();
        let count = modules.len();
        let by_path = modules
            .iter()
            .enumerate()
            .map(|(i, m)| (m.path.clone(), ModId(i as u32)))
            .collect();
        let mut model = Model {
            by_path,
            index,
            modules,
            targets,
            bound,
            globals,
            slots: HashMap::new(),
            changed: HashSet::new(),
            work: AtomicU64::new(0),
            saturated: vec![false; count],
            built: false,
            export_cache: Mutex::new(HashMap::new()),
            import_index: Vec::new(),
        };
        model.import_index = model
            .modules
            .iter()
            .map(|module| {
                module
                    .imports
                    .iter()
                    .enumerate()
                    .map(|(i, imp)| ((imp.function, imp.local.clone()), i))
                    .collect()
            })
            .collect();
        model.seed_parameters();
        // Round 0 reads every unit; later rounds only those that read a
        // slot of a unit that changed in the round before (a worklist by
        // function: deep call chains in big libraries settle one hop per
        // round, and re-reading everything else each time is waste).
        let mut reads: HashMap<Unit, Vec<Unit>> = HashMap::new();
        let mut last_changed: Option<HashSet<Unit>> = None;
        for round in 0..MAX_ROUNDS {
            model.changed.clear();
            model
                .export_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            let mut ran = 0;
            for m in 0..count {
                if model.saturated[m] {
                    continue;
                }
                let dirty = |unit: Unit| match &last_changed {
                    None => true,
                    Some(changed) => reads
                        .get(&unit)
                        .is_some_and(|r| r.iter().any(|u| changed.contains(u))),
                };
                let read = model.propagate_module(ModId(m as u32), dirty);
                ran += read.len();
                reads.extend(read);
            }
            if std::env::var_os("RATECHECK_TIMING").is_some() {
                eprintln!(
                    "ratecheck: timing: model round {round}: {ran} units read, {} evaluations, {} modules saturated",
                    model.work.load(Ordering::Relaxed),
                    model.saturated.iter().filter(|s| **s).count()
                );
            }
            if model.changed.is_empty() {
                break;
            }
            last_changed = Some(std::mem::take(&mut model.changed));
        }
        READS.with(|r| *r.borrow_mut() = None);
        model.built = true;
        model
    }

    pub fn module(&self, m: ModId) -> &Module {
        &self.modules[m.0 as usize]
    }

    /// The roles `expr`, in function `f` of module `m`, can have.
    pub fn roles(&self, m: ModId, f: FuncId, expr: ExprId) -> Roles {
        self.eval(m, f, expr, 0)
    }

    /// Evaluate from the top: a fresh step budget. Nested evaluations
    /// (depth > 0) share it.
    fn start_eval(depth: usize) {
        if depth == 0 {
            STEPS_LEFT.with(|s| s.set(STEPS_PER_EVAL));
            QUERY_EXPORTS.with(|c| {
                let mut c = c.borrow_mut();
                if !c.is_empty() {
                    *c = HashMap::new();
                }
            });
        }
    }

    /// The roles stored in a slot.
    pub fn slot(&self, slot: &Slot) -> &[Role] {
        READS.with(|r| {
            if let Some(reads) = r.borrow_mut().as_mut() {
                reads.insert(slot.owner());
            }
        });
        self.slots.get(slot).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The client-address forms an expression can carry (directly, or as
    /// part of a key built from it).
    pub fn addresses(&self, m: ModId, f: FuncId, expr: ExprId) -> Vec<Addr> {
        let mut out: Vec<Addr> = self
            .address_origins(m, f, expr)
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The same, with where each address was read.
    pub fn address_origins(&self, m: ModId, f: FuncId, expr: ExprId) -> Vec<(Addr, Origin)> {
        self.roles(m, f, expr)
            .into_iter()
            .filter_map(|r| match r {
                Role::Addr(a, o) => Some((a, o)),
                _ => None,
            })
            .collect()
    }

    /// Is `f` a route handler: decorated with a framework's route
    /// registration (`@app.get("/")`, `@bp.route(…)`, `@api_view`, NestJS
    /// `@Get()`)? The framework calls it for every request to the route.
    pub fn is_route_handler(&self, m: ModId, f: FuncId) -> bool {
        let module = self.module(m);
        module.func(f).decorators.iter().any(|&d| {
            let callee = match &module.expr(d).kind {
                ExprKind::Call(call) => call.callee,
                _ => d,
            };
            self.roles(m, f, callee).iter().any(|r| {
                let Role::Ext(path) = r else { return false };
                tables::ROUTE_DECORATOR_FUNCTIONS.contains(&path.as_str())
                    || path.rsplit_once('.').is_some_and(|(app, method)| {
                        tables::ROUTE_DECORATORS
                            .iter()
                            .any(|(a, methods)| *a == app && methods.contains(&method))
                    })
            })
        })
    }

    /// The project modules `m` imports.
    pub fn imported_modules(&self, m: ModId) -> impl Iterator<Item = ModId> + '_ {
        self.targets[m.0 as usize].iter().filter_map(|t| match t {
            Target::Project(t) => Some(*t),
            Target::External(_) => None,
        })
    }

    /// The project functions that calls in `f`'s body may reach.
    pub fn called_functions(&self, m: ModId, f: FuncId) -> Vec<(ModId, FuncId)> {
        let module = self.module(m);
        let mut out = Vec::new();
        let mut stmts = Vec::new();
        walk_stmts(module, &module.func(f).body, &mut |s| stmts.push(s));
        for s in stmts {
            stmt_exprs(module, s, &mut |e| {
                walk_expr(module, e, &mut |x| {
                    if let ExprKind::Call(call) = &module.expr(x).kind {
                        for r in self.eval(m, f, call.callee, 0) {
                            if let Role::Func(tm, g) = r {
                                if !out.contains(&(tm, g)) {
                                    out.push((tm, g));
                                }
                            }
                        }
                    }
                })
            });
        }
        out
    }

    // ---------------------------------------------------------- seeding

    /// Request parameters of handlers and middleware, by annotation or
    /// (weaker) by name.
    fn seed_parameters(&mut self) {
        let mut updates = Vec::new();
        let mut typed = Vec::new();
        for (mi, module) in self.modules.iter().enumerate() {
            let m = ModId(mi as u32);
            for (fi, func) in module.functions.iter().enumerate() {
                let f = FuncId(fi as u32);
                for p in &func.params {
                    let annotated = p
                        .annotation
                        .and_then(|a| module.dotted(a))
                        .is_some_and(|t| {
                            let last = t.rsplit('.').next().unwrap_or(&t);
                            tables::REQUEST_TYPES.contains(&last)
                        });
                    if annotated || tables::REQUEST_PARAM_NAMES.contains(&p.name.as_str()) {
                        updates.push((Slot::Local(m, f, p.name.clone()), vec![Role::Request]));
                    } else if let Some(a) = p.annotation {
                        typed.push((m, f, p.name.clone(), a));
                    }
                }
            }
        }
        // `limiter: Limiter`, `store: RedisStore`: an instance of the
        // annotated class, a library's (by its import) or the project's.
        // A store client's class makes a store (`client: Redis`).
        for (m, f, name, annotation) in typed {
            let instances: Roles = self
                .eval(m, f, annotation, 0)
                .into_iter()
                .flat_map(|r| match r {
                    Role::Ext(path) if !path.ends_with("()") => external(format!("{path}()"))
                        .into_iter()
                        .filter(|r| matches!(r, Role::Ext(_) | Role::Store))
                        .collect(),
                    Role::Class(cm, c) => vec![Role::Instance(cm, c)],
                    _ => Vec::new(),
                })
                .collect();
            updates.push((Slot::Local(m, f, name), instances));
        }
        self.apply(updates);
    }

    // ------------------------------------------------------ propagation

    /// One pass over a module. Updates are applied after each statement,
    /// so a chain of locals in one function settles in one round.
    /// Re-read the units of module `m` that `dirty` names; returns what
    /// each unit read read. Updates are applied after each statement, so a
    /// chain of locals in one function settles in one round.
    fn propagate_module(
        &mut self,
        m: ModId,
        dirty: impl Fn(Unit) -> bool,
    ) -> Vec<(Unit, Vec<Unit>)> {
        let module = self.module(m);
        let functions = module.functions.len();
        let classes = module.classes.len();
        let budget = WORK_PER_EXPR * (module.exprs.len() as u64 + 64);
        let start = self.work.load(Ordering::Relaxed);
        let mut read = Vec::new();
        let begin = || READS.with(|r| *r.borrow_mut() = Some(HashSet::new()));
        let end = |unit: Unit, read: &mut Vec<(Unit, Vec<Unit>)>| {
            let mut units: Vec<Unit> =
                READS.with(|r| r.borrow_mut().take().into_iter().flatten().collect());
            // Its own slots are written by others (arguments into parameters).
            units.push(unit);
            read.push((unit, units));
        };
        for fi in 0..functions {
            let f = FuncId(fi as u32);
            if !dirty((m, Some(f))) {
                continue;
            }
            if self.work.load(Ordering::Relaxed) - start > budget {
                self.saturated[m.0 as usize] = true;
                return read;
            }
            begin();
            let mut updates = Vec::new();
            let func = self.module(m).func(f);
            for p in &func.params {
                if let Some(d) = p.default {
                    updates.push((Slot::Local(m, f, p.name.clone()), self.eval(m, f, d, 0)));
                }
                // `private readonly svc: StoreService`: an instance of a
                // project class, which may be defined in a module whose
                // names settle after seeding (library types are seeded).
                if let Some(a) = p.annotation {
                    let instances: Roles = self
                        .eval(m, f, a, 0)
                        .into_iter()
                        .filter_map(|r| match r {
                            Role::Class(cm, c) => Some(Role::Instance(cm, c)),
                            _ => None,
                        })
                        .collect();
                    if !instances.is_empty() {
                        updates.push((Slot::Local(m, f, p.name.clone()), instances));
                    }
                }
                // `({ headers, ip }) => …`: each name is a member of the argument.
                if !p.destructured.is_empty() {
                    let base = self.slot(&Slot::Local(m, f, p.name.clone())).to_vec();
                    let here = Origin {
                        module: m,
                        start: p.span.start as u32,
                        end: p.span.end as u32,
                    };
                    for (local, prop) in &p.destructured {
                        let roles = self.member(&base, prop, here, 0);
                        updates.push((Slot::Local(m, f, local.clone()), roles));
                    }
                }
            }
            let mut stmts = Vec::new();
            walk_stmts(self.module(m), &func.body, &mut |s| stmts.push(s));
            self.apply(updates);
            for s in stmts {
                if self.work.load(Ordering::Relaxed) - start > budget {
                    self.saturated[m.0 as usize] = true;
                    return read;
                }
                let mut updates = Vec::new();
                self.stmt_updates(m, f, s, &mut updates);
                self.apply(updates);
            }
            end((m, Some(f)), &mut read);
        }
        if !dirty((m, None)) {
            return read;
        }
        begin();
        for ci in 0..classes {
            let c = ClassId(ci as u32);
            let mut updates = Vec::new();
            let module = self.module(m);
            let class = module.class(c);
            for &s in &class.body {
                if let StmtKind::Assign { target, value, .. } = &module.stmt(s).kind {
                    if let Some(name) = field_name(module, *target) {
                        let roles = self.eval(m, class.function, *value, 0);
                        updates.push((Slot::Field(m, c, name), roles));
                    }
                }
            }
            // Methods are reachable as attributes of instances.
            for &method in &class.methods {
                if let Some(name) = &module.func(method).name {
                    updates.push((Slot::Field(m, c, name.clone()), vec![Role::Func(m, method)]));
                }
            }
            self.apply(updates);
        }
        end((m, None), &mut read);
        read
    }

    fn stmt_updates(&self, m: ModId, f: FuncId, s: StmtId, out: &mut Vec<(Slot, Roles)>) {
        let module = self.module(m);
        match &module.stmt(s).kind {
            StmtKind::Assign {
                target, value, op, ..
            } => {
                if matches!(op, None | Some(BinOp::Nullish) | Some(BinOp::Or)) {
                    let roles = self.eval(m, f, *value, 0);
                    self.assign(m, f, *target, roles, out);
                }
            }
            StmtKind::Return(Some(e)) => {
                out.push((Slot::Return(m, f), self.eval(m, f, *e, 0)));
            }
            StmtKind::With { items, .. } => {
                for (ctx, target) in items {
                    if let Some(t) = target {
                        let roles = self.eval(m, f, *ctx, 0);
                        self.assign(m, f, *t, roles, out);
                    }
                }
            }
            // `for addr in reversed(request.access_route)`: walking the
            // forwarded addresses from the right (skipping trusted proxies)
            // picks what the nearest proxies wrote.
            StmtKind::Loop {
                target: Some(t),
                iter: Some(it),
                is_while: false,
                ..
            } => {
                if let Some(list) = reversed_operand(module, *it) {
                    let walks_forwarded = self
                        .eval(m, f, list, 0)
                        .iter()
                        .any(|r| matches!(r, Role::Addr(Addr::ForwardedList, _)));
                    if walks_forwarded {
                        let span = &module.expr(*it).span;
                        let here = Origin {
                            module: m,
                            start: span.start as u32,
                            end: span.end as u32,
                        };
                        let roles = vec![Role::Addr(Addr::ForwardedRightmost, here)];
                        self.assign(m, f, *t, roles, out);
                    }
                }
            }
            StmtKind::FunctionDef(g) => {
                if let Some(name) = &module.func(*g).name {
                    out.push((self.name_slot(m, f, name), vec![Role::Func(m, *g)]));
                }
            }
            StmtKind::ClassDef(c) => {
                if let Some(name) = &module.class(*c).name {
                    out.push((self.name_slot(m, f, name), vec![Role::Class(m, *c)]));
                }
            }
            _ => {}
        }
        // Arguments flow into the parameters of the project functions called.
        stmt_exprs(module, s, &mut |e| {
            walk_expr(module, e, &mut |x| {
                if let ExprKind::Call(call) = &module.expr(x).kind {
                    self.bind_arguments(m, f, call, out);
                }
            })
        });
    }

    fn bind_arguments(&self, m: ModId, f: FuncId, call: &Call, out: &mut Vec<(Slot, Roles)>) {
        for callee in self.eval(m, f, call.callee, 0) {
            if let Role::Ext(path) = &callee {
                self.bind_library_callbacks(m, f, call, path, out);
                continue;
            }
            let (tm, target) = match callee {
                Role::Func(tm, g) => (tm, g),
                Role::Class(tm, c) => match constructor(self.module(tm), c) {
                    Some(g) => (tm, g),
                    None => continue,
                },
                _ => continue,
            };
            let target_module = self.module(tm);
            let params = &target_module.func(target).params;
            // Python methods take the instance first (lowered as `This`
            // when named `self`).
            let skip = usize::from(
                target_module.is_python()
                    && target_module.func(target).class.is_some()
                    && !target_module.func(target).is_static,
            );
            for (i, &arg) in call.args.iter().enumerate() {
                if let Some(p) = params.get(i + skip) {
                    if p.rest {
                        break;
                    }
                    let roles = self.eval(m, f, arg, 0);
                    out.push((Slot::Local(tm, target, p.name.clone()), roles));
                }
            }
            for (name, arg) in &call.keywords {
                if params.iter().any(|p| &p.name == name) {
                    let roles = self.eval(m, f, *arg, 0);
                    out.push((Slot::Local(tm, target, name.clone()), roles));
                }
            }
        }
    }

    /// A limiter library calls the key function it is given with the
    /// request (`keyGenerator: (c) => c.req.header(…)`): its first
    /// parameter is a request, whatever it is named.
    fn bind_library_callbacks(
        &self,
        m: ModId,
        f: FuncId,
        call: &Call,
        path: &str,
        out: &mut Vec<(Slot, Roles)>,
    ) {
        // `app.use((c, next) => …)`, `fastify.addHook('onRequest', (r) => …)`.
        if let Some((app, method)) = path.rsplit_once('.') {
            let registers = tables::HANDLER_REGISTRATIONS
                .iter()
                .any(|(a, methods)| *a == app && methods.contains(&method));
            if registers {
                for &arg in &call.args {
                    for role in self.eval(m, f, arg, 0) {
                        if let Role::Func(gm, g) = role {
                            if let Some(p) = self.module(gm).func(g).params.first() {
                                out.push((Slot::Local(gm, g, p.name.clone()), vec![Role::Request]));
                            }
                        }
                    }
                }
            }
        }
        let called = format!("{path}()");
        for (callee, option, _) in tables::KEY_OPTIONS {
            if *callee != called {
                continue;
            }
            let value = match call.keywords.iter().find(|(k, _)| k == option) {
                Some((_, v)) => Some((m, *v, f)),
                None => call.args.last().and_then(|&last| {
                    self.eval(m, f, last, 0).into_iter().find_map(|r| match r {
                        Role::Object(om, of, e) => self.object_entry(om, of, e, option, 0),
                        _ => None,
                    })
                }),
            };
            let Some((vm, v, vf)) = value else { continue };
            for role in self.eval(vm, vf, v, 0) {
                if let Role::Func(gm, g) = role {
                    if let Some(p) = self.module(gm).func(g).params.first() {
                        out.push((Slot::Local(gm, g, p.name.clone()), vec![Role::Request]));
                    }
                }
            }
        }
    }

    /// Where `target` (a name, `this.x`, `obj.x`) lives, with `roles`.
    fn assign(
        &self,
        m: ModId,
        f: FuncId,
        target: ExprId,
        roles: Roles,
        out: &mut Vec<(Slot, Roles)>,
    ) {
        if roles.is_empty() {
            return;
        }
        let module = self.module(m);
        match &module.expr(target).kind {
            ExprKind::Name(n) => out.push((self.name_slot(m, f, n), roles)),
            ExprKind::Attr { obj, name } => {
                for owner in self.eval(m, f, *obj, 0) {
                    let slot = match owner {
                        Role::Instance(om, c) | Role::Class(om, c) => {
                            Slot::Field(om, c, name.clone())
                        }
                        Role::Module(om) => Slot::Global(om, name.clone()),
                        Role::Request => {
                            let kept: Roles = roles
                                .iter()
                                .filter(|r| matches!(r, Role::Addr(..) | Role::Identity))
                                .cloned()
                                .collect();
                            out.push((Slot::RequestField(name.clone()), kept));
                            continue;
                        }
                        _ => continue,
                    };
                    out.push((slot, roles.clone()));
                }
            }
            _ => {}
        }
    }

    fn apply(&mut self, updates: Vec<(Slot, Roles)>) {
        for (slot, roles) in updates {
            self.add(slot, roles);
        }
    }

    fn add(&mut self, slot: Slot, roles: Roles) {
        if roles.is_empty() {
            return;
        }
        let owner = slot.owner();
        let set = self.slots.entry(slot).or_default();
        for r in roles {
            if set.len() >= MAX_ROLES {
                break;
            }
            if !set.contains(&r) {
                set.push(r);
                self.changed.insert(owner);
            }
        }
    }

    // ------------------------------------------------------------ names

    /// The slot a name assigned in function `f` lives in.
    fn name_slot(&self, m: ModId, f: FuncId, name: &str) -> Slot {
        let mi = m.0 as usize;
        if f == Module::TOP || self.globals[mi][f.index()].contains(name) {
            Slot::Global(m, name.to_string())
        } else {
            Slot::Local(m, f, name.to_string())
        }
    }

    /// The roles of a name read in function `f`: the innermost scope that
    /// binds it, else a module global or import.
    fn lookup(&self, m: ModId, f: FuncId, name: &str, depth: usize) -> Roles {
        let module = self.module(m);
        let mi = m.0 as usize;
        let mut scope = Some(f);
        while let Some(s) = scope {
            if s == Module::TOP {
                break;
            }
            if self.globals[mi][s.index()].contains(name) {
                break;
            }
            if self.bound[mi][s.index()].contains(name) {
                let mut roles = self.slot(&Slot::Local(m, s, name.to_string())).to_vec();
                merge(&mut roles, self.import_roles(m, s, name, depth));
                return roles;
            }
            scope = module.func(s).parent;
        }
        let mut roles = self.slot(&Slot::Global(m, name.to_string())).to_vec();
        merge(&mut roles, self.import_roles(m, Module::TOP, name, depth));
        roles
    }

    /// What an import binding `name` in scope `f` brings in.
    fn import_roles(&self, m: ModId, f: FuncId, name: &str, depth: usize) -> Roles {
        let module = self.module(m);
        let Some(&i) = self.import_index[m.0 as usize].get(&(f, name.to_string())) else {
            return Vec::new();
        };
        let imp = &module.imports[i];
        match &self.targets[m.0 as usize][i] {
            // `from engine import ratelimits` where `engine/` is a folder
            // without `__init__.py` (a namespace package): the submodule.
            Target::External(_)
                if module.is_python()
                    && imp.name.is_some()
                    && !imp.module.starts_with('.')
                    && self.namespace_submodule(m, i).is_some() =>
            {
                self.namespace_submodule(m, i)
                    .map(Role::Module)
                    .into_iter()
                    .collect()
            }
            Target::External(path) => {
                let full = match imp.name.as_deref() {
                    None | Some("default") => path.clone(),
                    Some(member) => format!("{path}.{member}"),
                };
                external(full)
            }
            Target::Project(tm) => match imp.name.as_deref() {
                None => {
                    let mut roles = vec![Role::Module(*tm)];
                    // `require('./x')` is what `module.exports` holds.
                    if !self.module(*tm).is_python() {
                        merge(&mut roles, self.export_roles(*tm, "default", depth + 1));
                    }
                    roles
                }
                Some(member) => self.export_roles(*tm, member, depth + 1),
            },
        }
    }

    /// The project module `from package import name` names when `package`
    /// is a folder without `__init__.py`.
    fn namespace_submodule(&self, m: ModId, import: usize) -> Option<ModId> {
        let module = self.module(m);
        let imp = &module.imports[import];
        let dotted = format!("{}.{}", imp.module, imp.name.as_deref()?);
        self.index
            .resolve(&module.path, &dotted, true)
            .map(|t| ModId(t as u32))
            .filter(|&t| t != m)
    }

    /// The roles of what module `m` exports as `name`.
    fn export_roles(&self, m: ModId, name: &str, depth: usize) -> Roles {
        if depth > 8 {
            return Vec::new();
        }
        let key = (m, name.to_string());
        if self.built {
            if let Some(known) = QUERY_EXPORTS.with(|c| c.borrow().get(&key).cloned()) {
                return known;
            }
            // In progress: an empty answer cuts cycles.
            QUERY_EXPORTS.with(|c| c.borrow_mut().insert(key.clone(), Vec::new()));
            let roles = self.resolve_export(m, name, depth);
            QUERY_EXPORTS.with(|c| c.borrow_mut().insert(key, roles.clone()));
            return roles;
        }
        {
            let mut cache = self.export_cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((known, read)) = cache.get(&key) {
                // What computing it read is read again by this reader.
                READS.with(|r| {
                    if let Some(reads) = r.borrow_mut().as_mut() {
                        reads.extend(read.iter().copied());
                    }
                });
                return known.clone();
            }
            cache.insert(key.clone(), (Vec::new(), vec![(m, None)]));
        }
        let outer = READS.with(|r| r.borrow_mut().as_mut().map(std::mem::take));
        let roles = self.resolve_export(m, name, depth);
        let read: Vec<Unit> = READS.with(|r| {
            let mut reads = r.borrow_mut();
            let Some(reads) = reads.as_mut() else {
                return vec![(m, None)];
            };
            let read = reads.iter().copied().chain([(m, None)]).collect();
            reads.extend(outer.into_iter().flatten());
            read
        });
        self.export_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (roles.clone(), read));
        roles
    }

    fn resolve_export(&self, m: ModId, name: &str, depth: usize) -> Roles {
        let module = self.module(m);
        if module.is_python() {
            let mut roles = self.lookup(m, Module::TOP, name, depth);
            if roles.is_empty() {
                // `from package import submodule`.
                if let Some(Target::Project(sub)) = self.resolve_submodule(m, name) {
                    roles.push(Role::Module(sub));
                }
            }
            return roles;
        }
        let mut roles = Vec::new();
        for export in module
            .exports
            .iter()
            .filter(|e| e.name == name || e.name == "*")
        {
            let found = match &export.value {
                ExportValue::Local(local) => self.lookup(m, Module::TOP, local, depth),
                ExportValue::Expr(e) => self.eval(m, Module::TOP, *e, depth),
                ExportValue::ReExport {
                    module: spec,
                    member,
                } => {
                    let target = self.resolve_from(m, spec);
                    match (target, member.as_deref()) {
                        (Some(tm), Some(member)) => self.export_roles(tm, member, depth + 1),
                        (Some(tm), None) if export.name == "*" => {
                            self.export_roles(tm, name, depth + 1)
                        }
                        _ => Vec::new(),
                    }
                }
            };
            merge(&mut roles, found);
        }
        roles
    }

    fn resolve_from(&self, m: ModId, spec: &str) -> Option<ModId> {
        let module = self.module(m);
        // Re-exports name modules the module does not import; resolve them
        // through an import with the same specifier when there is one.
        module
            .imports
            .iter()
            .position(|i| i.module == spec)
            .and_then(|i| match &self.targets[m.0 as usize][i] {
                Target::Project(t) => Some(*t),
                Target::External(_) => None,
            })
    }

    fn resolve_submodule(&self, m: ModId, name: &str) -> Option<Target> {
        let module = self.module(m);
        let stem = module.path.file_stem()?.to_str()?;
        if stem != "__init__" {
            return None;
        }
        let dir = module.path.parent()?;
        self.by_path
            .get(&dir.join(format!("{name}.py")))
            .or_else(|| self.by_path.get(&dir.join(name).join("__init__.py")))
            .map(|&t| Target::Project(t))
    }

    // -------------------------------------------------------- evaluation

    fn eval(&self, m: ModId, f: FuncId, expr: ExprId, depth: usize) -> Roles {
        Self::start_eval(depth);
        let exhausted = STEPS_LEFT.with(|s| {
            let left = s.get();
            s.set(left.saturating_sub(1));
            left == 0
        });
        if depth > 32 || exhausted {
            return Vec::new();
        }
        self.work.fetch_add(1, Ordering::Relaxed);
        let module = self.module(m);
        let d = depth + 1;
        let span = &module.expr(expr).span;
        let here = Origin {
            module: m,
            start: span.start as u32,
            end: span.end as u32,
        };
        match &module.expr(expr).kind {
            ExprKind::Name(n) => self.lookup(m, f, n, d),
            ExprKind::This => match enclosing_class(module, f) {
                Some(c) => vec![Role::Instance(m, c)],
                None => Vec::new(),
            },
            ExprKind::Attr { obj, name } => {
                let base = self.eval(m, f, *obj, d);
                let mut roles = self.member(&base, name, here, d);
                // `request.server.redis`, `app.state.redis`: a client set
                // up where the model cannot see (a framework decorator,
                // a lifespan hook), known by its name.
                if tables::names_redis_client(name) && !roles.contains(&Role::Store) {
                    merge(&mut roles, vec![Role::Store]);
                }
                roles
            }
            ExprKind::Subscript { obj, index } => {
                // `hits, WINDOW = {}, 60` lowers to `hits = ({}, 60)[0]`.
                if let (ExprKind::Tuple(items) | ExprKind::List(items), ExprKind::Num(i)) =
                    (&module.expr(*obj).kind, &module.expr(*index).kind)
                {
                    if let Some(&item) = items.get(*i as usize) {
                        return self.eval(m, f, item, d);
                    }
                }
                let base = self.eval(m, f, *obj, d);
                let mut roles = self.subscript(module, &base, *index, here);
                merge(&mut roles, self.table_entries(module, &base, *index, d));
                roles
            }
            ExprKind::Call(call) => {
                let mut roles = self.call(m, f, call, here, d);
                // `new Map()`, `dict()`, `defaultdict(list)`: a container
                // made here, known by where it is made (like `{}`).
                let builtin = match &module.expr(call.callee).kind {
                    ExprKind::Name(n) => {
                        tables::CONTAINER_BUILTINS.contains(&n.as_str())
                            && self.lookup(m, f, n, d).is_empty()
                    }
                    _ => false,
                };
                let imported = roles.iter().any(
                    |r| matches!(r, Role::Ext(p) if tables::CONTAINER_CONSTRUCTORS.contains(&p.as_str())),
                );
                if builtin || imported {
                    merge(&mut roles, vec![Role::Object(m, f, expr)]);
                }
                roles
            }
            ExprKind::Str(_) | ExprKind::Num(_) => vec![Role::Const],
            ExprKind::Logic { op, left, right } => {
                let mut roles = self.eval(m, f, *right, d);
                if *op != LogicOp::And {
                    merge(&mut roles, self.eval(m, f, *left, d));
                }
                roles
            }
            ExprKind::Ternary {
                then, otherwise, ..
            } => {
                let mut roles = self.eval(m, f, *then, d);
                merge(&mut roles, self.eval(m, f, *otherwise, d));
                roles
            }
            // A key built from an address identifies what the address does.
            ExprKind::Template(parts) => {
                let mut roles = Vec::new();
                for p in parts {
                    if let TemplatePart::Expr(e) = p {
                        merge(&mut roles, self.key_part(m, f, *e, d));
                    }
                }
                roles
            }
            ExprKind::Binary {
                op: BinOp::Add | BinOp::Mod,
                left,
                right,
            } => {
                let mut roles = self.key_part(m, f, *left, d);
                merge(&mut roles, self.key_part(m, f, *right, d));
                roles
            }
            ExprKind::Await(e) => self.eval(m, f, *e, d),
            ExprKind::AssignExpr { value, .. } => self.eval(m, f, *value, d),
            ExprKind::Function(g) => vec![Role::Func(m, *g)],
            ExprKind::Class(c) => vec![Role::Class(m, *c)],
            ExprKind::Dict(_) => vec![Role::Object(m, f, expr)],
            _ => Vec::new(),
        }
    }

    /// What one part of a key built by string joining says about the key:
    /// its addresses, and whether it names an account (`f"{username}:{ip}"`
    /// limits per account, whatever the address part is).
    fn key_part(&self, m: ModId, f: FuncId, part: ExprId, depth: usize) -> Roles {
        let mut roles = addresses_only(self.eval(m, f, part, depth));
        let named = match &self.module(m).expr(part).kind {
            ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => Some(n.as_str()),
            _ => None,
        };
        if named.is_some_and(tables::identity_name) && !roles.contains(&Role::Identity) {
            roles.push(Role::Identity);
        }
        roles
    }

    /// `base.name`.
    fn member(&self, base: &[Role], name: &str, here: Origin, depth: usize) -> Roles {
        let mut out = Vec::new();
        for role in base {
            match role {
                Role::Ext(path) => merge(&mut out, external(format!("{path}.{name}"))),
                Role::Module(tm) => merge(&mut out, self.export_roles(*tm, name, depth)),
                Role::Instance(tm, c) | Role::Class(tm, c) => {
                    merge(&mut out, self.field(*tm, *c, name, 0));
                }
                Role::Object(om, of, e) => {
                    if let Some((vm, value, f)) = self.object_entry(*om, *of, *e, name, 0) {
                        merge(&mut out, self.eval(vm, f, value, depth));
                    }
                }
                Role::RequestIpMiddleware => {}
                // Anything read from an identity identifies the account.
                Role::Identity => out.push(Role::Identity),
                _ => {
                    for (from, member, to) in tables::MEMBER_ROLES {
                        if from == role && *member == name {
                            let to = match to {
                                Role::Addr(a, _) => Role::Addr(*a, here),
                                other => other.clone(),
                            };
                            merge(&mut out, vec![to]);
                        }
                    }
                    if *role == Role::Request && name == "clientIp" {
                        // Set by the `request-ip` middleware.
                        out.push(Role::Addr(Addr::ForwardedLeftmost, here));
                    }
                    // Set by a project middleware; the key is read here.
                    if *role == Role::Request {
                        let stashed = self.slot(&Slot::RequestField(name.to_string()));
                        merge(
                            &mut out,
                            stashed
                                .iter()
                                .map(|r| match r {
                                    Role::Addr(a, _) => Role::Addr(*a, here),
                                    other => other.clone(),
                                })
                                .collect(),
                        );
                    }
                    if *role == Role::Headers {
                        if let Some(a) = tables::header_addr(name) {
                            out.push(Role::Addr(a, here));
                        }
                        // `req.headers.authorization`
                        if tables::identity_header(name) {
                            out.push(Role::Identity);
                        }
                    }
                }
            }
        }
        out
    }

    /// The value of entry `name` of an object literal (looking into
    /// spread objects), with the module and function it is evaluated in.
    pub fn object_entry(
        &self,
        m: ModId,
        f: FuncId,
        dict: ExprId,
        name: &str,
        depth: usize,
    ) -> Option<(ModId, ExprId, FuncId)> {
        let module = self.module(m);
        let ExprKind::Dict(entries) = &module.expr(dict).kind else {
            return None;
        };
        for entry in entries.iter().rev() {
            match &entry.key {
                DictKey::Name(k) if k == name => return Some((m, entry.value, f)),
                DictKey::Spread if depth < 4 => {
                    for r in self.eval(m, f, entry.value, 1) {
                        if let Role::Object(om, of, e) = r {
                            if let Some(found) = self.object_entry(om, of, e, name, depth + 1) {
                                return Some(found);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// An attribute of a project class, looking through its project bases.
    fn field(&self, m: ModId, c: ClassId, name: &str, depth: usize) -> Roles {
        let mut roles = self.slot(&Slot::Field(m, c, name.to_string())).to_vec();
        if roles.is_empty() && depth < 4 {
            let module = self.module(m);
            for &base in &module.class(c).bases {
                for r in self.eval(m, module.class(c).function, base, 1) {
                    if let Role::Class(bm, bc) = r {
                        merge(&mut roles, self.field(bm, bc, name, depth + 1));
                    }
                }
            }
        }
        roles
    }

    /// `base[index]`.
    /// An entry of a dict literal the project keeps as a table
    /// (`limits["default"]["clients"]`): the entry a literal key names, or
    /// any entry of a small table when the key is computed
    /// (`limits[endpoint]`).
    fn table_entries(&self, module: &Module, base: &[Role], index: ExprId, d: usize) -> Roles {
        const SMALL_TABLE: usize = 16;
        let key = module.str_value(index);
        let mut out = Vec::new();
        for role in base {
            let Role::Object(om, of, e) = *role else {
                continue;
            };
            let table = self.module(om);
            let ExprKind::Dict(entries) = &table.expr(e).kind else {
                continue;
            };
            if entries.len() > SMALL_TABLE {
                continue;
            }
            for entry in entries {
                let DictKey::Name(k) = &entry.key else {
                    continue;
                };
                if key.is_none_or(|want| want == k) {
                    merge(&mut out, self.eval(om, of, entry.value, d + 1));
                }
            }
        }
        out
    }

    fn subscript(&self, module: &Module, base: &[Role], index: ExprId, here: Origin) -> Roles {
        let mut out = Vec::new();
        let key = module.str_value(index);
        let position = match &module.expr(index).kind {
            ExprKind::Num(n) => Some(*n),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => match module.expr(*operand).kind {
                ExprKind::Num(n) => Some(-n),
                _ => None,
            },
            _ => None,
        };
        for role in base {
            match role {
                Role::Headers => {
                    if let Some(a) = key.and_then(tables::header_addr) {
                        out.push(Role::Addr(a, here));
                    }
                    if key.is_some_and(tables::identity_header) {
                        out.push(Role::Identity);
                    }
                }
                // Entry 0 is the client's claim; any other entry (from the
                // end, or a hop count) is a deliberate choice of what a
                // proxy wrote.
                Role::Addr(Addr::ForwardedList, _) => match position {
                    Some(0.0) => out.push(Role::Addr(Addr::ForwardedLeftmost, here)),
                    _ => out.push(Role::Addr(Addr::ForwardedRightmost, here)),
                },
                Role::Ext(path) => {
                    if let Some(k) = key {
                        merge(&mut out, external(format!("{path}.{k}")));
                    }
                    // Any entry of a table-known mapping (`caches[alias]`).
                    let any = format!("{path}[]");
                    if tables::external_role(&any).is_some() {
                        merge(&mut out, external(any));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn call(&self, m: ModId, f: FuncId, call: &Call, here: Origin, depth: usize) -> Roles {
        let module = self.module(m);
        let mut out = Vec::new();
        // The callee's roles; a method's receiver is evaluated once (twice
        // per link would be exponential in a call chain's length).
        let mut callee_roles = None;
        // Methods on request parts and strings.
        if let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind {
            let receiver = self.eval(m, f, *obj, depth);
            let callee_span = &module.expr(call.callee).span;
            let callee_here = Origin {
                module: m,
                start: callee_span.start as u32,
                end: callee_span.end as u32,
            };
            callee_roles = Some(self.member(&receiver, name, callee_here, depth));
            let first_str = call.args.first().and_then(|a| module.str_value(*a));
            for role in &receiver {
                // NestJS: `context.switchToHttp().getRequest()`.
                if *role == Role::Request && tables::REQUEST_ACCESSORS.contains(&name.as_str()) {
                    out.push(Role::Request);
                }
                if *role == Role::Store
                    && (tables::STORE_HANDLES.contains(&name.as_str())
                        || tables::STORE_CALLABLES.contains(&name.as_str()))
                {
                    out.push(Role::Store);
                }
                if tables::HEADER_GETTERS
                    .iter()
                    .any(|(r, meth)| r == role && meth == name)
                {
                    if let Some(a) = first_str.and_then(tables::header_addr) {
                        out.push(Role::Addr(a, here));
                    }
                    if first_str.is_some_and(tables::identity_header) {
                        out.push(Role::Identity);
                    }
                }
                // `authorization.replace("Bearer ", "")` is still the token.
                if *role == Role::Identity && tables::KEEPING_METHODS.contains(&name.as_str()) {
                    out.push(Role::Identity);
                }
                if let Role::Addr(a, _) = role {
                    match name.as_str() {
                        "split" if matches!(a, Addr::ForwardedWhole) => {
                            out.push(Role::Addr(Addr::ForwardedList, here));
                        }
                        "shift" if matches!(a, Addr::ForwardedList) => {
                            out.push(Role::Addr(Addr::ForwardedLeftmost, here));
                        }
                        // `.map((s) => s.trim()).filter(Boolean)`: still the list.
                        "map" | "filter" if matches!(a, Addr::ForwardedList) => {
                            out.push(role.clone());
                        }
                        "pop" if matches!(a, Addr::ForwardedList) => {
                            out.push(Role::Addr(Addr::ForwardedRightmost, here));
                        }
                        "at" if matches!(a, Addr::ForwardedList) => {
                            let last = call.args.first().is_some_and(|x| {
                                matches!(
                                    module.expr(*x).kind,
                                    ExprKind::Unary {
                                        op: UnaryOp::Neg,
                                        ..
                                    }
                                )
                            });
                            out.push(Role::Addr(
                                if last {
                                    Addr::ForwardedRightmost
                                } else {
                                    Addr::ForwardedLeftmost
                                },
                                here,
                            ));
                        }
                        n if tables::KEEPING_METHODS.contains(&n) => out.push(role.clone()),
                        _ => {}
                    }
                }
            }
            // `":".join([prefix, ip])`, `"rl:{}".format(ip)`.
            if matches!(name.as_str(), "join" | "format" | "concat") {
                for &arg in &call.args {
                    let roles = match &module.expr(arg).kind {
                        ExprKind::List(items) | ExprKind::Tuple(items) => items
                            .iter()
                            .flat_map(|i| self.eval(m, f, *i, depth))
                            .collect(),
                        _ => self.eval(m, f, arg, depth),
                    };
                    merge(&mut out, addresses_only(roles));
                }
            }
        }
        // An inline `require('m')`: what the module exports.
        if let (ExprKind::Name(n), Some(spec)) = (
            &module.expr(call.callee).kind,
            call.args.first().and_then(|a| module.str_value(*a)),
        ) {
            if n == "require" && self.lookup(m, f, n, depth).is_empty() {
                match self.index.resolve(&module.path, spec, false) {
                    Some(t) => {
                        let t = ModId(t as u32);
                        out.push(Role::Module(t));
                        merge(&mut out, self.export_roles(t, "default", depth));
                    }
                    None => merge(&mut out, external(external_module(spec))),
                }
                return out;
            }
        }
        let callee_roles = match callee_roles {
            Some(roles) => roles,
            None => self.eval(m, f, call.callee, depth),
        };
        for callee in callee_roles {
            match callee {
                Role::Ext(path) => {
                    // `hashlib.sha256(ip.encode())`, `createHash('sha256')
                    // .update(ip)`: a digest identifies what it was made of.
                    if tables::is_hashing(&path) {
                        if let Some(&arg) = call.args.first() {
                            merge(&mut out, addresses_only(self.eval(m, f, arg, depth)));
                        }
                    }
                    merge(&mut out, external(format!("{path}()")))
                }
                Role::Func(tm, g) => {
                    merge(&mut out, self.slot(&Slot::Return(tm, g)).to_vec());
                }
                Role::Class(tm, c) => out.push(Role::Instance(tm, c)),
                Role::KeyFunc(a) => out.push(Role::Addr(a, here)),
                _ => {}
            }
        }
        // `str(ip)`, `String(ip)`: conversions keep what a value identifies.
        if let ExprKind::Name(n) = &module.expr(call.callee).kind {
            if matches!(n.as_str(), "str" | "String") {
                if let Some(&arg) = call.args.first() {
                    merge(&mut out, addresses_only(self.eval(m, f, arg, depth)));
                }
            }
        }
        out
    }
}

/// Import aliases of bundler and TypeScript configurations (`~/lib/x`,
/// `@/lib/x`, `src/lib/x`): resolved by the end of the path when exactly
/// one project module ends that way (the alias tables themselves are not
/// read).
struct AliasIndex {
    /// The last two segments of a module's path without extension (or
    /// of its folder, for `index` files) → modules and their full stems.
    by_tail: HashMap<String, Vec<(String, usize)>>,
}

impl AliasIndex {
    fn new(modules: &[Module]) -> AliasIndex {
        let mut by_tail: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            if m.is_python() {
                continue;
            }
            let mut stem = m
                .path
                .with_extension("")
                .to_string_lossy()
                .replace('\\', "/");
            if let Some(dir) = stem.strip_suffix("/index") {
                stem = dir.to_string();
            }
            by_tail.entry(tail(&stem)).or_default().push((stem, i));
        }
        AliasIndex { by_tail }
    }

    fn resolve(&self, spec: &str) -> Option<usize> {
        let rest = ["~/", "@/", "src/", "#/"]
            .iter()
            .find_map(|p| spec.strip_prefix(p))?;
        let rest = rest.trim_end_matches(".js").trim_end_matches(".ts");
        let candidates: Vec<usize> = self
            .by_tail
            .get(&tail(rest))?
            .iter()
            .filter(|(stem, _)| stem.ends_with(&format!("/{rest}")) || stem == rest)
            .map(|(_, i)| *i)
            .collect();
        match candidates.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}

/// The list `reversed(x)` / `x.reverse()` / `[...x].reverse()` walks
/// backwards: `x`.
fn reversed_operand(module: &Module, e: ExprId) -> Option<ExprId> {
    let ExprKind::Call(call) = &module.expr(e).kind else {
        return None;
    };
    match &module.expr(call.callee).kind {
        ExprKind::Name(n) if n == "reversed" => call.args.first().copied(),
        ExprKind::Attr { obj, name } if name == "reverse" => match &module.expr(*obj).kind {
            ExprKind::List(items) if items.len() == 1 => match &module.expr(items[0]).kind {
                ExprKind::Spread(inner) => Some(*inner),
                _ => None,
            },
            _ => Some(*obj),
        },
        _ => None,
    }
}

fn tail(path: &str) -> String {
    let parts: Vec<&str> = path.rsplit('/').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// Roles of an external access path: the path itself and what the tables
/// say it is.
fn external(path: String) -> Roles {
    // Members are counted after the module name, whose own dots
    // (`redis.asyncio`) and slashes do not matter here.
    if path.len() > MAX_EXT_LEN || path.matches('.').count() > MAX_EXT_MEMBERS + 1 {
        return Vec::new();
    }
    let mut roles = Vec::new();
    if let Some(r) = tables::external_role(&path) {
        roles.push(r);
    }
    roles.push(Role::Ext(path));
    roles
}

/// The module path an external import names (`node:crypto` → `crypto`).
fn external_module(spec: &str) -> String {
    spec.strip_prefix("node:").unwrap_or(spec).to_string()
}

/// What a key built from these values identifies: addresses and
/// identities.
fn addresses_only(roles: Roles) -> Roles {
    roles
        .into_iter()
        .filter(|r| matches!(r, Role::Addr(..) | Role::Identity))
        .collect()
}

fn merge(into: &mut Roles, more: Roles) {
    for r in more {
        if into.len() >= MAX_ROLES {
            break;
        }
        if !into.contains(&r) {
            into.push(r);
        }
    }
}

/// The class `this` / `self` refers to in `f`: its own class, or that of
/// the method an arrow function or lambda sits in, or (Python) a nested
/// `def` without a `self` of its own (a decorator's `wrapper`).
fn enclosing_class(module: &Module, f: FuncId) -> Option<ClassId> {
    let mut current = Some(f);
    while let Some(c) = current {
        let func = module.func(c);
        if func.class.is_some() {
            return func.class;
        }
        let captures = func.kind == FunctionKind::Lambda
            || module.is_python()
                && func.kind == FunctionKind::Def
                && !func.params.iter().any(|p| p.name == "self");
        if !captures {
            return None;
        }
        current = func.parent;
    }
    None
}

/// `__init__` / `constructor` of a class.
fn constructor(module: &Module, c: ClassId) -> Option<FuncId> {
    module.class(c).methods.iter().copied().find(|&m| {
        matches!(
            module.func(m).name.as_deref(),
            Some("__init__" | "constructor")
        )
    })
}

/// A class-body assignment's field: `x = …` (Python) or `this.x = …` (JS
/// class fields).
fn field_name(module: &Module, target: ExprId) -> Option<String> {
    match &module.expr(target).kind {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Attr { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// Per function: the names bound in its scope (parameters, assignment
/// targets, loop / with / handler variables, nested defs and classes,
/// imports) and the names it declares `global`.
fn scopes(module: &Module) -> (Vec<HashSet<String>>, Vec<HashSet<String>>) {
    let n = module.functions.len();
    let mut bound: Vec<HashSet<String>> = vec![HashSet::new(); n];
    let mut globals: Vec<HashSet<String>> = vec![HashSet::new(); n];
    for (fi, func) in module.functions.iter().enumerate() {
        for p in &func.params {
            bound[fi].insert(p.name.clone());
            for (local, _) in &p.destructured {
                bound[fi].insert(local.clone());
            }
        }
        let mut names = Vec::new();
        let mut declared = Vec::new();
        walk_stmts(module, &func.body, &mut |s| match &module.stmt(s).kind {
            StmtKind::Assign { target, .. } => names.extend(target_name(module, *target)),
            StmtKind::Loop {
                target: Some(t), ..
            } => names.extend(target_name(module, *t)),
            StmtKind::With { items, .. } => {
                for (_, t) in items {
                    if let Some(t) = t {
                        names.extend(target_name(module, *t));
                    }
                }
            }
            StmtKind::Try { handlers, .. } => {
                names.extend(handlers.iter().filter_map(|h| h.name.clone()));
            }
            StmtKind::FunctionDef(g) => names.extend(module.func(*g).name.clone()),
            StmtKind::ClassDef(c) => names.extend(module.class(*c).name.clone()),
            StmtKind::Global(list) => declared.extend(list.iter().cloned()),
            _ => {}
        });
        bound[fi].extend(names);
        globals[fi].extend(declared);
    }
    for imp in &module.imports {
        bound[imp.function.index()].insert(imp.local.clone());
    }
    (bound, globals)
}

fn target_name(module: &Module, target: ExprId) -> Option<String> {
    match &module.expr(target).kind {
        ExprKind::Name(n) => Some(n.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
