//! Hand-rolled limiter state on the model: a keyed container (`{}`,
//! `dict()`, `new Map()`, `defaultdict(…)`) that lives as long as the
//! process and that limiting code (`limiting`) writes per client (the
//! key carries a client address or an account). RATE002 reports it where
//! the container is made.

use super::limiting::FunctionRef;
use super::{tables, ModId, Model, Role};
use crate::ir::*;
use std::collections::HashSet;

/// One container and the first per-client write that makes it limiter state.
#[derive(Debug, Clone)]
pub struct StateSite {
    /// Where the container is made.
    pub container: (ModId, Span),
    /// Where limiting code writes an entry per client.
    pub write: (ModId, Span),
    /// The text of the key written.
    pub key: String,
    /// What the container is called: the name or attribute it is assigned
    /// to (`hits`, `self.by_caller`), else the expression that makes it.
    pub name: String,
}

/// Every limiter state the model resolves, one per container, in module
/// and source order.
pub fn limiter_states(model: &Model, limiting: &HashSet<FunctionRef>) -> Vec<StateSite> {
    let mut ordered: Vec<FunctionRef> = limiting.iter().copied().collect();
    ordered.sort();
    let mut out: Vec<StateSite> = Vec::new();
    for (m, f) in ordered {
        let module = model.module(m);
        let mut writes: Vec<(ExprId, ExprId, Span)> = Vec::new();
        let mut stmts = Vec::new();
        walk_stmts(module, &module.func(f).body, &mut |s| stmts.push(s));
        for s in stmts {
            // `hits[ip] = …`, `hits[ip] += 1`.
            if let StmtKind::Assign { target, .. } = &module.stmt(s).kind {
                if let ExprKind::Subscript { obj, index } = &module.expr(*target).kind {
                    writes.push((*obj, *index, module.stmt(s).span.clone()));
                }
            }
            // `hits.set(ip, n)`, `hits.setdefault(ip, [])`.
            stmt_exprs(module, s, &mut |e| {
                walk_expr(module, e, &mut |x| {
                    let ExprKind::Call(call) = &module.expr(x).kind else {
                        return;
                    };
                    let ExprKind::Attr { obj, name } = &module.expr(call.callee).kind else {
                        return;
                    };
                    if matches!(name.as_str(), "set" | "setdefault") {
                        if let Some(&key) = call.args.first() {
                            writes.push((*obj, key, module.expr(x).span.clone()));
                        }
                    }
                })
            });
        }
        for (container, key, span) in writes {
            let per_client = model
                .roles(m, f, key)
                .iter()
                .any(|r| matches!(r, Role::Addr(..) | Role::Identity));
            if !per_client {
                continue;
            }
            for role in model.roles(m, f, container) {
                let Role::Object(cm, cf, e) = role else {
                    continue;
                };
                let made = model.module(cm).expr(e);
                let keyed = matches!(made.kind, ExprKind::Dict(ref entries) if entries.is_empty())
                    || matches!(made.kind, ExprKind::Call(_));
                if !keyed || !lives_for_process(model, cm, cf, &made.span, (m, f)) {
                    continue;
                }
                // A container inside a table of them (`limits = {"default":
                // {"clients": {}}, …}`) is reported once, at the table.
                let e = outermost_table(model.module(cm), e);
                let made = model.module(cm).expr(e);
                if out
                    .iter()
                    .any(|s| s.container.0 == cm && s.container.1 == made.span)
                {
                    continue;
                }
                out.push(StateSite {
                    container: (cm, made.span.clone()),
                    write: (m, span.clone()),
                    key: module.text(&module.expr(key).span).to_string(),
                    name: container_name(model.module(cm), e),
                });
            }
        }
    }
    out
}

/// A container made at module level, in a class (its body or
/// constructor), or in a function that encloses the writer (a factory
/// whose closure keeps it) outlives the request.
fn lives_for_process(
    model: &Model,
    cm: ModId,
    made_in: FuncId,
    made_at: &Span,
    (wm, wf): FunctionRef,
) -> bool {
    let module = model.module(cm);
    let func = module.func(made_in);
    // State of a class (a field initialiser or the constructor) lives as
    // long as its instances.
    let constructor = func.class.filter(|_| {
        func.name
            .as_deref()
            .is_some_and(|n| tables::CONSTRUCTOR_NAMES.contains(&n))
    });
    let field_of = module.classes.iter().position(|c| {
        c.function == made_in && c.span.start <= made_at.start && made_at.end <= c.span.end
    });
    if let Some(c) = constructor.or(field_of.map(|c| ClassId(c as u32))) {
        return instances_live_for_process(model, cm, c);
    }
    if made_in == Module::TOP || func.kind == FunctionKind::Module {
        return true;
    }
    if cm != wm || made_in == wf {
        return false;
    }
    let mut g = module.func(wf).parent;
    while let Some(p) = g {
        if p == made_in {
            return true;
        }
        g = module.func(p).parent;
    }
    false
}

/// Every place the project makes an instance of class `c` runs once
/// (module level, a constructor, a factory): a class instantiated in a
/// handler keeps nothing between requests. No place found: unknown, so no.
fn instances_live_for_process(model: &Model, cm: ModId, c: ClassId) -> bool {
    let Some(name) = model.module(cm).class(c).name.as_deref() else {
        return false;
    };
    let mut made = 0;
    for (mi, module) in model.modules.iter().enumerate() {
        if !module.source.contains(name) {
            continue;
        }
        let m = ModId(mi as u32);
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            let mut per_request = false;
            function_exprs(module, f, &mut |x| {
                let ExprKind::Call(call) = &module.expr(x).kind else {
                    return;
                };
                if !model.roles(m, f, call.callee).contains(&Role::Class(cm, c)) {
                    return;
                }
                made += 1;
                per_request |= !made_once(model, m, f);
            });
            if per_request {
                return false;
            }
        }
    }
    made > 0
}

/// Code in `f` runs once per process, not per request: module level, a
/// constructor, or a factory (it defines closures, is not decorated as a
/// handler and takes no request).
fn made_once(model: &Model, m: ModId, f: FuncId) -> bool {
    let module = model.module(m);
    let func = module.func(f);
    if f == Module::TOP || func.kind == FunctionKind::Module {
        return true;
    }
    if func.class.is_some()
        && func
            .name
            .as_deref()
            .is_some_and(|n| tables::CONSTRUCTOR_NAMES.contains(&n))
    {
        return true;
    }
    let takes_request = func.params.iter().any(|p| {
        model
            .slot(&super::Slot::Local(m, f, p.name.clone()))
            .contains(&Role::Request)
    });
    let defines_closures = module.functions.iter().any(|g| g.parent == Some(f));
    defines_closures && func.decorators.is_empty() && !takes_request
}

/// The target of the assignment that stores container `e`, else its own text.
fn container_name(module: &Module, e: ExprId) -> String {
    let target = module.stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Assign { target, value, .. } if *value == e => Some(*target),
        _ => None,
    });
    let shown = target.unwrap_or(e);
    module.text(&module.expr(shown).span).to_string()
}

/// The dict literal `e` is an entry value of, and so on outwards; `e`
/// itself when it is in no table.
fn outermost_table(module: &Module, e: ExprId) -> ExprId {
    let mut current = e;
    // Entries are lowered before the dict that holds them: search after.
    'outer: loop {
        for (i, x) in module.exprs.iter().enumerate().skip(current.0 as usize + 1) {
            if let ExprKind::Dict(entries) = &x.kind {
                if entries.iter().any(|entry| entry.value == current) {
                    current = ExprId(i as u32);
                    continue 'outer;
                }
            }
        }
        return current;
    }
}
