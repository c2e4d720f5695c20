//! Which functions are limiting code: they reject with 429 (or raise a
//! limiter's "too many requests" error), are named like a limiter, or are
//! reached from such code (the closures and helpers it calls). A value
//! used as the key of a store command or a container entry there is a
//! limiter key; the same access elsewhere (a geo-IP cache, a session
//! table) is not.

use super::{tables, ModId, Model};
use crate::ir::*;
use std::collections::HashSet;

/// How many calls deep limiting code reaches into the helpers it calls.
const CALL_DEPTH: usize = 2;

pub type FunctionRef = (ModId, FuncId);

/// The limiting functions of the project.
pub fn limiting_functions(model: &Model) -> HashSet<FunctionRef> {
    let mut limiting: HashSet<FunctionRef> = HashSet::new();
    let errors = super::rejections::error_classes(model);
    for (mi, module) in model.modules.iter().enumerate() {
        let m = ModId(mi as u32);
        for fi in 0..module.functions.len() {
            let f = FuncId(fi as u32);
            let func = module.func(f);
            if func.kind == FunctionKind::Module {
                continue;
            }
            if rejects(module, f) || raises_429_class(model, m, f, &errors) {
                // The middleware a `.then(() => res.status(429))` sits in,
                // and the factory that returns it.
                let mut g = Some(f);
                while let Some(h) = g {
                    if module.func(h).kind == FunctionKind::Module {
                        break;
                    }
                    limiting.insert((m, h));
                    g = module.func(h).parent;
                }
            } else if limiter_named(module, f) {
                limiting.insert((m, f));
            }
        }
    }
    // Closures defined in limiting code and the helpers it calls.
    let mut frontier: Vec<FunctionRef> = limiting.iter().copied().collect();
    frontier.sort();
    for _ in 0..CALL_DEPTH {
        let mut next = Vec::new();
        for &(m, f) in &frontier {
            let module = model.module(m);
            let nested = (0..module.functions.len())
                .map(|i| FuncId(i as u32))
                .filter(|&g| module.func(g).parent == Some(f))
                .map(|g| (m, g));
            for callee in nested.chain(model.called_functions(m, f)) {
                if limiting.insert(callee) {
                    next.push(callee);
                }
            }
        }
        frontier = next;
    }
    limiting
}

/// The function makes an error of a project class that carries 429
/// (`throw new TooManyRequestsError(…)`).
fn raises_429_class(
    model: &Model,
    m: ModId,
    f: FuncId,
    errors: &HashSet<(ModId, ClassId)>,
) -> bool {
    if errors.is_empty() {
        return false;
    }
    let module = model.module(m);
    let mut found = false;
    function_exprs(module, f, &mut |e| {
        if let ExprKind::Call(call) = &module.expr(e).kind {
            found |= !found
                && model
                    .roles(m, f, call.callee)
                    .iter()
                    .any(|r| matches!(r, super::Role::Class(cm, c) if errors.contains(&(*cm, *c))));
        }
    });
    found
}

/// The function's own body answers 429: the number outside a comparison
/// (`res.status(429)`, `abort(429)`, `return …, 429`), or a name of the
/// status or of a limiter's rejection error.
pub fn rejects(module: &Module, f: FuncId) -> bool {
    let mut compared: HashSet<ExprId> = HashSet::new();
    let mut found = false;
    function_exprs(module, f, &mut |e| match &module.expr(e).kind {
        ExprKind::Compare { left, right, .. } => {
            compared.insert(*left);
            compared.insert(*right);
        }
        ExprKind::Num(_) | ExprKind::Str(_) if !compared.contains(&e) => {
            found |= status_429(module, e)
        }
        ExprKind::Name(name) | ExprKind::Attr { name, .. } => {
            found |= status_429(module, e) || tables::LIMITER_ERROR_NAMES.contains(&name.as_str())
        }
        _ => {}
    });
    found
}

/// The number 429, a name of the status (`TOO_MANY_REQUESTS`,
/// `HTTP_429_TOO_MANY_REQUESTS`) or a raw status line (`"429 Too Many
/// Requests"`).
pub fn status_429(module: &Module, e: ExprId) -> bool {
    match &module.expr(e).kind {
        ExprKind::Num(n) => *n == 429.0,
        ExprKind::Str(s) => tables::is_status_line_429(s),
        ExprKind::Name(name) | ExprKind::Attr { name, .. } => {
            tables::STATUS_429_NAMES.contains(&name.as_str())
        }
        _ => false,
    }
}

/// `rate_limit`, `checkThrottle`, a method of `class RateLimiter` or of
/// a class that extends or implements one (`implements ThrottlerStorage`).
pub fn limiter_named(module: &Module, f: FuncId) -> bool {
    let func = module.func(f);
    let class_named = func.class.is_some_and(|c| {
        let class = module.class(c);
        class
            .name
            .as_deref()
            .is_some_and(crate::knowledge::is_limiter_name)
            || class
                .bases
                .iter()
                .any(|&b| crate::knowledge::is_limiter_name(module.text(&module.expr(b).span)))
    });
    func.name
        .as_deref()
        .is_some_and(crate::knowledge::is_limiter_name)
        || class_named
}

/// A limiter check whose `true` refuses: `isLimited`, `is_rate_limited`,
/// `isBlocked`, `exceeded`.
pub fn names_a_refusal(name: &str) -> bool {
    let n = crate::knowledge::squashed(name);
    !n.contains("unlimited")
        && !n.contains("unblocked")
        && [
            "limited",
            "blocked",
            "exceeded",
            "overlimit",
            "throttled",
            "toomany",
            "shouldthrottle",
            "shouldblock",
        ]
        .iter()
        .any(|w| n.contains(w))
}

/// A limiter check whose `false` refuses: `allow`, `isAllowed`, `permit`,
/// `canProceed`, `within_rate_limit`, a token bucket's `consume` /
/// `tryAcquire`.
pub fn names_a_pass(name: &str) -> bool {
    let n = crate::knowledge::squashed(name);
    [
        "allow",
        "permit",
        "canproceed",
        "within",
        "underlimit",
        "consume",
        "tryacquire",
    ]
    .iter()
    .any(|w| n.contains(w))
}
