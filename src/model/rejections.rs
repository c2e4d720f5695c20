//! A limiter's 429 answers, each judged on its own path (RULES.md RATE007
//! and RATE008): does that response carry `Retry-After` (or a
//! `RateLimit-Reset`), and does anything on the branch that rejects log or
//! count it? A function with two rejections, one with the header and one
//! without, has one rejection without.
//!
//! A 429 is made by the number or a status constant in a status position
//! (`res.status(429)`, `ctx.status = 429`, `return body, 429`,
//! `StatusCodes.TOO_MANY_REQUESTS`), by a helper given it
//! (`error(res, 429, …)`), or by throwing an error class whose constructor
//! or class body sets 429 (`throw new TooManyRequestsError()`).

use super::{tables, ModId, Model, Role};
use crate::ir::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone)]
pub struct Rejection {
    pub module: ModId,
    pub function: FuncId,
    /// The statement that answers 429.
    pub span: Span,
    /// The if/else/except body it is in (the statement itself when it is on
    /// the function's main path): one response per branch, so a status set
    /// in one statement and returned in the next is one rejection.
    pub branch: Span,
    /// A header that tells the client when to retry is set on its path:
    /// before it in the blocks that enclose it, in its branch, in the
    /// helpers those statements call, or (for a thrown error) by the
    /// class or the code that handles it.
    pub retry_after: bool,
    /// A logger or metric is called on the branch that rejects (or the
    /// whole function when it rejects unconditionally), or in the helpers
    /// called there.
    pub recorded: bool,
    /// Answered with 429. Otherwise the branch a limiter's check refuses
    /// exits with some other answer (`if not allow(ip): return error`):
    /// a rejection for RATE008, not RATE007's 429.
    pub status_429: bool,
}

/// Every limiter rejection of the project, in module and source order.
/// `limiting`: the limiting functions (`limiting::limiting_functions`),
/// whose checks decide the refusing branches.
pub fn rejections(
    model: &Model,
    limiting: &HashSet<super::limiting::FunctionRef>,
) -> Vec<Rejection> {
    let error_classes = error_classes(model);
    let thrown = RefCell::new(HashMap::new());
    let handlers = std::cell::OnceCell::new();
    let mut out = Vec::new();
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        let callbacks = library_callbacks(module);
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            if module.func(f).kind == FunctionKind::Module
                || callbacks.contains(&f)
                || in_error_class(module, f)
            {
                continue;
            }
            let mut walk = Walk {
                model,
                m,
                f,
                error_classes: &error_classes,
                limiting,
                path: Vec::new(),
                found: Vec::new(),
            };
            walk.block(&module.func(f).body, None);
            if walk.found.is_empty() || !is_limiter_code(model, m, f, &walk.found) {
                continue;
            }
            let ctx = Ctx {
                model,
                m,
                f,
                thrown: &thrown,
                handlers: &handlers,
            };
            out.extend(walk.found.into_iter().map(|site| site.judge(&ctx)));
        }
    }
    out
}

/// Per thrown error class: (sets `Retry-After`, its handler records it).
type ThrownFacts = RefCell<HashMap<(ModId, ClassId), (bool, bool)>>;

/// What judging needs besides the site.
struct Ctx<'a> {
    model: &'a Model,
    m: ModId,
    f: FuncId,
    /// Per thrown class: (sets `Retry-After`, its handler records it).
    thrown: &'a ThrownFacts,
    /// The project's error handlers, found at the first thrown class.
    handlers: &'a std::cell::OnceCell<Vec<(ModId, FuncId)>>,
}

impl Ctx<'_> {
    fn thrown_facts(&self, (cm, c): (ModId, ClassId)) -> (bool, bool) {
        if let Some(&facts) = self.thrown.borrow().get(&(cm, c)) {
            return facts;
        }
        let related = class_related_functions(self.model, cm, c);
        let any = |test: fn(&Module, ExprId) -> bool| {
            related.iter().any(|&(m, f)| {
                let module = self.model.module(m);
                let mut hit = false;
                function_exprs(module, f, &mut |x| hit = hit || test(module, x));
                hit
            })
        };
        let names = class_and_base_names(self.model, cm, c);
        let handled_with = |test: fn(&Module, ExprId) -> bool| {
            self.handlers
                .get_or_init(|| error_handlers(self.model))
                .iter()
                .any(|&(m, f)| handler_branch_has(self.model.module(m), f, &names, test))
        };
        let facts = (
            any(sets_retry_after) || handled_with(sets_retry_after),
            any(records) || handled_with(records),
        );
        self.thrown.borrow_mut().insert((cm, c), facts);
        facts
    }
}

/// A rejection found while walking, with the statements that judge it.
struct Site {
    stmt: StmtId,
    /// Statements before it on its path, in every enclosing block.
    before: Vec<StmtId>,
    /// The innermost branch (if/else/except body) holding it; `None`: it
    /// is on the function's main path.
    branch: Option<Vec<StmtId>>,
    /// The error classes it throws (`throw new TooManyRequestsError()`).
    thrown: Vec<(ModId, ClassId)>,
    says_rate_limit: bool,
    status_429: bool,
}

impl Site {
    fn judge(self, ctx: &Ctx) -> Rejection {
        let module = ctx.model.module(ctx.m);
        let branch: Vec<StmtId> = self
            .branch
            .clone()
            .unwrap_or_else(|| module.func(ctx.f).body.clone());
        let thrown_headers = self.thrown.iter().any(|&c| ctx.thrown_facts(c).0);
        // The statements before it count by their own expressions (an
        // earlier `if` whose body sets the header is another path); its
        // branch counts whole.
        let retry_after = thrown_headers
            || mentions(ctx, &self.before, false, &mut |module, e| {
                sets_retry_after(module, e)
            })
            || mentions(ctx, &[self.stmt], true, &mut |module, e| {
                sets_retry_after(module, e)
            })
            || mentions(ctx, &branch, true, &mut |module, e| {
                sets_retry_after(module, e)
            });
        let recorded = mentions(ctx, &branch, true, &mut |module, e| records(module, e))
            || self.thrown.iter().any(|&c| ctx.thrown_facts(c).1);
        let span = module.stmt(self.stmt).span.clone();
        let branch_span = match self.branch.as_deref() {
            Some([first, .., last]) => module.stmt(*first).span.start..module.stmt(*last).span.end,
            Some([only]) => module.stmt(*only).span.clone(),
            _ => span.clone(),
        };
        Rejection {
            module: ctx.m,
            function: ctx.f,
            span,
            branch: branch_span,
            retry_after,
            recorded,
            status_429: self.status_429,
        }
    }
}

struct Walk<'a> {
    model: &'a Model,
    m: ModId,
    f: FuncId,
    error_classes: &'a HashSet<(ModId, ClassId)>,
    limiting: &'a HashSet<super::limiting::FunctionRef>,
    /// Statements before the current one on its path.
    path: Vec<StmtId>,
    found: Vec<Site>,
}

impl Walk<'_> {
    fn module(&self) -> &Module {
        self.model.module(self.m)
    }

    /// `branch`: the innermost if/else/except body this block is in.
    fn block(&mut self, body: &[StmtId], branch: Option<&[StmtId]>) {
        let depth = self.path.len();
        for &s in body {
            self.statement(s, branch);
            self.path.push(s);
        }
        self.path.truncate(depth);
    }

    fn statement(&mut self, s: StmtId, branch: Option<&[StmtId]>) {
        let module = self.model.module(self.m);
        let found_before = self.found.len();
        child_blocks(module, s, &mut |block, is_branch| {
            self.block(block, if is_branch { Some(block) } else { branch })
        });
        if let Some(thrown) = self.rejects(s) {
            let says_rate_limit =
                crate::knowledge::says_rate_limit(module.text(&module.stmt(s).span));
            self.found.push(Site {
                stmt: s,
                before: self.path.clone(),
                branch: branch.map(<[StmtId]>::to_vec),
                thrown,
                says_rate_limit,
                status_429: true,
            });
        }
        self.refusing_branch(s, found_before);
    }

    /// `if not limiter.allow(ip): return error` (or `if is_limited(…):
    /// raise …`, or the `else` of `if allow(…)`): the branch a limiter's
    /// check refuses, when it ends the request with something other than
    /// a 429 found inside it.
    fn refusing_branch(&mut self, s: StmtId, found_before: usize) {
        let module = self.model.module(self.m);
        let StmtKind::If {
            cond,
            then,
            otherwise,
        } = &module.stmt(s).kind
        else {
            return;
        };
        let refused = match self.check_answer(*cond) {
            Some(true) => then,
            Some(false) => otherwise,
            None => return,
        };
        let Some(&exit) = refused.last() else { return };
        // An answer to the client: a response returned, or a bare
        // `return` after the branch wrote one. A verdict returned to the
        // caller (`return True, info`) is the caller's to act on, and an
        // exception raised out of a library is its user's to record.
        let answers = match &module.stmt(exit).kind {
            StmtKind::Return(Some(value)) => !is_verdict(module, *value),
            StmtKind::Return(None) => refused.len() > 1,
            _ => false,
        };
        let span = |x: StmtId| module.stmt(x).span.clone();
        let inside = |x: StmtId| {
            let (b, x) = (span(refused[0]).start..span(exit).end, span(x));
            b.start <= x.start && x.end <= b.end
        };
        if !answers || self.found[found_before..].iter().any(|f| inside(f.stmt)) {
            return;
        }
        self.found.push(Site {
            stmt: exit,
            before: self.path.clone(),
            branch: Some(refused.clone()),
            thrown: Vec::new(),
            says_rate_limit: true,
            status_429: false,
        });
    }

    /// Does `cond` ask a limiting function whose name says what its answer
    /// means? `Some(true)`: the condition holds when it refuses.
    fn check_answer(&self, cond: ExprId) -> Option<bool> {
        let module = self.module();
        let (negated, mut e) = match &module.expr(cond).kind {
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => (true, *operand),
            _ => (false, cond),
        };
        while let ExprKind::Await(inner) = &module.expr(e).kind {
            e = *inner;
        }
        let ExprKind::Call(call) = &module.expr(e).kind else {
            return None;
        };
        let name = match &module.expr(call.callee).kind {
            ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => n.as_str(),
            _ => return None,
        };
        let asks_limiter = self
            .model
            .roles(self.m, self.f, call.callee)
            .iter()
            .any(|r| matches!(r, Role::Func(cm, g) if self.limiting.contains(&(*cm, *g))));
        if !asks_limiter {
            return None;
        }
        if super::limiting::names_a_refusal(name) {
            Some(!negated)
        } else if super::limiting::names_a_pass(name) {
            Some(negated)
        } else {
            None
        }
    }

    /// Does the statement itself (not its nested blocks) answer 429? The
    /// error classes it throws, if any.
    fn rejects(&self, s: StmtId) -> Option<Vec<(ModId, ClassId)>> {
        let module = self.module();
        let stmt = module.stmt(s);
        if let StmtKind::Raise(Some(e)) = &stmt.kind {
            let classes = self.project_classes(*e);
            if !classes.is_empty() {
                // A project exception that does not carry 429 is not one,
                // whatever its name (`class TooManyRequests(Exception)`).
                let thrown: Vec<_> = classes
                    .into_iter()
                    .filter(|c| self.error_classes.contains(c))
                    .collect();
                return (!thrown.is_empty()).then_some(thrown);
            }
        }
        let mut found = false;
        stmt_exprs(module, s, &mut |e| {
            let top_is_return_tuple = matches!(stmt.kind, StmtKind::Return(Some(r)) if r == e);
            found |= status_429_below(module, e, top_is_return_tuple);
        });
        found.then(Vec::new)
    }

    /// The project classes `throw new X(…)` / `raise X()` throws.
    fn project_classes(&self, e: ExprId) -> Vec<(ModId, ClassId)> {
        let module = self.module();
        let callee = match &module.expr(e).kind {
            ExprKind::Call(call) => call.callee,
            _ => e,
        };
        self.model
            .roles(self.m, self.f, callee)
            .into_iter()
            .filter_map(|r| match r {
                Role::Class(cm, c) => Some((cm, c)),
                _ => None,
            })
            .collect()
    }
}

/// A value a check returns to its caller rather than an answer to the
/// client: `True`, `None`, `0`, or a tuple or list that starts with one
/// (`return True, {"retry_after": 30}`).
fn is_verdict(module: &Module, value: ExprId) -> bool {
    let literal = |e: ExprId| {
        matches!(
            module.expr(e).kind,
            ExprKind::Bool(_) | ExprKind::Null | ExprKind::Num(_)
        )
    };
    match &module.expr(value).kind {
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.first().is_some_and(|&i| literal(i))
        }
        _ => literal(value),
    }
}

/// Is there a 429 status in `e` (not in a comparison, a list of codes,
/// a dict key or a nested function)? `return_value`: `e` is what a
/// function returns, so a tuple is Flask's `(body, status)`.
fn status_429_below(module: &Module, e: ExprId, return_value: bool) -> bool {
    match &module.expr(e).kind {
        ExprKind::Num(n) => *n == 429.0,
        ExprKind::Str(s) => tables::is_status_line_429(s),
        ExprKind::Name(name) | ExprKind::Attr { name, .. }
            if tables::STATUS_429_NAMES.contains(&name.as_str()) =>
        {
            true
        }
        ExprKind::Compare { .. } | ExprKind::List(_) | ExprKind::Set(_) => false,
        ExprKind::Tuple(items) if !return_value => {
            // `(body, 429)` passed on (`make_response((body, 429))`) is
            // still a status; a tuple of codes is not.
            items.len() <= 3
                && !items
                    .iter()
                    .all(|&i| matches!(module.expr(i).kind, ExprKind::Num(_)))
                && items.iter().any(|&i| status_429_below(module, i, false))
        }
        ExprKind::Call(call) if registers_error_handler(module, call) => false,
        // `{ status: 429 }` is a status; `{"code": 429}` in a body is not.
        ExprKind::Dict(entries) => entries.iter().any(|entry| {
            matches!(&entry.key, DictKey::Name(k) if tables::STATUS_OPTIONS.contains(&k.as_str()))
                && status_429_below(module, entry.value, false)
        }),
        _ => {
            let mut found = false;
            children(module, e, &mut |c| {
                found = found || status_429_below(module, c, false)
            });
            found
        }
    }
}

/// `app.register_error_handler(429, h)`, `app.errorhandler(429)`: names
/// the status to handle, does not answer it.
fn registers_error_handler(module: &Module, call: &Call) -> bool {
    match &module.expr(call.callee).kind {
        ExprKind::Attr { name, .. } | ExprKind::Name(name) => {
            tables::ERROR_HANDLER_REGISTRATIONS.contains(&name.as_str())
        }
        _ => false,
    }
}

/// The project's error classes that carry 429: their class body or
/// constructor sets it (`status_code = 429`, `super(message, 429)`,
/// `this.statusCode = 429`), or they extend one that does.
pub(crate) fn error_classes(model: &Model) -> HashSet<(ModId, ClassId)> {
    let mut out = HashSet::new();
    for (mi, module) in model.modules.iter().enumerate() {
        for (ci, class) in module.classes.iter().enumerate() {
            let c = ClassId(ci as u32);
            let mut sets = false;
            for &s in &class.body {
                stmt_exprs(module, s, &mut |e| {
                    sets |= status_429_below(module, e, false)
                });
            }
            for &method in &class.methods {
                function_exprs(module, method, &mut |e| {
                    if let ExprKind::Num(n) = module.expr(e).kind {
                        sets |= n == 429.0;
                    }
                });
            }
            if sets {
                out.insert((ModId(mi as u32), c));
            }
        }
    }
    // Subclasses of those, through project bases, a few levels deep.
    for _ in 0..3 {
        if out.is_empty() {
            break;
        }
        let mut more = Vec::new();
        for (mi, module) in model.modules.iter().enumerate() {
            let m = ModId(mi as u32);
            for (ci, class) in module.classes.iter().enumerate() {
                let c = (m, ClassId(ci as u32));
                if out.contains(&c) {
                    continue;
                }
                let top = class.function;
                if class.bases.iter().any(|&b| {
                    model
                        .roles(m, top, b)
                        .iter()
                        .any(|r| matches!(r, Role::Class(bm, bc) if out.contains(&(*bm, *bc))))
                }) {
                    more.push(c);
                }
            }
        }
        if more.is_empty() {
            break;
        }
        out.extend(more);
    }
    out
}

/// A method of an exception class: where it is raised is the rejection.
fn in_error_class(module: &Module, f: FuncId) -> bool {
    let mut g = Some(f);
    while let Some(h) = g {
        let func = module.func(h);
        if let Some(c) = func.class {
            let class = module.class(c);
            let named = class
                .name
                .as_deref()
                .is_some_and(crate::knowledge::is_error_class_name);
            let extends_error = class.bases.iter().any(|&b| {
                module
                    .dotted(b)
                    .is_some_and(|d| crate::knowledge::is_error_class_name(&d))
            });
            if named || extends_error {
                return true;
            }
        }
        g = func.parent;
    }
    false
}

/// Functions a limiter library calls on rejection, after it has set its
/// own headers: `handler:` / `errorResponseBuilder:` / `onLimitReached:`
/// options, `@app.errorhandler(429)`, `@app.exception_handler(RateLimitExceeded)`
/// and `add_exception_handler(RateLimitExceeded, handler)`.
fn library_callbacks(module: &Module) -> HashSet<FuncId> {
    let mut out = HashSet::new();
    let mut named: HashSet<&str> = HashSet::new();
    let about_limits = |e: ExprId| {
        let text = module.text(&module.expr(e).span);
        text.contains("429") || text.contains("RateLimit") || text.contains("Throttl")
    };
    for expr in &module.exprs {
        match &expr.kind {
            ExprKind::Dict(entries) => {
                for entry in entries {
                    if let (DictKey::Name(key), ExprKind::Function(f)) =
                        (&entry.key, &module.expr(entry.value).kind)
                    {
                        if tables::LIBRARY_REJECTION_CALLBACKS.contains(&key.as_str()) {
                            out.insert(*f);
                        }
                    }
                }
            }
            ExprKind::Call(call)
                if registers_error_handler(module, call)
                    && call.args.first().is_some_and(|&a| about_limits(a)) =>
            {
                match call.args.get(1).map(|&h| &module.expr(h).kind) {
                    Some(ExprKind::Name(name)) => {
                        named.insert(name);
                    }
                    Some(ExprKind::Function(f)) => {
                        out.insert(*f);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for (fi, func) in module.functions.iter().enumerate() {
        let by_decorator = func.decorators.iter().any(|&d| {
            matches!(&module.expr(d).kind, ExprKind::Call(call)
                if registers_error_handler(module, call)
                    && call.args.first().is_some_and(|&a| about_limits(a)))
        });
        if by_decorator || func.name.as_deref().is_some_and(|n| named.contains(n)) {
            out.insert(FuncId(fi as u32));
        }
    }
    out
}

/// The rejection is a limiter's: its text says so, or the function (or
/// one enclosing it) asks a limiter, keeps per-client state or is named
/// like one.
fn is_limiter_code(model: &Model, m: ModId, f: FuncId, found: &[Site]) -> bool {
    if found.iter().any(|s| s.says_rate_limit) {
        return true;
    }
    let module = model.module(m);
    let mut g = Some(f);
    while let Some(h) = g {
        let func = module.func(h);
        if func.kind == FunctionKind::Module {
            break;
        }
        let named = func
            .name
            .as_deref()
            .is_some_and(crate::knowledge::is_limiter_name);
        // The counting is often in a helper the middleware calls
        // (`const over = await countHit(client, ip)`, a window object's
        // `updateWindow()` that bumps its counter in another method): two
        // calls deep.
        let in_helpers = || {
            model.called_functions(m, h).into_iter().any(|(cm, cf)| {
                keeps_limiter_state(model, cm, cf)
                    || model
                        .called_functions(cm, cf)
                        .into_iter()
                        .any(|(dm, df)| keeps_limiter_state(model, dm, df))
            })
        };
        if named || keeps_limiter_state(model, m, h) || in_helpers() {
            return true;
        }
        g = func.parent;
    }
    false
}

/// Does the function ask a limiter, send a store command, write an entry
/// to a store client, dict, Map or project object (not a response's
/// headers), or count on a field of its object?
fn keeps_limiter_state(model: &Model, m: ModId, h: FuncId) -> bool {
    let module = model.module(m);
    let keeps_state = |obj: ExprId| {
        model
            .roles(m, h, obj)
            .iter()
            .any(|r| matches!(r, Role::Store | Role::Object(..) | Role::Instance(..)))
    };
    let mut stateful = false;
    // A counter kept on the object (`this.count++`, `self.hits += 1`).
    walk_stmts(module, &module.func(h).body, &mut |s| {
        if let StmtKind::Assign {
            target,
            op: Some(BinOp::Add | BinOp::Sub),
            ..
        } = &module.stmt(s).kind
        {
            stateful |= matches!(&module.expr(*target).kind,
                ExprKind::Attr { obj, .. } if matches!(module.expr(*obj).kind, ExprKind::This));
        }
    });
    function_exprs(module, h, &mut |e| match &module.expr(e).kind {
        ExprKind::Call(call) => {
            if let Some(text) = module.dotted(call.callee) {
                stateful |= crate::knowledge::call_asks_limiter(&text);
            }
            if let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind {
                let method = name.to_ascii_lowercase();
                // Any command sent to a store (a Lua script by `evalsha`
                // too); an entry method on a container or project object.
                let store = || {
                    model
                        .roles(m, h, *obj)
                        .iter()
                        .any(|r| matches!(r, Role::Store))
                };
                stateful |= ((tables::STORE_KEY_COMMANDS.contains(&method.as_str())
                    || tables::ENTRY_METHODS.contains(&method.as_str()))
                    && keeps_state(*obj))
                    || store();
            }
        }
        ExprKind::Subscript { obj, .. } => stateful |= keeps_state(*obj),
        _ => {}
    });
    stateful
}

/// Does `test` hold for an expression of these statements (with `nested`,
/// of their nested blocks too), or of a project function they call, one
/// call deep?
fn mentions(
    ctx: &Ctx,
    stmts: &[StmtId],
    nested: bool,
    test: &mut dyn FnMut(&Module, ExprId) -> bool,
) -> bool {
    let module = ctx.model.module(ctx.m);
    let mut found = false;
    let mut callees = Vec::new();
    let each_stmt = |visit: &mut dyn FnMut(StmtId)| {
        if nested {
            walk_stmts(module, stmts, &mut |s| visit(s));
        } else {
            stmts.iter().for_each(|&s| visit(s));
        }
    };
    each_stmt(&mut |s| {
        stmt_exprs(module, s, &mut |e| {
            walk_expr(module, e, &mut |x| {
                if found {
                    return;
                }
                found |= test(module, x);
                if let ExprKind::Call(call) = &module.expr(x).kind {
                    callees.push(call.callee);
                }
            })
        })
    });
    if found {
        return true;
    }
    for callee in callees {
        for role in ctx.model.roles(ctx.m, ctx.f, callee) {
            if let Role::Func(cm, g) = role {
                let target = ctx.model.module(cm);
                let mut hit = false;
                function_exprs(target, g, &mut |x| hit = hit || test(target, x));
                if hit {
                    return true;
                }
            }
        }
    }
    false
}

/// `"Retry-After"` (any case), `RateLimit-Reset`, `RateLimit` as a string
/// or a dict key.
fn sets_retry_after(module: &Module, e: ExprId) -> bool {
    let header = |s: &str| {
        let v = s.to_ascii_lowercase();
        v.contains("retry-after") || v.contains("ratelimit-reset") || v == "ratelimit"
    };
    match &module.expr(e).kind {
        // werkzeug's `TooManyRequests(retry_after=60)` sets the header;
        // so does a header setter given a configured name
        // (`res.header(labels.retryAfter, ttl)`).
        ExprKind::Call(call) => {
            call.keywords.iter().any(|(k, _)| k == "retry_after")
                || matches!(&module.expr(call.callee).kind,
                    ExprKind::Attr { name, .. } if tables::HEADER_SETTERS.contains(&name.as_str()))
                    && call
                        .args
                        .first()
                        .is_some_and(|&a| match &module.expr(a).kind {
                            ExprKind::Name(n) | ExprKind::Attr { name: n, .. } => {
                                n.to_ascii_lowercase().replace('_', "") == "retryafter"
                            }
                            _ => false,
                        })
        }
        ExprKind::Str(s) => header(s),
        ExprKind::Template(parts) => parts
            .iter()
            .any(|p| matches!(p, TemplatePart::Str(s) if header(s))),
        ExprKind::Dict(entries) => entries
            .iter()
            .any(|entry| matches!(&entry.key, DictKey::Name(k) if header(k))),
        _ => false,
    }
}

/// A logger, metric or Sentry call.
fn records(module: &Module, e: ExprId) -> bool {
    let ExprKind::Call(call) = &module.expr(e).kind else {
        return false;
    };
    // The source text, so `RATE_LIMITED.labels(route=p).inc()` is a metric.
    let text = module.text(&module.expr(call.callee).span);
    let first_is_number = call
        .args
        .first()
        .is_some_and(|&a| matches!(module.expr(a).kind, ExprKind::Num(_)));
    crate::knowledge::call_records_event(text, first_is_number) || tables::rejection_hook(text)
}

/// The functions that judge a thrown error class: the class's methods
/// (`headers = {"Retry-After": …}` in its constructor) and the code that
/// names it (`if (err instanceof TooManyRequestsError) …` in an error
/// handler).
/// Every function of the project that names the class other than to
/// throw it.
fn class_related_functions(model: &Model, cm: ModId, c: ClassId) -> Vec<(ModId, FuncId)> {
    let class = model.module(cm).class(c);
    let mut out: Vec<(ModId, FuncId)> = class.methods.iter().map(|&f| (cm, f)).collect();
    let Some(name) = class.name.as_deref() else {
        return out;
    };
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            let mut names = false;
            walk_stmts(module, &module.func(f).body, &mut |s| {
                if matches!(module.stmt(s).kind, StmtKind::Raise(_)) {
                    return;
                }
                stmt_exprs(module, s, &mut |e| {
                    walk_expr(module, e, &mut |x| {
                        names |= matches!(&module.expr(x).kind,
                            ExprKind::Name(n) | ExprKind::Attr { name: n, .. } if n == name)
                    })
                })
            });
            if names {
                out.push((m, f));
            }
        }
    }
    out
}

/// The class's name and its project bases' names (`TooManyRequestsError`,
/// `AppError`): what an error handler tests for.
fn class_and_base_names(model: &Model, cm: ModId, c: ClassId) -> Vec<String> {
    let mut names = Vec::new();
    let mut next = vec![(cm, c)];
    while let Some((m, c)) = next.pop() {
        let module = model.module(m);
        let class = module.class(c);
        if let Some(name) = &class.name {
            if names.contains(name) || names.len() > 8 {
                continue;
            }
            names.push(name.clone());
        }
        for &b in &class.bases {
            for role in model.roles(m, class.function, b) {
                if let Role::Class(bm, bc) = role {
                    next.push((bm, bc));
                }
            }
        }
    }
    names
}

/// Functions that handle errors for the whole app: Fastify
/// `setErrorHandler(fn)`, Hono / Koa `onError(fn)`, `app.on('error', fn)`,
/// Express error middleware `(err, req, res, next)`, Flask / FastAPI
/// handlers for an exception class, and functions or classes named
/// `errorHandler` / `ExceptionFilter`.
fn error_handlers(model: &Model) -> Vec<(ModId, FuncId)> {
    let mut out = Vec::new();
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        for expr in &module.exprs {
            let ExprKind::Call(call) = &expr.kind else {
                continue;
            };
            let method = match &module.expr(call.callee).kind {
                ExprKind::Attr { name, .. } | ExprKind::Name(name) => name.as_str(),
                _ => continue,
            };
            let on_error = method == "on"
                && call.args.first().and_then(|&a| module.str_value(a)) == Some("error");
            let registers = matches!(method, "setErrorHandler" | "onError" | "use")
                || on_error
                || tables::ERROR_HANDLER_REGISTRATIONS.contains(&method);
            if !registers {
                continue;
            }
            for &a in &call.args {
                if let ExprKind::Function(f) = module.expr(a).kind {
                    let four = module.func(f).params.len() == 4;
                    if !matches!(method, "use") || four {
                        out.push((m, f));
                    }
                }
            }
        }
        for (fi, func) in module.functions.iter().enumerate() {
            let f = FuncId(fi as u32);
            let class_name = func.class.and_then(|c| module.class(c).name.as_deref());
            let named = [func.name.as_deref(), class_name]
                .into_iter()
                .flatten()
                .any(|n| {
                    let n = n.to_ascii_lowercase();
                    n.contains("errorhandler")
                        || n.contains("exceptionfilter")
                        || n.contains("exceptionhandler")
                });
            let decorated = func.decorators.iter().any(|&d| {
                matches!(&module.expr(d).kind, ExprKind::Call(call) if registers_error_handler(module, call))
            });
            if named || decorated {
                out.push((m, f));
            }
        }
    }
    out
}

/// Does the handler's branch for one of `names` (`if (err instanceof
/// AppError) { … }`), or the whole handler when no branch names them, hold
/// an expression that passes `test`?
fn handler_branch_has(
    module: &Module,
    f: FuncId,
    names: &[String],
    test: fn(&Module, ExprId) -> bool,
) -> bool {
    let names_one = |e: ExprId| {
        let mut hit = false;
        walk_expr(module, e, &mut |x| {
            hit |= matches!(&module.expr(x).kind,
                ExprKind::Name(n) | ExprKind::Attr { name: n, .. } if names.contains(n))
        });
        hit
    };
    let has = |stmts: &[StmtId]| {
        let mut hit = false;
        walk_stmts(module, stmts, &mut |s| {
            stmt_exprs(module, s, &mut |e| {
                walk_expr(module, e, &mut |x| hit = hit || test(module, x))
            })
        });
        hit
    };
    let body = &module.func(f).body;
    let mut before = Vec::new();
    match branch_naming(module, body, &names_one, &mut before) {
        // The branch, and the straight-line code before it on its path.
        Some(then) => {
            let straight: Vec<StmtId> = before
                .into_iter()
                .filter(|&s| {
                    matches!(
                        module.stmt(s).kind,
                        StmtKind::Expr(_) | StmtKind::Assign { .. }
                    )
                })
                .collect();
            has(&then) || has(&straight)
        }
        None => has(body),
    }
}

/// The first `if` body whose condition passes `names_one`, with the
/// statements before it on its path pushed to `before`.
fn branch_naming(
    module: &Module,
    body: &[StmtId],
    names_one: &dyn Fn(ExprId) -> bool,
    before: &mut Vec<StmtId>,
) -> Option<Vec<StmtId>> {
    for &s in body {
        if let StmtKind::If { cond, then, .. } = &module.stmt(s).kind {
            if names_one(*cond) {
                return Some(then.clone());
            }
        }
        let mut found = None;
        child_blocks(module, s, &mut |block, _| {
            if found.is_none() {
                let depth = before.len();
                found = branch_naming(module, block, names_one, before);
                if found.is_none() {
                    before.truncate(depth);
                }
            }
        });
        if found.is_some() {
            return found;
        }
        before.push(s);
    }
    None
}
