//! RATE002 in-memory-limiter, the hand-rolled half: a container living as
//! long as the process that request-path code updates per client key to
//! count or time requests, and consults to deny them.
//!
//! Evidence required, all of it (precision first):
//! 1. the container lives for the process (module/global, class attribute,
//!    an instance attribute of an object created once, a factory closure);
//! 2. a write keyed by a client key that stores a count/time/window, in code
//!    reached per request (or in a function named like a limiter);
//! 3. a limiting use: the entry is compared against a threshold where the
//!    code answers 429 (itself, or a per-request caller of a verdict helper),
//!    or in a function named like a limiter, or, for lockouts named as such
//!    (`failed_attempts`, `login_lockout`), where it denies in any way; or a
//!    membership test in code that answers 429.
//!
//! Memo caches keyed by IP never satisfy 3, and neither do session, CSRF,
//! OTP or idempotency stores that expire entries with 401/403/409: only a
//! 429 (or a limiter's own name) says "rate limit". Throttles on outgoing
//! calls are keyed by the remote host, not a client key, and fail 2.
//! Test files and mocks are skipped: their state never serves traffic.

use super::{Rule, RuleOptions};
use crate::facts::{AccessKind, CacheBackend, DenySignal, LimiterSetup, StateAccess};
use crate::finding::{Finding, Label, Severity};
use crate::knowledge;
use crate::knowledge::{MemoryWhen, SetupForm};
use crate::project::{ConfigSetting, FileId, Project};

pub struct InMemoryLimiter;

impl Rule for InMemoryLimiter {
    fn id(&self) -> &'static str {
        "RATE002"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        for setup in &facts.limiter_setups {
            if let Some(finding) = library_on_memory(project, file, setup) {
                out.push(finding);
            }
        }
        out.extend(django_cache_in_memory(project, file));
        django_cache_counter_in_memory(project, file, out);
        for state in hand_rolled_states(project, file, options) {
            let container = &facts.containers[state.container];
            let (write_file, write) = (&state.write_file, state.write);
            let framework = project.framework_for(*write_file, write.function);
            let python = facts.lang.is_some_and(|l| l.is_python());
            out.push(Finding {
                rule_id: "RATE002",
                severity: Severity::Warning,
                message: format!(
                    "`{}` keeps rate-limit state in process memory: it resets on every restart and each worker or instance counts on its own",
                    container.name
                ),
                path: facts.path.clone(),
                span: container.span,
                primary_label: format!("`{}` lives in this process", container.name),
                labels: vec![Label {
                    path: project.files[*write_file].path.clone(),
                    span: write.span,
                    message: match &write.key_text {
                        Some(key) => format!("updated per client (`{key}`) here"),
                        None => "updated per client here".to_string(),
                    },
                }],
                help: knowledge::shared_store_fix(framework, python).to_string(),
            });
        }
        model_states(project, file, out);
    }
}

/// Limiter state the project model resolves (`model::state`): containers
/// reached through limiter objects, store classes, factories and other
/// modules. Reported where the container is made, unless the first-
/// generation pass above reported that line.
fn model_states(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    let states = project.per_run(|| {
        let model = &project.model;
        crate::model::state::limiter_states(model, &super::limiting_code(project).0)
    });
    let facts = &project.files[file];
    if crate::knowledge::is_test_path(&facts.path) {
        return;
    }
    let module = project.model.module(crate::model::ModId(file as u32));
    let line = |offset: usize| {
        module.source[..offset.min(module.source.len())]
            .matches('\n')
            .count()
    };
    for state in states.iter().filter(|s| s.container.0 .0 as usize == file) {
        let span = crate::source::Span::from(state.container.1.clone());
        let reported = out.iter().any(|f| {
            f.rule_id == "RATE002" && f.path == facts.path && line(f.span.start) == line(span.start)
        });
        if reported {
            continue;
        }
        let (write_file, write_span) = (state.write.0 .0 as usize, &state.write.1);
        let text = crate::lang::shorten_key(&state.name);
        let python = facts.lang.is_some_and(|l| l.is_python());
        out.push(Finding {
            rule_id: "RATE002",
            severity: Severity::Warning,
            message: format!(
                "`{text}` keeps rate-limit state in process memory: it resets on every restart and each worker or instance counts on its own"
            ),
            path: facts.path.clone(),
            span,
            primary_label: format!("`{text}` lives in this process"),
            labels: vec![Label {
                path: project.files[write_file].path.clone(),
                span: crate::source::Span::from(write_span.clone()),
                message: format!(
                    "updated per client (`{}`) here",
                    crate::lang::shorten_key(&state.key)
                ),
            }],
            help: knowledge::shared_store_fix(project.framework_for(write_file, None), python)
                .to_string(),
        });
    }
}

/// A process-lifetime container that request-path code uses as a
/// hand-rolled limiter's state (the evidence RATE002 requires), with the
/// per-client write to show and every access to it. RATE004 and RATE005
/// judge the same containers.
pub(super) struct HandRolledState<'p> {
    pub container: usize,
    pub write_file: FileId,
    pub write: &'p StateAccess,
    pub accesses: Vec<(FileId, &'p StateAccess)>,
}

pub(super) fn hand_rolled_states<'p>(
    project: &'p Project,
    file: FileId,
    options: &RuleOptions,
) -> Vec<HandRolledState<'p>> {
    let facts = &project.files[file];
    let mut out = Vec::new();
    for (ci, container) in facts.containers.iter().enumerate() {
        if !project.lives_for_process(file, container) {
            continue;
        }
        let accesses = project.accesses_of(file, ci);
        // Label the clearest update: one that names the container.
        let mut qualifying: Vec<&(FileId, &StateAccess)> = accesses
            .iter()
            .filter(|(fi, a)| is_per_client_write(project, *fi, a, options, true))
            .collect();
        qualifying.sort_by_key(|(_, a)| !matches!(a.kind, AccessKind::Write { direct: true, .. }));
        let Some((write_file, write)) = qualifying.first().copied().or_else(|| {
            // A set of blocked clients: not a count, but it is the
            // limiter's verdict, consulted to answer 429.
            accesses
                .iter()
                .any(|(fi, a)| is_membership_rejection(project, *fi, a))
                .then(|| {
                    accesses
                        .iter()
                        .find(|(fi, a)| is_per_client_write(project, *fi, a, options, false))
                })
                .flatten()
        }) else {
            continue;
        };
        let limits = accesses.iter().any(|(fi, a)| {
            is_threshold_check(project, *fi, a, &container.name, options)
                || is_membership_rejection(project, *fi, a)
        });
        if !limits {
            continue;
        }
        out.push(HandRolledState {
            container: ci,
            write_file: *write_file,
            write,
            accesses: accesses.clone(),
        });
    }
    out
}

/// The library half: a limiter library left on (or set to) its in-process
/// store. Silent when the options cannot be read, when the setup is another
/// limiter's insurance, or when the project configures a store elsewhere.
fn library_on_memory(project: &Project, file: FileId, setup: &LimiterSetup) -> Option<Finding> {
    let facts = &project.files[file];
    let lib = &knowledge::LIMITER_LIBRARIES[setup.library];
    // A memory limiter kept only as another limiter's fallback is fine
    // (the extractor checks that it has no other use).
    // `limits` also paces outgoing calls (batch jobs, API clients): only
    // judge it in files that serve requests.
    let serves_requests = !facts.frameworks.is_empty()
        || (0..facts.functions.len()).any(|i| project.is_request_context((file, i)));
    if matches!(lib.package, "limits" | "pyrate-limiter") && !serves_requests {
        return None;
    }
    // The class alone decides for `RateLimiterMemory` / `MemoryStorage`.
    let options_matter = !matches!(lib.memory, MemoryWhen::Always);
    if (setup.options_unknown && options_matter) || setup.insurance {
        return None;
    }
    let option = |name: &str| setup.options.iter().find(|(k, _)| k == name);
    let reason = match lib.memory {
        MemoryWhen::NoStore { .. } if lib.form == SetupForm::NestForRoot && setup.array_form => {
            "the array form of `forRoot` cannot take a `storage`".to_string()
        }
        MemoryWhen::NoStore {
            store_options,
            memory_values,
            config_names,
        } => match store_options.iter().find_map(|o| option(o)) {
            Some((key, value)) => {
                if !knowledge::is_memory_store_value(value, memory_values) {
                    return None;
                }
                format!("`{key}` is `{value}`")
            }
            None => match project.config_setting(file, config_names) {
                ConfigSetting::Shared => return None,
                ConfigSetting::Memory => "the configuration sets a `memory://` storage".to_string(),
                ConfigSetting::Absent if project.deployment_files_mention(file, config_names) => {
                    return None
                }
                ConfigSetting::Absent => {
                    let names: Vec<String> =
                        store_options.iter().map(|o| format!("`{o}`")).collect();
                    format!("no {} is given", names.join(" or "))
                }
            },
        },
        MemoryWhen::OptionIs { option: key, value } => {
            let (_, given) = option(key)?;
            if syntax_unquote(given) != value {
                return None;
            }
            format!("`{key}` is `{given}`")
        }
        MemoryWhen::Never => return None,
        MemoryWhen::FirstArgWithout(shared) => {
            let arg = setup.first_arg.as_deref()?;
            if setup.options_unknown || shared.iter().any(|s| arg.contains(s)) {
                return None;
            }
            format!("`{arg}` builds an in-memory bucket")
        }
        MemoryWhen::Always => format!(
            "`{}` is an in-process store",
            setup.callee.trim_start_matches("new ")
        ),
        MemoryWhen::MemoryUri => {
            let uri = setup.string_arg.as_deref()?;
            if !uri.starts_with("memory://") && !uri.starts_with("async+memory://") {
                return None;
            }
            format!("the storage URI is `{uri}`")
        }
    };
    Some(Finding {
        rule_id: "RATE002",
        severity: Severity::Warning,
        message: format!(
            "{} ({}) keeps its counters in process memory: {reason}; they reset on every restart and each worker or instance allows the full limit",
            display_callee(&setup.callee),
            lib.package
        ),
        path: facts.path.clone(),
        span: setup.span,
        primary_label: format!("{} counts in this process", lib.package),
        labels: Vec::new(),
        help: lib.fix.to_string(),
    })
}

/// django-ratelimit and DRF throttling count in Django's cache; when the
/// project never configures `CACHES` (Django then uses `LocMemCache`) or
/// configures `LocMemCache`, they count per process. Reported once per
/// project, at the first decorator or throttle configuration that counts
/// in that cache (RULES.md), with the cache configuration as a label.
/// Silent when any `CACHES` in the project is shared or not a literal
/// (split settings, env), when nothing limits, or when
/// `RATELIMIT_USE_CACHE` picks another alias.
fn django_cache_in_memory(project: &Project, file: FileId) -> Option<Finding> {
    let here = &project.files[file];
    let uses = &here.django;
    if uses.ratelimit_uses.is_empty()
        && uses.throttle_class_uses.is_empty()
        && uses.default_throttle_classes.is_none()
    {
        return None;
    }
    let production = || project.project_files(file);
    let (settings, span, reason) = django_cache_in_process(project, file)?;
    // Real settings before example ones (`local_example.py`, which a
    // developer copies): the first use in the first real file.
    let ordered = || {
        let mut files: Vec<&crate::facts::FileFacts> = production().collect();
        files.sort_by_key(|f| is_example_file(&f.path));
        files
    };
    let ratelimit_use = ordered()
        .into_iter()
        .find_map(|f| f.django.ratelimit_uses.first().map(|s| (f, *s)));
    let rates = production().any(|f| f.django.throttle_rates);
    let drf_use = ordered().into_iter().find_map(|f| {
        f.django
            .throttle_class_uses
            .first()
            .or(f.django.default_throttle_classes.as_ref())
            .map(|s| (f, *s))
    });
    // A throttle class with its own cache (`cache = caches["…"]`) does not
    // count in the default cache: stay silent about DRF then.
    let custom_cache = production().any(|f| f.django.custom_throttle_cache);
    let drf_use = drf_use.filter(|_| rates && !custom_cache);
    let uses_other_cache = production().any(|f| {
        f.django
            .ratelimit_cache
            .as_deref()
            .is_some_and(|alias| alias != "default")
    });
    let ratelimit_use = ratelimit_use.filter(|_| !uses_other_cache);
    let (user_file, user_span) = ratelimit_use.or(drf_use)?;
    if !std::ptr::eq(user_file, here) {
        return None;
    }
    let who = match (ratelimit_use.is_some(), drf_use.is_some()) {
        (true, true) => "django-ratelimit and DRF throttling count",
        (true, false) => "django-ratelimit counts",
        _ => "DRF throttling counts",
    };
    Some(Finding {
        rule_id: "RATE002",
        severity: Severity::Warning,
        message: format!(
            "Django's cache is process memory ({reason}): {who} per process; limits reset on every restart and each worker counts on its own"
        ),
        path: here.path.clone(),
        span: user_span,
        primary_label: "counts in Django's default cache".to_string(),
        labels: vec![Label {
            path: settings.path.clone(),
            span,
            message: "the project's cache configuration".to_string(),
        }],
        help: "configure a shared cache: `CACHES = {\"default\": {\"BACKEND\": \"django.core.cache.backends.redis.RedisCache\", \"LOCATION\": \"redis://…\"}}` (django-ratelimit's check E003 rejects LocMemCache)".to_string(),
    })
}

/// A settings or config file meant to be copied (`local_example.py`,
/// `settings.sample.py`).
fn is_example_file(path: &std::path::Path) -> bool {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    ["example", "sample", "template", "dist"]
        .iter()
        .any(|w| stem.split(['_', '.', '-']).any(|part| part == *w))
}

/// Django's cache of `file`'s project is process memory: a settings
/// module sets `CACHES` to `LocMemCache`, or sets none (Django's default).
/// The settings file, where to point, and why. `None` when any `CACHES`
/// is shared or not a literal, or no settings module is in the run.
pub(super) fn django_cache_in_process(
    project: &Project,
    file: FileId,
) -> Option<(&crate::facts::FileFacts, crate::source::Span, &'static str)> {
    let production = || project.project_files(file);
    if production().any(|f| {
        f.django
            .caches
            .is_some_and(|(_, b)| b != CacheBackend::LocalMemory)
    }) {
        return None;
    }
    match production().find_map(|f| f.django.caches.map(|(span, _)| (f, span))) {
        Some((f, span)) => Some((f, span, "`CACHES` uses `LocMemCache`")),
        None => {
            let f = production().find(|f| f.django.installed_apps.is_some())?;
            Some((
                f,
                f.django.installed_apps?,
                "`CACHES` is not set, so Django uses `LocMemCache`",
            ))
        }
    }
}

/// Hand-rolled counting in Django's cache (`cache.set(key, n + 1, 60)`
/// keyed per client in limiting code) while that cache is process memory.
/// One finding per file, at the first such write, with the cache
/// configuration as a label.
fn django_cache_counter_in_memory(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    use crate::model::store_ops::{counts_from, is_read, reply_names};
    let here = &project.files[file];
    let model = &project.model;
    let uses = super::model_store_use(project);
    let commands = uses.commands(file);
    let by_key = super::commands_by_function_and_key(commands);
    // A count: a cached lookup keyed by address is not a limiter.
    let counts = |c: &crate::model::store_ops::StoreCommand| {
        if c.command == "incr" {
            return true;
        }
        if !matches!(c.command.as_str(), "set" | "add") {
            return false;
        }
        let reads: Vec<_> = super::same_function_and_key(&by_key, c)
            .iter()
            .filter(|r| is_read(&r.command))
            .collect();
        let names = reads.iter().flat_map(|r| reply_names(model, r)).collect();
        let calls: Vec<_> = reads.iter().map(|r| r.call).collect();
        counts_from(model.module(c.module), c.function, c.call, &names, &calls)
    };
    let Some(op) = commands
        .iter()
        .find(|c| c.django && super::keyed_per_client(model, c) && counts(c))
    else {
        return;
    };
    let Some((settings, span, reason)) = django_cache_in_process(project, file) else {
        return;
    };
    if out
        .iter()
        .any(|f| f.rule_id == "RATE002" && f.path == here.path)
    {
        return;
    }
    out.push(Finding {
        rule_id: "RATE002",
        severity: Severity::Warning,
        message: format!(
            "Django's cache is process memory ({reason}): this limiter counts `{}` per process; limits reset on every restart and each worker counts on its own",
            op.key
        ),
        path: here.path.clone(),
        span: op.at.clone().into(),
        primary_label: "counts in Django's default cache".to_string(),
        labels: vec![Label {
            path: settings.path.clone(),
            span,
            message: "the project's cache configuration".to_string(),
        }],
        help: "configure a shared cache: `CACHES = {\"default\": {\"BACKEND\": \"django.core.cache.backends.redis.RedisCache\", \"LOCATION\": \"redis://…\"}}`, or count in Redis directly".to_string(),
    });
}

fn display_callee(callee: &str) -> String {
    format!("`{callee}(…)`")
}

fn syntax_unquote(s: &str) -> &str {
    s.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

fn is_per_client_write(
    project: &Project,
    file: FileId,
    a: &StateAccess,
    options: &RuleOptions,
    need_counts: bool,
) -> bool {
    let AccessKind::Write {
        counts_or_times, ..
    } = a.kind
    else {
        return false;
    };
    if need_counts && !counts_or_times {
        return false;
    }
    if !project.key_is_client(file, a) {
        return false;
    }
    let Some(func) = a.function else { return false };
    project.is_request_context((file, func))
        || project.is_limiter_named((file, func), &options.limiter_names)
}

/// The entry is compared against a threshold in code that denies requests,
/// is named like a limiter, or whose per-request callers deny.
fn is_threshold_check(
    project: &Project,
    file: FileId,
    a: &StateAccess,
    container_name: &str,
    options: &RuleOptions,
) -> bool {
    if a.kind != AccessKind::Compare {
        return false;
    }
    let Some(func) = a.function else { return false };
    project
        .with_inline_parents((file, func))
        .into_iter()
        .any(|f| {
            let function = project.function(f);
            function.deny == DenySignal::Strong
                || project.is_limiter_named(f, &options.limiter_names)
                || (function.deny >= DenySignal::Weak
                    && (is_lockout_name(container_name) || is_lockout_name(&function.name)))
                || project.callers_of(f).iter().any(|c| {
                    project.is_request_context(*c)
                        && project.function(*c).deny == DenySignal::Strong
                })
        })
}

/// Names that say "lock the account after repeated failures": such code
/// often answers 401/403 rather than 429 and is still a limiter.
fn is_lockout_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["attempt", "fail", "lockout", "locked", "brute", "strike"]
        .iter()
        .any(|w| n.contains(w))
}

fn is_membership_rejection(project: &Project, file: FileId, a: &StateAccess) -> bool {
    if a.kind != AccessKind::Membership || !project.key_is_client(file, a) {
        return false;
    }
    a.function
        .is_some_and(|func| project.function((file, func)).deny == DenySignal::Strong)
}

#[cfg(test)]
mod tests {
    use crate::engine::lint_sources;

    fn rate002_lines(files: &[(&str, &str)]) -> Vec<(String, usize)> {
        lint_sources(files)
            .into_iter()
            .filter(|f| f.finding.rule_id == "RATE002")
            .map(|f| (f.finding.path.display().to_string(), f.start.line))
            .collect()
    }

    #[test]
    fn model_state_behind_a_store_object_is_named_by_its_attribute() {
        let store = "class Entries {\n  constructor() {\n    this.byCaller = new Map();\n  }\n  bump(who) {\n    this.byCaller.set(who, (this.byCaller.get(who) || 0) + 1);\n    return this.byCaller.get(who);\n  }\n}\nmodule.exports = { Entries };\n";
        let limiter = "const { Entries } = require('./entries');\nconst entries = new Entries();\nmodule.exports = (req, res, next) => {\n  if (entries.bump(req.ip) > 10) return res.status(429).end();\n  next();\n};\n";
        let findings: Vec<_> = lint_sources(&[("entries.js", store), ("limit.js", limiter)])
            .into_iter()
            .filter(|f| f.finding.rule_id == "RATE002")
            .collect();
        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(
            (f.finding.path.to_str(), f.start.line),
            (Some("entries.js"), 3)
        );
        assert!(
            f.finding.message.starts_with("`this.byCaller` keeps"),
            "{}",
            f.finding.message
        );
        assert_eq!(f.finding.labels[0].path.to_str(), Some("entries.js"));
    }

    #[test]
    fn flask_module_dict_of_timestamps() {
        let src = r#"
import time
from collections import defaultdict
from flask import Flask, request, abort

app = Flask(__name__)
hits = defaultdict(list)

@app.before_request
def limit():
    ip = request.remote_addr
    now = time.time()
    hits[ip] = [t for t in hits[ip] if now - t < 60]
    if len(hits[ip]) >= 100:
        abort(429)
    hits[ip].append(now)
"#;
        assert_eq!(
            rate002_lines(&[("app.py", src)]),
            vec![("app.py".into(), 7)]
        );
    }

    #[test]
    fn finding_carries_update_label_and_flask_fix() {
        let src = "from flask import request, abort\nhits = {}\n@app.route('/')\ndef index():\n    ip = request.remote_addr\n    hits[ip] = hits.get(ip, 0) + 1\n    if hits[ip] > 10:\n        abort(429)\n";
        let findings = lint_sources(&[("a.py", src)]);
        let f = &findings[0].finding;
        assert!(f.message.contains("`hits`"), "{}", f.message);
        assert_eq!(f.labels.len(), 1);
        assert!(src[f.labels[0].span.start..].starts_with("hits[ip] = hits.get(ip, 0) + 1"));
        assert!(f.help.contains("flask-limiter"), "{}", f.help);
    }

    #[test]
    fn express_closure_map_in_middleware_factory() {
        let src = r#"
const express = require('express');
function rateLimit({ windowMs, max }) {
  const store = new Map();
  return (req, res, next) => {
    const now = Date.now();
    const entry = store.get(req.ip) || { count: 0, start: now };
    if (now - entry.start > windowMs) { entry.count = 0; entry.start = now; }
    entry.count++;
    store.set(req.ip, entry);
    if (entry.count > max) return res.status(429).send('slow down');
    next();
  };
}
"#;
        let found = rate002_lines(&[("mw.js", src)]);
        assert_eq!(found, vec![("mw.js".into(), 4)]);
        let help = &lint_sources(&[("mw.js", src)])[0].finding.help;
        assert!(help.contains("express-rate-limit"), "{help}");
    }

    #[test]
    fn memo_cache_keyed_by_ip_is_silent() {
        let src = r#"
from flask import request
geo = {}
@app.route('/where')
def where():
    ip = request.remote_addr
    if ip not in geo:
        geo[ip] = lookup_country(ip)
    return geo[ip]
"#;
        assert!(rate002_lines(&[("geo.py", src)]).is_empty());
    }

    #[test]
    fn ttl_memo_cache_that_compares_times_but_never_denies_is_silent() {
        let src = r#"
import time
from fastapi import Request
cache = {}
async def resolve(request: Request):
    ip = request.client.host
    entry = cache.get(ip)
    if entry and time.time() - entry[1] < 300:
        return entry[0]
    name = await reverse_dns(ip)
    cache[ip] = (name, time.time())
    return name
"#;
        assert!(rate002_lines(&[("dns.py", src)]).is_empty());
    }

    #[test]
    fn outgoing_throttle_keyed_by_host_is_silent() {
        let src = r#"
import time
from urllib.parse import urlparse
last_call = {}
def polite_get(url):
    host = urlparse(url).netloc
    wait = 1.0 - (time.time() - last_call.get(host, 0))
    if wait > 0:
        time.sleep(wait)
    last_call[host] = time.time()
    return requests.get(url)
"#;
        assert!(rate002_lines(&[("crawl.py", src)]).is_empty());
    }

    #[test]
    fn per_request_local_is_silent() {
        let src = "app.get('/x', (req, res) => {\n  const seen = new Map();\n  seen.set(req.ip, (seen.get(req.ip) || 0) + 1);\n  if (seen.get(req.ip) > 5) return res.status(429).end();\n  res.send('ok');\n});\n";
        assert!(rate002_lines(&[("x.js", src)]).is_empty());
    }

    #[test]
    fn instance_attribute_needs_a_process_lifetime_object() {
        let class = r#"
import time
class RateLimiter:
    def __init__(self):
        self.requests = {}
    def is_allowed(self, ip):
        now = time.time()
        recent = [t for t in self.requests.get(ip, []) if now - t < 60]
        if len(recent) >= 10:
            return False
        recent.append(now)
        self.requests[ip] = recent
        return True
"#;
        let per_request = "from flask import request\nfrom .limiter import RateLimiter\n@app.route('/')\ndef index():\n    limiter = RateLimiter()\n    if not limiter.is_allowed(request.remote_addr):\n        return 'no', 429\n";
        let shared = "from flask import request\nfrom .limiter import RateLimiter\nlimiter = RateLimiter()\n@app.route('/')\ndef index():\n    if not limiter.is_allowed(request.remote_addr):\n        return 'no', 429\n";
        assert!(
            rate002_lines(&[("pkg/limiter.py", class), ("pkg/views.py", per_request)]).is_empty()
        );
        assert_eq!(
            rate002_lines(&[("pkg/limiter.py", class), ("pkg/views.py", shared)]),
            vec![("pkg/limiter.py".into(), 5)]
        );
    }

    #[test]
    fn analytics_counter_without_a_limit_is_silent() {
        let src = "const hits = {};\napp.use((req, res, next) => { hits[req.ip] = (hits[req.ip] || 0) + 1; next(); });\napp.get('/stats', (req, res) => res.json(hits));\n";
        assert!(rate002_lines(&[("a.js", src)]).is_empty());
    }

    #[test]
    fn imported_container_updated_in_another_file() {
        let store = "export const attempts = new Map();\n";
        let mw = "import { attempts } from './store';\nexport function limit(req, res, next) {\n  const n = (attempts.get(req.ip) ?? 0) + 1;\n  attempts.set(req.ip, n);\n  if (n > 5) return res.sendStatus(429);\n  next();\n}\n";
        assert_eq!(
            rate002_lines(&[("src/store.ts", store), ("src/mw.ts", mw)]),
            vec![("src/store.ts".into(), 1)]
        );
    }
}
