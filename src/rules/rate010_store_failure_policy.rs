//! RATE010 store-failure-policy. Library half: a limiter on a shared store
//! whose behaviour during a store outage is left to the default (a 500 on
//! every limited request), or a rejection handler that answers 429 to
//! store errors too (everyone refused: fail closed). Only setups whose
//! options can be read are judged, and only when the store is a shared
//! one (a memory store is RATE002's concern).
//!
//! Hand-rolled half, on the model's store calls (`model::store_ops`):
//! store calls of limiting code that a request reaches with nothing
//! catching their errors, or whose handler refuses everyone.

use super::{Rule, RuleOptions};
use crate::facts::{ConsumeSite, LimiterSetup};
use crate::finding::{Finding, Label, Severity};
use crate::knowledge::{self, FailurePolicy, MemoryWhen};
use crate::project::{ConfigSetting, FileId, Project};

pub struct StoreFailurePolicy;

impl Rule for StoreFailurePolicy {
    fn id(&self) -> &'static str {
        "RATE010"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        for setup in &facts.limiter_setups {
            out.extend(unhandled_outage(project, file, setup));
        }
        for site in &facts.consume_sites {
            out.extend(fail_closed_handler(project, file, site));
        }
        model_hand_rolled(project, file, out);
    }
}

/// The hand-rolled half on the model (`model::store_ops`): a call that
/// talks to the store from limiting code (clients from other modules,
/// factories, fields; registered scripts; a pipeline's `exec`) with no
/// `try` or `.catch` around it, in a request handler or middleware, or
/// in a helper some unguarded call reaches from one. One finding per
/// function; a function already reported as failing closed is left to that.
fn model_hand_rolled(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    if project.summary(file).store_error_handler {
        return;
    }
    let uses = super::model_store_use(project);
    let facts = &project.files[file];
    let model = &project.model;
    let module = model.module(crate::model::ModId(file as u32));
    let mut reported = std::collections::HashSet::new();
    fail_closed(project, &uses, file, out);
    unguarded_wrapper_calls(project, file, out);
    let in_process = local_django_cache(project, file);
    for call in uses
        .calls(file)
        .iter()
        .filter(|c| !(c.handled || c.django && in_process))
    {
        let f = call.function;
        let fails_closed = reported_in(out, &facts.path, &module.func(f).span);
        if fails_closed
            || reported.contains(&f)
            || !keyed_per_client(model, &uses, call)
            || !reaches_request_unguarded(model, &uses, (call.module, f), 3)
        {
            continue;
        }
        // One outage, one finding: a helper whose unguarded caller talks
        // to the store itself is reported there.
        let caller_calls_store = uses.callers.get(&(call.module, f)).is_some_and(|sites| {
            sites.iter().any(|s| {
                !s.handled
                    && uses
                        .calls(s.caller.0 .0 as usize)
                        .iter()
                        .any(|c| c.function == s.caller.1 && !c.handled)
            })
        });
        // Several store helpers (a client wrapper's methods) called from
        // one unguarded function are reported once, there.
        let through_wrapper = uses.callers.get(&(call.module, f)).is_some_and(|sites| {
            sites.iter().filter(|s| !s.handled).all(|s| {
                let wrappers = wrapper_calls(model, &uses, s.caller);
                wrappers.len() > 1 && wrappers.iter().any(|w| w.callee == (call.module, f))
            })
        });
        if caller_calls_store || through_wrapper {
            continue;
        }
        reported.insert(f);
        out.push(Finding {
            rule_id: "RATE010",
            severity: Severity::Warning,
            message: unguarded_message(&format!("`{}(…)`", call.what)),
            path: facts.path.clone(),
            span: call.span.clone().into(),
            primary_label: "the limiter's store call".to_string(),
            labels: Vec::new(),
            help: UNGUARDED_HELP.to_string(),
        });
    }
}

/// The unguarded calls `caller` makes to thin store wrappers (helpers
/// that send one store call with no error handling: a client wrapper's
/// `count(key)`, `add(key)`), one per wrapper, when `caller` sends no
/// store call itself.
fn wrapper_calls<'u>(
    model: &crate::model::Model,
    uses: &'u super::ModelStoreUse,
    caller: crate::model::limiting::FunctionRef,
) -> Vec<&'u crate::model::store_ops::CallSite> {
    let unhandled_in = |(m, f): crate::model::limiting::FunctionRef| {
        uses.calls(m.0 as usize)
            .iter()
            .filter(move |c| c.function == f && !c.handled)
    };
    if unhandled_in(caller).next().is_some() {
        return Vec::new();
    }
    // One store call, on a key the wrapper is given (not opening the
    // connection).
    let thin = |(m, f): crate::model::limiting::FunctionRef| {
        let mut calls = unhandled_in((m, f));
        let (Some(call), None) = (calls.next(), calls.next()) else {
            return false;
        };
        let module = model.module(m);
        let crate::ir::ExprKind::Call(c) = &module.expr(call.call).kind else {
            return false;
        };
        c.args.first().is_some_and(|&a| {
            matches!(&module.expr(a).kind, crate::ir::ExprKind::Name(n)
                if module.func(f).params.iter().any(|p| &p.name == n))
        })
    };
    let mut seen = std::collections::HashSet::new();
    uses.callees
        .get(&caller)
        .into_iter()
        .flatten()
        .filter(|s| !s.handled && thin(s.callee) && seen.insert(s.callee))
        .collect()
}

/// A function that calls several store helpers with no error handling
/// (`await this.store.count(key)`, `await this.store.add(key)`): one
/// finding at its first such call.
fn unguarded_wrapper_calls(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    let uses = super::model_store_use(project);
    let model = &project.model;
    let m = crate::model::ModId(file as u32);
    let module = model.module(m);
    let facts = &project.files[file];
    for fi in 0..module.functions.len() {
        let f = crate::ir::FuncId(fi as u32);
        let sites = wrapper_calls(model, &uses, (m, f));
        let Some(first) = sites.iter().min_by_key(|s| s.span.start) else {
            continue;
        };
        if sites.len() < 2 || !reaches_request_unguarded(model, &uses, (m, f), 3) {
            continue;
        }
        let what = module.text(&first.span);
        let what = what
            .split('(')
            .next()
            .unwrap_or(what)
            .trim_start_matches("await ");
        out.push(Finding {
            rule_id: "RATE010",
            severity: Severity::Warning,
            message: unguarded_message(&format!("`{what}(…)`")),
            path: facts.path.clone(),
            span: first.span.clone().into(),
            primary_label: "calls the limiter's store through a helper".to_string(),
            labels: Vec::new(),
            help: UNGUARDED_HELP.to_string(),
        });
    }
}

/// Django's cache is process memory here (`LocMemCache`, or no `CACHES`
/// in a Django project): nothing remote can be down (RULES.md RATE010).
fn local_django_cache(project: &Project, file: FileId) -> bool {
    super::rate002_in_memory_limiter::django_cache_in_process(project, file).is_some()
}

const FAIL_CLOSED_429_HELP: &str =
    "on store errors let the request through (or answer 503) and alert; keep 429 for real limits";

/// Does a request reach `f` with nothing catching its errors: `f` (or the
/// function it is defined in) takes the request, or an unguarded call
/// from such code reaches it (`depth` calls up)? A helper nobody in the
/// model calls is not judged.
fn reaches_request_unguarded(
    model: &crate::model::Model,
    uses: &super::ModelStoreUse,
    f: crate::model::limiting::FunctionRef,
    depth: usize,
) -> bool {
    reaches_request(model, uses, f, depth, true)
}

/// Does a request reach `f`: `f` (or the function it is defined in) takes
/// the request, or a call from such code reaches it, `depth` calls up;
/// with `unguarded`, only calls whose errors nothing catches.
fn reaches_request(
    model: &crate::model::Model,
    uses: &super::ModelStoreUse,
    f: crate::model::limiting::FunctionRef,
    depth: usize,
    unguarded: bool,
) -> bool {
    let (m, fid) = f;
    let module = model.module(m);
    let mut g = Some(fid);
    while let Some(h) = g {
        let func = module.func(h);
        if func.kind == crate::ir::FunctionKind::Module {
            break;
        }
        if unguarded && guarded_by_decorator(model, m, h) {
            return false;
        }
        // A parameter, or (Flask, Quart) the global `request` it reads.
        let takes_request = func.params.iter().any(|p| {
            model
                .slot(&crate::model::Slot::Local(m, h, p.name.clone()))
                .contains(&crate::model::Role::Request)
        }) || reads_global_request(model, m, h)
            || model.is_route_handler(m, h)
            // Only request handling answers 429: a function that does, and
            // whose callers the model does not see, is on the request path.
            || crate::model::limiting::rejects(module, h) && !uses.callers.contains_key(&(m, h));
        if takes_request {
            return true;
        }
        // A closure made inside a `try` of the function it sits in.
        if unguarded && uses.guarded_closures.contains(&(m, h)) {
            return false;
        }
        g = func.parent;
    }
    depth > 0
        && uses.callers.get(&f).is_some_and(|sites| {
            sites.iter().any(|s| {
                !(unguarded && s.handled)
                    && reaches_request(model, uses, s.caller, depth - 1, unguarded)
            })
        })
}

/// Is one of `names` set in the production code of `file`'s project?
fn configured(project: &Project, file: FileId, names: &[&str]) -> bool {
    let config = &project.summary(file).config_files;
    names.iter().any(|n| config.contains_key(*n))
}

/// Does this setup count in a shared store (as opposed to process memory)?
fn uses_shared_store(project: &Project, file: FileId, setup: &LimiterSetup) -> bool {
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    match lib.memory {
        MemoryWhen::Never => true,
        MemoryWhen::NoStore {
            store_options,
            memory_values,
            config_names,
        } => match setup
            .options
            .iter()
            .find(|(k, _)| store_options.contains(&k.as_str()))
        {
            // A computed value with a memory default (`os.getenv("X",
            // "memory://")`) is not known to be shared.
            Some((_, value)) => {
                !knowledge::is_memory_store_value(value, memory_values)
                    && !value.contains("memory://")
            }
            // Only the key this library really reads selects a store (the
            // first one listed): flask-limiter ≥ 3 ignores `_URL`, slowapi
            // ignores `_URI`. RATE002 stays silent on either, to be safe.
            None => {
                let read = &config_names[..config_names.len().min(1)];
                project.config_setting(file, read) == ConfigSetting::Shared
            }
        },
        MemoryWhen::OptionIs { .. }
        | MemoryWhen::Always
        | MemoryWhen::MemoryUri
        | MemoryWhen::FirstArgWithout(_) => false,
    }
}

fn unhandled_outage(project: &Project, file: FileId, setup: &LimiterSetup) -> Option<Finding> {
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    let FailurePolicy::UnlessOption {
        options,
        config_names,
        outcome,
        fix,
    } = lib.failure
    else {
        return None;
    };
    if setup.options_unknown || !uses_shared_store(project, file, setup) {
        return None;
    }
    let is_set = |name: &str| {
        setup.options.iter().any(|(k, v)| {
            k == name
                && !matches!(
                    v.as_str(),
                    "False" | "false" | "None" | "null" | "undefined" | "[]"
                )
        })
    };
    if options.iter().any(|o| is_set(o)) || configured(project, file, config_names) {
        return None;
    }
    Some(Finding {
        rule_id: "RATE010",
        severity: Severity::Warning,
        message: format!(
            "`{}(…)` ({}) leaves a store outage to the default: {outcome}",
            setup.callee, lib.package
        ),
        path: project.files[file].path.clone(),
        span: setup.span,
        primary_label: format!("no policy for store errors ({})", options.join(", ")),
        labels: Vec::new(),
        help: fix.to_string(),
    })
}

fn fail_closed_handler(project: &Project, file: FileId, site: &ConsumeSite) -> Option<Finding> {
    if !site.answers_429 || site.tells_errors_apart {
        return None;
    }
    let (setup_file, setup) = find_limiter(project, file, &site.receiver)?;
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    if !matches!(lib.failure, FailurePolicy::ConsumeRejects)
        || setup.options_unknown
        || setup.options.iter().any(|(k, _)| k == "insuranceLimiter")
    {
        return None;
    }
    Some(Finding {
        rule_id: "RATE010",
        severity: Severity::Warning,
        message: format!(
            "`{}.consume(…)` answers 429 to every rejection: when the store is down `consume` rejects with an `Error` and every client is refused (fail closed)",
            site.receiver
        ),
        path: project.files[file].path.clone(),
        span: site.span,
        primary_label: "store errors and limits end in the same 429".to_string(),
        labels: vec![Label {
            path: project.files[setup_file].path.clone(),
            span: setup.span,
            message: "store-backed limiter without `insuranceLimiter`".to_string(),
        }],
        help: "tell errors from limits: `if (err instanceof Error)` let the request through (or answer 503) and alert; or add `insuranceLimiter: new RateLimiterMemory({ points, duration })`".to_string(),
    })
}

/// The limiter a `consume` receiver names: a setup stored under that name
/// in this file, or in a project file this file imports it from.
fn find_limiter<'p>(
    project: &'p Project,
    file: FileId,
    receiver: &str,
) -> Option<(FileId, &'p LimiterSetup)> {
    let bound = |fi: FileId, name: &str| {
        project.files[fi]
            .limiter_setups
            .iter()
            .find(|s| s.bound_to.as_deref() == Some(name))
            .map(|s| (fi, s))
    };
    if let Some(found) = bound(file, receiver) {
        return Some(found);
    }
    // Imported: look in the file the import resolves to, under the
    // exported name; a default import takes that file's only limiter.
    let import = project.files[file]
        .imports
        .iter()
        .find(|i| i.local == receiver)?;
    let target = project.resolve_import(file, &import.module)?;
    match import.name.as_deref() {
        Some(name) => bound(target, name),
        None => {
            let setups = &project.files[target].limiter_setups;
            (setups.len() == 1).then(|| (target, &setups[0]))
        }
    }
}

/// `@ignore_redis_errors`: a project decorator whose wrapper calls the
/// function inside a `try` with a handler.
fn guarded_by_decorator(
    model: &crate::model::Model,
    m: crate::model::ModId,
    f: crate::ir::FuncId,
) -> bool {
    use crate::ir::{walk_stmts, StmtKind};
    let module = model.module(m);
    module.func(f).decorators.iter().any(|&d| {
        let callee = match &module.expr(d).kind {
            crate::ir::ExprKind::Call(call) => call.callee,
            _ => d,
        };
        model.roles(m, f, callee).iter().any(|r| {
            let crate::model::Role::Func(dm, df) = r else {
                return false;
            };
            let dmodule = model.module(*dm);
            // The decorator and the wrappers defined in it.
            (0..dmodule.functions.len())
                .map(|i| crate::ir::FuncId(i as u32))
                .filter(|&g| g == *df || dmodule.func(g).parent == Some(*df))
                .any(|g| {
                    let mut catches = false;
                    walk_stmts(dmodule, &dmodule.func(g).body, &mut |s| {
                        catches |= matches!(&dmodule.stmt(s).kind, StmtKind::Try { handlers, .. } if !handlers.is_empty());
                    });
                    catches
                })
        })
    })
}

/// Fail closed on the model: a store call in a `try` whose handler
/// answers 429, or returns the answer that refuses the client
/// (`isLimited()` answering `true`, `allow()` answering `false`), while
/// the store is down, in code a request reaches. One finding per function.
fn fail_closed(
    project: &Project,
    uses: &super::ModelStoreUse,
    file: FileId,
    out: &mut Vec<Finding>,
) {
    let facts = &project.files[file];
    let model = &project.model;
    let module = model.module(crate::model::ModId(file as u32));
    let mut reported = std::collections::HashSet::new();
    let in_process = local_django_cache(project, file);
    for call in uses
        .calls(file)
        .iter()
        .filter(|c| (c.handled || c.rejects_on_error) && !(c.django && in_process))
    {
        let f = call.function;
        if call.rejects_on_error {
            if reported_in(out, &facts.path, &module.func(f).span)
                || !keyed_per_client(model, uses, call)
                || !reported.insert(f)
                || !reaches_request(model, uses, (call.module, f), 3, false)
            {
                continue;
            }
            out.push(Finding {
                rule_id: "RATE010",
                severity: Severity::Warning,
                message: format!("`{}(…)` fails closed: its error handler answers 429, so while the store is down every client is refused", call.what),
                path: facts.path.clone(),
                span: call.span.clone().into(),
                primary_label: "the limiter's store call".to_string(),
                labels: Vec::new(),
                help: FAIL_CLOSED_429_HELP.to_string(),
            });
            continue;
        }
        let Some((answer, answer_span)) = call.returns_on_error.clone() else {
            continue;
        };
        let name = module.func(f).name.as_deref().unwrap_or("");
        let refuses = if answer {
            crate::model::limiting::names_a_refusal(name)
        } else {
            crate::model::limiting::names_a_pass(name)
        };
        let already = reported_in(out, &facts.path, &module.func(f).span);
        if !refuses
            || already
            || !keyed_per_client(model, uses, call)
            || !reported.insert(f)
            || !reaches_request(model, uses, (call.module, f), 3, false)
        {
            continue;
        }
        let answer = match (module.is_python(), answer) {
            (true, true) => "True",
            (true, false) => "False",
            (false, true) => "true",
            (false, false) => "false",
        };
        out.push(Finding {
            rule_id: "RATE010",
            severity: Severity::Warning,
            message: format!("`{}(…)` fails closed: when the store is down, `{name}` answers `{answer}`, so every client is refused until it is back", call.what),
            path: facts.path.clone(),
            span: answer_span.into(),
            primary_label: "the answer while the store is down".to_string(),
            labels: vec![Label {
                path: facts.path.clone(),
                span: call.span.clone().into(),
                message: "the store call that fails".to_string(),
            }],
            help: "on store errors let the request through (or fall back to a per-process limit) and alert; keep the refusal for real limits".to_string(),
        });
    }
}

/// Does the function read a module-level request object (`flask.request`)?
fn reads_global_request(
    model: &crate::model::Model,
    m: crate::model::ModId,
    f: crate::ir::FuncId,
) -> bool {
    let module = model.module(m);
    let params: Vec<&str> = module
        .func(f)
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let mut found = false;
    crate::ir::function_exprs(module, f, &mut |e| {
        if found {
            return;
        }
        if let crate::ir::ExprKind::Name(n) = &module.expr(e).kind {
            found = !params.contains(&n.as_str())
                && model.roles(m, f, e).contains(&crate::model::Role::Request);
        }
    });
    found
}

/// Is this limiter's state per client: a key of a store command in the
/// function (or an argument of the call itself, a script's `keys=[…]`)
/// carries an address or an account, or the function or its class is
/// named like a limiter? A queue length or a feature flag behind a 429 is
/// load shedding, not a limiter's store.
fn keyed_per_client(
    model: &crate::model::Model,
    uses: &super::ModelStoreUse,
    call: &crate::model::store_ops::StoreCall,
) -> bool {
    let (m, f) = (call.module, call.function);
    let carries_client = |e: crate::ir::ExprId| {
        !model.address_origins(m, f, e).is_empty()
            || model.roles(m, f, e).contains(&crate::model::Role::Identity)
    };
    let module = model.module(m);
    let mut in_args = false;
    crate::ir::walk_expr(module, call.call, &mut |x| {
        in_args = in_args || carries_client(x)
    });
    in_args
        || crate::model::limiting::limiter_named(module, f)
        || uses
            .commands(m.0 as usize)
            .iter()
            .any(|c| c.function == f && carries_client(c.key_expr))
}

fn unguarded_message(what: &str) -> String {
    format!("{what} has no error handling on the request path: when the store is down, every request through this limiter fails (a 500, or a request that hangs)")
}

const UNGUARDED_HELP: &str = "choose the outage policy: catch the store's errors around the limiter (Python `redis.exceptions.RedisError`, JS `try`/`catch`) and let the request through with a log line and a metric (fail open), or fall back to a per-process limit";

/// Has a RATE010 finding already been given inside this function (it
/// fails closed)?
fn reported_in(out: &[Finding], path: &std::path::Path, function: &crate::ir::Span) -> bool {
    out.iter().any(|o| {
        o.rule_id == "RATE010"
            && o.path == path
            && o.span.start >= function.start
            && o.span.end <= function.end
    })
}
