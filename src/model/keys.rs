//! Where limiters take their client key, as the model sees it: library
//! key options (a key function or value), limiter methods that take the
//! key (`consume`, `limit`, `hit`) and counting store commands. The value
//! at each site is followed through the model, so a key function defined
//! in another module, a helper that reads the header, or an instance
//! attribute all resolve.

use super::limiting::FunctionRef;
use super::{tables, Addr, ModId, Model, Origin, Role, Slot};
use crate::ir::*;
use std::collections::HashSet;

/// One place a limiter keys on a value that carries a client address.
#[derive(Debug, Clone)]
pub struct KeySite {
    /// The function the site is in.
    pub function: FuncId,
    /// The value passed as the key (or the key function).
    pub span: Span,
    /// The option, method or command that takes the key.
    pub via: String,
    /// Where the key is used (the call).
    pub use_span: Span,
    /// The addresses the key carries, each with where it was read.
    pub addresses: Vec<(Addr, Origin)>,
    /// The key also carries an account identity (`req.user?.id ?? req.ip`).
    pub identity: bool,
    /// The key is a literal, the same for every caller (`limit("api")`);
    /// `addresses` is then empty.
    pub constant: bool,
}

/// Every key site of module `m` whose key carries a client address.
/// Store commands and container entries count only in `limiting`
/// functions (`limiting::limiting_functions`).
pub fn limiter_keys(model: &Model, m: ModId, limiting: &HashSet<FunctionRef>) -> Vec<KeySite> {
    let module = model.module(m);
    let mut out = Vec::new();
    for fi in 0..module.functions.len() {
        let f = FuncId(fi as u32);
        // Decorators (`@ratelimit(key="ip")`) run in the enclosing scope.
        let outer = module.func(f).parent.unwrap_or(Module::TOP);
        for &d in &module.func(f).decorators {
            walk_expr(module, d, &mut |x| {
                if let ExprKind::Call(call) = &module.expr(x).kind {
                    let span = module.expr(x).span.clone();
                    sites_of_call(model, m, outer, call, span, &mut out);
                }
            });
        }
        let in_limiting = limiting.contains(&(m, f));
        function_exprs(module, f, &mut |x| {
            let span = module.expr(x).span.clone();
            match &module.expr(x).kind {
                ExprKind::Call(call) => {
                    sites_of_call(model, m, f, call, span.clone(), &mut out);
                    if in_limiting {
                        entry_call(model, m, f, call, span, &mut out);
                    }
                }
                ExprKind::Subscript { obj, index } if in_limiting => {
                    entry(model, m, f, *obj, *index, span, &mut out)
                }
                ExprKind::Compare {
                    op: CmpOp::In | CmpOp::NotIn,
                    left,
                    right,
                } if in_limiting => entry(model, m, f, *right, *left, span, &mut out),
                _ => {}
            }
        });
    }
    out.sort_by_key(|s| (s.span.start, s.span.end));
    out.dedup_by_key(|s| (s.span.start, s.span.end));
    out
}

/// `store.sAdd(key, …)` or `hits.get(key)` in limiting code.
fn entry_call(model: &Model, m: ModId, f: FuncId, call: &Call, span: Span, out: &mut Vec<KeySite>) {
    let module = model.module(m);
    let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind else {
        return;
    };
    let Some(&key) = call.args.first() else {
        return;
    };
    let lower = name.to_ascii_lowercase();
    let receiver = model.roles(m, f, *obj);
    if receiver.contains(&Role::Store) {
        if tables::STORE_KEY_COMMANDS.contains(&lower.as_str()) {
            push_key(model, (m, f, key), name, f, span, out);
        }
    } else if (tables::ENTRY_METHODS.contains(&name.as_str())
        // `store.incr(key)` on a client the model cannot see (an unread
        // module's `get_cache()`): counting in limiting code.
        || tables::COUNTING_COMMANDS.contains(&lower.as_str()))
        && !request_like(&receiver)
    {
        push_key(model, (m, f, key), name, f, span, out);
    }
}

/// `hits[key]` / `key in hits` on a container (not on the request or its
/// headers) in limiting code.
fn entry(
    model: &Model,
    m: ModId,
    f: FuncId,
    container: ExprId,
    key: ExprId,
    span: Span,
    out: &mut Vec<KeySite>,
) {
    if !request_like(&model.roles(m, f, container)) {
        push_key(model, (m, f, key), "entry", f, span, out);
    }
}

fn request_like(roles: &[Role]) -> bool {
    roles.iter().any(|r| {
        matches!(
            r,
            Role::Request
                | Role::Headers
                | Role::ClientInfo
                | Role::Socket
                | Role::Addr(..)
                | Role::Store
        )
    })
}

fn push_key(
    model: &Model,
    (vm, vf, value): (ModId, FuncId, ExprId),
    via: &str,
    function: FuncId,
    use_span: Span,
    out: &mut Vec<KeySite>,
) {
    if let Some((span, addresses, identity)) = key_value(model, vm, vf, value) {
        out.push(KeySite {
            identity,
            constant: false,
            function,
            span,
            via: via.to_string(),
            use_span,
            addresses,
        });
    }
}

/// A limiter key (option or method argument, not a store command: a
/// store counter under a fixed name is often a deliberate global count)
/// that is one string literal, given directly or returned by the key
/// function. Names that say the bucket is meant to be shared (`global`,
/// `total`) are left alone.
fn push_constant_key(
    model: &Model,
    (vm, _, value): (ModId, FuncId, ExprId),
    via: &str,
    function: FuncId,
    use_span: Span,
    out: &mut Vec<KeySite>,
) {
    let module = model.module(vm);
    let literal = |m: ModId, e: ExprId| match &model.module(m).expr(e).kind {
        ExprKind::Str(text) => Some(text.clone()),
        _ => None,
    };
    let text = literal(vm, value).or_else(|| {
        let ExprKind::Function(g) = &module.expr(value).kind else {
            return None;
        };
        let g = module.func(*g);
        match g.body.as_slice() {
            [only] => match &module.stmt(*only).kind {
                StmtKind::Return(Some(e)) => literal(vm, *e),
                _ => None,
            },
            _ => None,
        }
    });
    let Some(text) = text else { return };
    let lower = text.to_ascii_lowercase();
    if ["global", "total", "shared", "all"]
        .iter()
        .any(|w| lower.contains(w))
    {
        return;
    }
    out.push(KeySite {
        identity: false,
        constant: true,
        function,
        span: module.expr(value).span.clone(),
        via: via.to_string(),
        use_span,
        addresses: Vec::new(),
    });
}

/// `@ratelimit(key="ip")`: a key named by a string (`tables::NAMED_KEY_OPTIONS`).
fn named_keys(
    model: &Model,
    m: ModId,
    f: FuncId,
    call: &Call,
    use_span: &Span,
    out: &mut Vec<KeySite>,
) {
    for role in model.roles(m, f, call.callee) {
        let Role::Ext(path) = role else { continue };
        let called = format!("{path}()");
        for (callee, option) in tables::NAMED_KEY_OPTIONS {
            let Some((vm, _, v)) = (*callee == called)
                .then(|| option_value(model, m, f, call, option))
                .flatten()
            else {
                continue;
            };
            let value = model.module(vm).expr(v);
            if let ExprKind::Str(name) = &value.kind {
                if let Some(addr) = tables::named_key_addr(name) {
                    let here = Origin {
                        module: vm,
                        start: value.span.start as u32,
                        end: value.span.end as u32,
                    };
                    out.push(KeySite {
                        identity: false,
                        constant: false,
                        function: f,
                        span: value.span.clone(),
                        via: option.to_string(),
                        use_span: use_span.clone(),
                        addresses: vec![(addr, here)],
                    });
                }
            }
        }
    }
}

fn sites_of_call(
    model: &Model,
    m: ModId,
    f: FuncId,
    call: &Call,
    use_span: Span,
    out: &mut Vec<KeySite>,
) {
    let module = model.module(m);
    named_keys(model, m, f, call, &use_span, out);
    // `limiter_key`: a limiter's own key (a literal there is judged too).
    let mut key = |value: (ModId, FuncId, ExprId), via: &str, limiter_key: bool| {
        push_key(model, value, via, f, use_span.clone(), out);
        if limiter_key {
            push_constant_key(model, value, via, f, use_span.clone(), out);
        }
    };
    for role in model.roles(m, f, call.callee) {
        let Role::Ext(path) = role else { continue };
        // The table names the call (`rateLimit()`), the callee is `rateLimit`.
        let called = format!("{path}()");
        for (callee, option, position) in tables::KEY_OPTIONS {
            if *callee == called {
                let value = option_value(model, m, f, call, option)
                    .or_else(|| position.and_then(|p| call.args.get(p).map(|&a| (m, f, a))));
                if let Some(v) = value {
                    key(v, option, true);
                }
            }
        }
    }
    let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind else {
        return;
    };
    let receiver = model.roles(m, f, *obj);
    for role in &receiver {
        match role {
            Role::Ext(path) => {
                for (prefix, method, index) in tables::KEY_METHODS {
                    if path.starts_with(prefix) && name == method {
                        if let Some(&v) = call.args.get(*index) {
                            key((m, f, v), method, true);
                        }
                    }
                }
            }
            Role::Store if tables::COUNTING_COMMANDS.contains(&name.as_str()) => {
                if let Some(&v) = call.args.first() {
                    key((m, f, v), name, false);
                }
            }
            _ => {}
        }
    }
    // `fastify.register(rateLimit, { keyGenerator })`.
    if name == "register" {
        if let (Some(&plugin), Some(&options)) = (call.args.first(), call.args.get(1)) {
            for role in model.roles(m, f, plugin) {
                let Role::Ext(path) = role else { continue };
                for (p, option) in tables::PLUGIN_KEY_OPTIONS {
                    if *p == path {
                        if let Some(v) = object_option(model, m, f, options, option) {
                            key(v, option, true);
                        }
                    }
                }
            }
        }
    }
}

/// A named argument of a call: a keyword, or an entry of the option
/// object passed last (written inline, or a variable or import holding it).
fn option_value(
    model: &Model,
    m: ModId,
    f: FuncId,
    call: &Call,
    name: &str,
) -> Option<(ModId, FuncId, ExprId)> {
    if let Some((_, v)) = call.keywords.iter().find(|(k, _)| k == name) {
        return Some((m, f, *v));
    }
    object_option(model, m, f, *call.args.last()?, name)
}

/// Entry `name` of the object `value` evaluates to.
fn object_option(
    model: &Model,
    m: ModId,
    f: FuncId,
    value: ExprId,
    name: &str,
) -> Option<(ModId, FuncId, ExprId)> {
    model.roles(m, f, value).into_iter().find_map(|r| match r {
        Role::Object(om, of, e) => model
            .object_entry(om, of, e, name, 0)
            .map(|(vm, v, vf)| (vm, vf, v)),
        _ => None,
    })
}

/// The addresses a key value carries, with where each was read; a key
/// function's addresses are those it returns.
#[allow(clippy::type_complexity)]
fn key_value(
    model: &Model,
    m: ModId,
    f: FuncId,
    value: ExprId,
) -> Option<(Span, Vec<(Addr, Origin)>, bool)> {
    let module = model.module(m);
    let span = module.expr(value).span.clone();
    let here = Origin {
        module: m,
        start: span.start as u32,
        end: span.end as u32,
    };
    let mut addresses = model.address_origins(m, f, value);
    let mut identity = false;
    for role in model.roles(m, f, value) {
        match role {
            Role::Identity => identity = true,
            Role::KeyFunc(a) => addresses.push((a, here)),
            Role::Func(gm, g) => {
                for r in model.slot(&Slot::Return(gm, g)) {
                    match r {
                        Role::Addr(a, o) => addresses.push((*a, *o)),
                        Role::Identity => identity = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    addresses.sort();
    addresses.dedup();
    (!addresses.is_empty()).then_some((span, addresses, identity))
}

/// A limiter call that keys on the library's default because it was
/// given no key (`tables::DEFAULT_KEYS`).
#[derive(Debug, Clone)]
pub struct DefaultKeySite {
    pub module: ModId,
    pub call: Span,
    pub addr: Addr,
    pub what: &'static str,
}

/// Every call of the project that keys on a library default.
pub fn default_keys(model: &Model) -> Vec<DefaultKeySite> {
    let mut calls: Vec<(usize, ModId, Span, bool)> = Vec::new();
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        // Destructuring lowers to one statement per name, each reading
        // the same value: a call is looked at once.
        let mut seen = std::collections::HashSet::new();
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            function_exprs(module, f, &mut |x| {
                let ExprKind::Call(call) = &module.expr(x).kind else {
                    return;
                };
                if !seen.insert(x) {
                    return;
                }
                for role in model.roles(m, f, call.callee) {
                    let Role::Ext(path) = role else { continue };
                    let called = format!("{path}()");
                    for (row, (callee, option, ..)) in tables::DEFAULT_KEYS.iter().enumerate() {
                        if *callee == called {
                            let keyed = option_value(model, m, f, call, option).is_some();
                            calls.push((row, m, module.expr(x).span.clone(), keyed));
                        }
                    }
                }
            });
        }
    }
    // Looked up once per call: a set, not a scan of every call.
    let called_paths: std::collections::HashSet<&str> = calls
        .iter()
        .map(|(row, ..)| tables::DEFAULT_KEYS[*row].0)
        .collect();
    let called = |path: &str| called_paths.contains(path);
    calls
        .iter()
        .filter(|(row, _, _, keyed)| !keyed && !tables::DEFAULT_KEYS[*row].4.is_some_and(called))
        .map(|(row, m, span, _)| DefaultKeySite {
            module: *m,
            call: span.clone(),
            addr: tables::DEFAULT_KEYS[*row].2,
            what: tables::DEFAULT_KEYS[*row].3,
        })
        .collect()
}
