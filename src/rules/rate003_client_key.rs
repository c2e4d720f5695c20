//! RATE003 client-key: the limiter's key cannot tell clients apart
//! (proxy-blind: the peer address behind a proxy nobody configured; shared:
//! one literal for every caller) or the client chooses it (spoofable: the
//! leftmost or whole `X-Forwarded-For`, `access_route`, or `req.ip` while
//! every proxy hop is trusted).
//!
//! A query on the project model (`model::keys`): key sites are library key
//! options and key functions, limiter methods that take the key, counting
//! store commands, and store or container entries in limiting code
//! (`model::limiting`), with values followed through locals, attributes,
//! helpers, parameters and other modules. Each key is reported where its
//! address is read, once per function. Library defaults come from the
//! limiter setups (`req.ip`) and `model::tables::DEFAULT_KEYS`; DRF's
//! throttles from the Django facts. Proxy trust is joined over the
//! project's files of the same language family. Silent on identity keys,
//! rightmost-entry parsing, `X-Real-IP`-style headers and whenever the
//! trust setting is unclear: precision first.

use super::{Rule, RuleOptions};
use crate::facts::{ClientKey, FileFacts, Framework, KeyForm, ProxySetting, ProxyTrust};
use crate::finding::{Finding, Label, Severity};
use crate::knowledge;
use crate::project::{FileId, Project};
use crate::source::Span;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub struct ClientKeyRule;

/// The project's proxy trust for one language family.
struct Trust<'p> {
    /// Something handles proxies (any setting, clear or not).
    handled: bool,
    /// Every hop trusted, and nothing else configured.
    all: Option<(&'p PathBuf, &'p ProxySetting)>,
    /// DRF's `NUM_PROXIES` is set.
    num_proxies: bool,
}

fn project_trust(project: &Project, file: FileId) -> Trust<'_> {
    let python = is_python(&project.files[file]);
    let settings: Vec<(&PathBuf, &ProxySetting)> = project
        .summary(file)
        .proxy_settings
        .iter()
        .map(|&(fi, i)| (&project.files[fi], i))
        .filter(|(f, _)| is_python(f) == python)
        .map(|(f, i)| (&f.path, &f.proxy_settings[i]))
        .collect();
    let only_all = settings.iter().all(|(_, s)| s.trust == ProxyTrust::All);
    // uvicorn / gunicorn proxy settings in the deployment files.
    let here = &project.files[file];
    let may_judge = project
        .per_run(|| model_keys_by_origin(project))
        .contains_key(&file)
        || !here.limiter_setups.is_empty()
        || here.django.default_throttle_classes.is_some()
        || !here.django.throttle_class_uses.is_empty();
    let deployed = python
        && settings.is_empty()
        && may_judge
        && project.deployment_files_mention(
            file,
            &[
                "FORWARDED_ALLOW_IPS",
                "forwarded-allow-ips",
                "--proxy-headers",
                "forwarded_allow_ips",
            ],
        );
    Trust {
        handled: !settings.is_empty() || deployed,
        all: settings
            .iter()
            .find(|(_, s)| s.trust == ProxyTrust::All)
            .copied()
            .filter(|_| only_all),
        num_proxies: settings.iter().any(|(_, s)| s.text.contains("NUM_PROXIES")),
    }
}

fn is_python(f: &FileFacts) -> bool {
    f.lang.is_some_and(|l| l.is_python())
}

/// The verdict on one key.
enum Verdict {
    Spoofable,
    TrustAll,
    ProxyBlind,
}

impl Rule for ClientKeyRule {
    fn id(&self) -> &'static str {
        "RATE003"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        _options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let trust = project_trust(project, file);
        model_keys(project, file, &trust, out);
        default_keys(project, file, &trust, out);
        model_default_keys(project, file, out);
        drf_throttles(project, file, &trust, out);
    }
}

/// Whether the key form is a finding under the project's trust.
fn judge(form: KeyForm, framework: Option<Framework>, trust: &Trust) -> Option<Verdict> {
    if form.is_spoofable() {
        return Some(Verdict::Spoofable);
    }
    match form {
        KeyForm::PeerSocket if !trust.handled => Some(Verdict::ProxyBlind),
        KeyForm::PeerTrusting => {
            // `request.ip` means something else on Next.js or Hono.
            if !matches!(
                framework,
                Some(Framework::Express | Framework::Fastify | Framework::Koa | Framework::NestJs)
            ) {
                return None;
            }
            if trust.all.is_some() {
                Some(Verdict::TrustAll)
            } else if !trust.handled {
                Some(Verdict::ProxyBlind)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn library_framework(library: usize) -> Option<Framework> {
    match knowledge::LIMITER_LIBRARIES[library].package {
        "flask-limiter" => Some(Framework::Flask),
        "slowapi" => Some(Framework::FastApi),
        "express-rate-limit" | "express-slow-down" => Some(Framework::Express),
        "@fastify/rate-limit" => Some(Framework::Fastify),
        "koa-ratelimit" => Some(Framework::Koa),
        "hono-rate-limiter" => Some(Framework::Hono),
        "@nestjs/throttler" => Some(Framework::NestJs),
        _ => None,
    }
}

/// express-rate-limit, express-slow-down, @fastify/rate-limit,
/// koa-ratelimit and @nestjs/throttler key on the framework's `req.ip`
/// unless given a key.
fn default_keys(project: &Project, file: FileId, trust: &Trust, out: &mut Vec<Finding>) {
    let facts = &project.files[file];
    for setup in &facts.limiter_setups {
        let package = knowledge::LIMITER_LIBRARIES[setup.library].package;
        let (option, key) = match package {
            "express-rate-limit" | "express-slow-down" => ("keyGenerator", "req.ip"),
            "@fastify/rate-limit" => ("keyGenerator", "request.ip"),
            "koa-ratelimit" => ("id", "ctx.ip"),
            "@nestjs/throttler" => ("getTracker", "req.ip"),
            _ => continue,
        };
        // A guard subclass that overrides `getTracker` picks its own key.
        let tracker_overridden = package == "@nestjs/throttler"
            && project
                .project_files(file)
                .any(|f| f.functions.iter().any(|func| func.name == "getTracker"));
        if tracker_overridden {
            continue;
        }
        let defaulted = |s: &crate::facts::LimiterSetup| {
            !s.options_unknown && !s.options.iter().any(|(k, _)| k == option)
        };
        if !defaulted(setup) {
            continue;
        }
        // One tracker (the guard's) serves every `forRoot` of the project:
        // reported once, at the first setup by path.
        if package == "@nestjs/throttler" {
            let nest_default =
                |s: &crate::facts::LimiterSetup| s.library == setup.library && defaulted(s);
            let first_path = project
                .project_files(file)
                .filter(|f| f.limiter_setups.iter().any(nest_default))
                .map(|f| &f.path)
                .min();
            let first_here = facts.limiter_setups.iter().find(|s| nest_default(s));
            if first_path != Some(&facts.path) || first_here.map(|s| s.span) != Some(setup.span) {
                continue;
            }
        }
        let framework = library_framework(setup.library);
        let Some(verdict) = judge(KeyForm::PeerTrusting, framework, trust) else {
            continue;
        };
        let key = ClientKey {
            form: KeyForm::PeerTrusting,
            text: key.to_string(),
            span: setup.span,
            header: None,
        };
        let mut f = finding(facts, &key, verdict, trust, framework, Vec::new());
        f.message = f.message.replacen(
            &format!("the limiter key `{}`", key.text),
            &format!(
                "the limiter key `{}` ({package}'s default, no `{option}`)",
                key.text
            ),
            1,
        );
        out.push(f);
    }
}

/// Library defaults the model finds (`model::tables::DEFAULT_KEYS`): the
/// only ones today are client-chosen, so the project's proxy trust does
/// not change the verdict.
fn model_default_keys(project: &Project, file: FileId, out: &mut Vec<Finding>) {
    let sites = project.per_run(|| crate::model::keys::default_keys(&project.model));
    for site in sites.iter().filter(|s| s.module.0 as usize == file) {
        if key_form(site.addr).is_spoofable() {
            out.push(Finding {
                rule_id: "RATE003",
                severity: Severity::Error,
                message: format!(
                    "this limiter is given no key, so it keys on {}, which the client writes: rotating the header gives a fresh bucket per request",
                    site.what
                ),
                path: project.files[file].path.clone(),
                span: Span::from(site.call.clone()),
                primary_label: "keyed on a client-chosen header by default".to_string(),
                labels: Vec::new(),
                help: fix(project.framework_for(file, None), is_python(&project.files[file]), true)
                    .to_string(),
            });
        }
    }
}

/// DRF's built-in throttles key anonymous requests on `get_ident`, which
/// returns the whole `X-Forwarded-For` header while `NUM_PROXIES` is unset
/// (`rest_framework/throttling.py`, checked on 3.18.3).
fn drf_throttles(project: &Project, file: FileId, trust: &Trust, out: &mut Vec<Finding>) {
    let facts = &project.files[file];
    if facts.drf_throttle_refs.is_empty() || trust.num_proxies {
        return;
    }
    // Throttles without rates do nothing.
    let summary = project.summary(file);
    if !summary.django_throttle_rates {
        return;
    }
    let subclasses = &summary.drf_ident_classes;
    for (name, span) in &facts.drf_throttle_refs {
        let builtin = matches!(
            name.as_str(),
            "AnonRateThrottle" | "UserRateThrottle" | "ScopedRateThrottle"
        );
        if !builtin && !subclasses.contains(name.as_str()) {
            continue;
        }
        out.push(Finding {
            rule_id: "RATE003",
            severity: Severity::Error,
            message: format!(
                "`{name}` keys anonymous requests on DRF's `get_ident`, which is the raw `X-Forwarded-For` header while `NUM_PROXIES` is unset: the client writes it, so rotating it gives a fresh bucket per request"
            ),
            path: facts.path.clone(),
            span: *span,
            primary_label: "keyed on the raw `X-Forwarded-For`".to_string(),
            labels: Vec::new(),
            help: "set `REST_FRAMEWORK[\"NUM_PROXIES\"]` to the number of proxies in front of the app (0 when clients connect directly)".to_string(),
        });
    }
}

fn finding(
    facts: &FileFacts,
    key: &ClientKey,
    verdict: Verdict,
    trust: &Trust,
    framework: Option<Framework>,
    mut labels: Vec<Label>,
) -> Finding {
    let text = &key.text;
    let (severity, message, label) = match verdict {
        Verdict::Spoofable => {
            let what = match key.form {
                KeyForm::ForwardedLeftmost => "the leftmost `X-Forwarded-For` entry".to_string(),
                KeyForm::ForwardedList => "the `X-Forwarded-For` list".to_string(),
                KeyForm::AccessRoute => {
                    "from `request.access_route`, the raw `X-Forwarded-For` list (ProxyFix does not change it)".to_string()
                }
                _ => "the raw `X-Forwarded-For` header".to_string(),
            };
            if key.form == KeyForm::ClientHeader {
                return Finding {
                    rule_id: "RATE003",
                    severity: Severity::Error,
                    message: format!(
                        "the limiter key `{text}` is a header the client sets to name itself: sending a new value gives a fresh bucket per request"
                    ),
                    path: facts.path.clone(),
                    span: key.span,
                    primary_label: "client-chosen limiter key".to_string(),
                    labels,
                    help: "key on what the client cannot choose: the authenticated account (user id, API key) or its address as resolved through your proxies".to_string(),
                };
            }
            let verb = if key.form == KeyForm::AccessRoute { "comes" } else { "is" };
            (
                Severity::Error,
                format!(
                    "the limiter key `{text}` {verb} {what}, which the client writes: rotating it gives a fresh bucket per request"
                ),
                "client-chosen limiter key",
            )
        }
        Verdict::TrustAll => {
            let (path, setting) = trust.all.expect("TrustAll needs a setting");
            labels.push(Label {
                path: path.clone(),
                span: setting.span,
                message: "every proxy hop is trusted here".to_string(),
            });
            (
                Severity::Error,
                format!(
                    "the limiter key `{text}` is the leftmost `X-Forwarded-For` entry because `{}` trusts every hop: the client writes it, so rotating it gives a fresh bucket per request",
                    setting.text
                ),
                "client-chosen limiter key",
            )
        }
        Verdict::ProxyBlind => (
            Severity::Warning,
            format!(
                "the limiter key `{text}` is the peer address and the project configures no proxy handling: behind a load balancer or reverse proxy every client shares the proxy's bucket"
            ),
            "keyed on the peer address",
        ),
    };
    let spoofable = !matches!(verdict, Verdict::ProxyBlind);
    Finding {
        rule_id: "RATE003",
        severity,
        message,
        path: facts.path.clone(),
        span: key.span,
        primary_label: label.to_string(),
        labels,
        help: fix(framework, is_python(facts), spoofable).to_string(),
    }
}

fn fix(framework: Option<Framework>, python: bool, spoofable: bool) -> &'static str {
    match framework {
        Some(Framework::Flask) => {
            "wrap the app in werkzeug's `ProxyFix(app.wsgi_app, x_for=1)` (one per proxy in front of it) and key on `request.remote_addr` (flask-limiter: `get_remote_address`)"
        }
        Some(Framework::FastApi | Framework::Starlette) => {
            "let the server resolve the client: run uvicorn with `--forwarded-allow-ips` set to your proxy's address (or add `ProxyHeadersMiddleware(app, trusted_hosts=[…])`) and key on `request.client.host`"
        }
        Some(Framework::Django) => {
            "key on `REMOTE_ADDR` set by a trusted proxy, or take the rightmost `X-Forwarded-For` entry your proxy appends (django-ratelimit: `RATELIMIT_IP_META_KEY`; DRF: `NUM_PROXIES`)"
        }
        Some(Framework::Express | Framework::NestJs) => {
            "set `app.set('trust proxy', 1)` (the number of proxies in front of the app, or their addresses) and key on `req.ip`"
        }
        Some(Framework::Fastify) => {
            "set `trustProxy` to your proxies' addresses (`Fastify({ trustProxy: '10.0.0.0/8' })`) and key on `request.ip`"
        }
        Some(Framework::Koa) => {
            "set `app.proxy = true` with `app.maxIpsCount = 1` (the number of proxies in front of the app) and key on `ctx.ip`"
        }
        Some(Framework::NextJs | Framework::Hono) | None if spoofable => {
            "key on the entry your own proxy appends: the rightmost `X-Forwarded-For` entry (the N-th from the right behind N proxies), never the leftmost or the whole header"
        }
        _ if python => {
            "configure your framework's proxy handling (werkzeug `ProxyFix`, uvicorn `--forwarded-allow-ips`) so the peer address is the client's, or key on the rightmost `X-Forwarded-For` entry your proxy appends"
        }
        _ => {
            "configure the framework's proxy trust with your proxies' hop count or addresses so the peer address is the client's, or key on the rightmost `X-Forwarded-For` entry your proxy appends"
        }
    }
}

/// Keys the project model resolves (second-generation core): library key
/// options, limiter methods that take the key and counting store commands,
/// with values followed through helpers, attributes and other modules.
/// Each is reported where its address is read (which may be another file
/// than the limiter's), and only where the passes above found nothing.
fn model_keys(project: &Project, file: FileId, trust: &Trust, out: &mut Vec<Finding>) {
    let by_origin = project.per_run(|| model_keys_by_origin(project));
    let Some(keys) = by_origin.get(&file) else {
        return;
    };
    let facts = &project.files[file];
    let module = project.model.module(crate::model::ModId(file as u32));
    // `hits.get(req.ip)` … `hits.set(req.ip, n)`: one key per function.
    let function_of = |span: Span| module.function_at(span.start);
    let text_of = |span: Span| crate::lang::shorten_key(module.text(&(span.start..span.end)));
    // The lines the file's RATE003 findings cover so far, and the key
    // texts reported per function: look-ups, not scans, because a
    // generated file may have a key in each of 50,000 views.
    let mut taken = super::TakenLines::new(project, file, "RATE003", out);
    let mut reported: HashMap<crate::ir::FuncId, Vec<String>> = HashMap::new();
    for f in out
        .iter()
        .filter(|f| f.rule_id == "RATE003" && f.path == facts.path)
    {
        reported
            .entry(function_of(f.span))
            .or_default()
            .push(text_of(f.span));
    }
    for key in keys {
        let framework = project.framework_for(file, None);
        let Some(form) = key.form else {
            taken.take(key.span);
            out.push(constant_key(project, file, key));
            continue;
        };
        let Some(verdict) = judge(form, framework, trust) else {
            continue;
        };
        if taken.is_taken(key.span) {
            continue;
        }
        let text = text_of(key.span);
        let texts = reported.entry(function_of(key.span)).or_default();
        if texts.iter().any(|t| t.contains(&text)) {
            continue;
        }
        texts.push(text.clone());
        taken.take(key.span);
        let client_key = ClientKey {
            form,
            text,
            span: key.span,
            header: None,
        };
        let mut labels = Vec::new();
        let inside = key.use_file == file
            && key.use_span.start <= key.span.start
            && key.span.end <= key.use_span.end;
        if !inside {
            labels.push(Label {
                path: project.files[key.use_file].path.clone(),
                span: key.use_span,
                message: format!("used as the limiter key (`{}`) here", key.via),
            });
        }
        out.push(finding(
            facts,
            &client_key,
            verdict,
            trust,
            framework,
            labels,
        ));
    }
}

/// `ratelimit.limit("api")`: every caller shares one bucket, so one busy
/// client exhausts it for all and the limit tells no client apart.
fn constant_key(project: &Project, file: FileId, key: &ModelKey) -> Finding {
    let module = project.model.module(crate::model::ModId(file as u32));
    let text = crate::lang::shorten_key(module.text(&(key.span.start..key.span.end)));
    Finding {
        rule_id: "RATE003",
        severity: Severity::Warning,
        message: format!(
            "the limiter key `{text}` is the same for every caller: all clients share one bucket, so one busy client uses up the limit for everyone (`{}`)",
            key.via
        ),
        path: project.files[file].path.clone(),
        span: key.span,
        primary_label: "one key for every client".to_string(),
        labels: Vec::new(),
        help: "key the limiter on the caller: the account or API key when there is one, else the client address your proxy setup makes trustworthy (`req.ip` with `trust proxy` set to your proxy hops, `request.remote_addr` behind ProxyFix); name the key `global` if one shared bucket is the intent".to_string(),
    }
}

/// A key site of the model, by the file where its address is read.
struct ModelKey {
    /// `None`: a literal key, the same for every caller.
    form: Option<KeyForm>,
    /// Where the address is read.
    span: Span,
    use_file: FileId,
    use_span: Span,
    via: String,
}

fn model_keys_by_origin(project: &Project) -> HashMap<FileId, Vec<ModelKey>> {
    let model = &project.model;
    let mut out: HashMap<FileId, Vec<ModelKey>> = HashMap::new();
    let limiting = &super::limiting_code(project).0;
    let mut seen: HashSet<(FileId, Span)> = HashSet::new();
    for mi in 0..model.modules.len() {
        let m = crate::model::ModId(mi as u32);
        for site in crate::model::keys::limiter_keys(model, m, limiting) {
            if site.constant {
                let span = Span::from(site.span.clone());
                if seen.insert((mi, span)) {
                    out.entry(mi).or_default().push(ModelKey {
                        form: None,
                        span,
                        use_file: mi,
                        use_span: site.use_span.clone().into(),
                        via: site.via.clone(),
                    });
                }
                continue;
            }
            let forms: Vec<crate::model::Addr> = site.addresses.iter().map(|(a, _)| *a).collect();
            let Some(form) = worst_form(&forms) else {
                continue;
            };
            // Keyed by account when there is one: the peer fallback for
            // anonymous callers is a choice, not judged.
            if site.identity && !form.is_spoofable() {
                continue;
            }
            // Every place that reads it: two routes that each pass the
            // header to one limiter helper each choose the key.
            for &(_, origin) in site.addresses.iter().filter(|(a, _)| key_form(*a) == form) {
                let (file, span) = if origin.module.0 as usize >= model.modules.len() {
                    (mi, Span::from(site.span.clone()))
                } else {
                    (origin.module.0 as usize, Span::from(origin.span()))
                };
                if !seen.insert((file, span)) {
                    continue;
                }
                out.entry(file).or_default().push(ModelKey {
                    form: Some(form),
                    span,
                    use_file: mi,
                    use_span: site.use_span.clone().into(),
                    via: site.via.clone(),
                });
            }
        }
    }
    out
}

fn key_form(a: crate::model::Addr) -> KeyForm {
    use crate::model::Addr;
    match a {
        Addr::ForwardedLeftmost => KeyForm::ForwardedLeftmost,
        Addr::ForwardedWhole => KeyForm::ForwardedWhole,
        Addr::ForwardedList => KeyForm::ForwardedList,
        Addr::ReqIp => KeyForm::PeerTrusting,
        Addr::Peer => KeyForm::PeerSocket,
        Addr::ForwardedRightmost => KeyForm::ForwardedSafe,
        Addr::RealIpHeader => KeyForm::Ambiguous,
        Addr::ClientHeader => KeyForm::ClientHeader,
    }
}

/// The form that decides the verdict when a key may carry several: one
/// the client writes wins, then the peer.
fn worst_form(addresses: &[crate::model::Addr]) -> Option<KeyForm> {
    let forms: Vec<KeyForm> = addresses.iter().map(|a| key_form(*a)).collect();
    if let Some(spoofable) = forms.iter().find(|f| f.is_spoofable()) {
        return Some(*spoofable);
    }
    // A key that prefers what the proxy wrote (rightmost entry, `X-Real-IP`)
    // and falls back to the peer is a deliberate choice: not judged.
    if forms
        .iter()
        .any(|f| matches!(f, KeyForm::ForwardedSafe | KeyForm::Ambiguous))
    {
        return None;
    }
    forms
        .iter()
        .find(|f| **f == KeyForm::PeerTrusting)
        .or_else(|| forms.iter().find(|f| **f == KeyForm::PeerSocket))
        .copied()
}

#[cfg(test)]
mod tests {
    use crate::engine::lint_sources;
    use crate::finding::Severity;

    fn rate003(files: &[(&str, &str)]) -> Vec<(String, usize, Severity)> {
        lint_sources(files)
            .into_iter()
            .filter(|f| f.finding.rule_id == "RATE003")
            .map(|f| {
                (
                    f.finding.path.display().to_string(),
                    f.start.line,
                    f.finding.severity,
                )
            })
            .collect()
    }

    const EXPRESS_DEFAULT: &str = "const rateLimit = require('express-rate-limit');\nexports.limiter = rateLimit({ windowMs: 60000, limit: 10, store });\n";

    #[test]
    fn express_trust_setting_decides_the_default_key() {
        let app = |trust: &str| {
            format!("const express = require('express');\nconst app = express();\n{trust}\n")
        };
        let none = app("");
        assert_eq!(
            rate003(&[("web/server.js", &none), ("web/limits.js", EXPRESS_DEFAULT)]),
            vec![("web/limits.js".into(), 2, Severity::Warning)]
        );
        let all = app("app.set('trust proxy', true);");
        assert_eq!(
            rate003(&[("web/server.js", &all), ("web/limits.js", EXPRESS_DEFAULT)]),
            vec![("web/limits.js".into(), 2, Severity::Error)]
        );
        for quiet in [
            "app.set('trust proxy', 2);",
            "app.set('trust proxy', 'loopback');",
            "app.set('trust proxy', (ip) => ip === '10.0.0.1');",
            "app.set('trust proxy', '1');",
            "app.set('trust proxy', process.env.TRUST);",
        ] {
            let src = app(quiet);
            assert!(
                rate003(&[("web/server.js", &src), ("web/limits.js", EXPRESS_DEFAULT)]).is_empty(),
                "{quiet}"
            );
        }
    }

    #[test]
    fn message_names_the_key_and_labels_the_use() {
        let src = "from flask import request, abort\nhits = {}\n@app.route('/')\ndef index():\n    ip = request.headers['X-Forwarded-For'].split(',')[0]\n    hits[ip] = hits.get(ip, 0) + 1\n    if hits[ip] > 10:\n        abort(429)\n";
        let findings = lint_sources(&[("a.py", src)]);
        let f = &findings
            .iter()
            .find(|f| f.finding.rule_id == "RATE003")
            .expect("a RATE003 finding")
            .finding;
        assert!(
            f.message
                .contains("`request.headers['X-Forwarded-For'].split(',')[0]` is the leftmost"),
            "{}",
            f.message
        );
        assert_eq!(f.severity, Severity::Error);
        assert!(src[f.labels[0].span.start..].starts_with("hits"));
        assert!(f.help.contains("ProxyFix"), "{}", f.help);
    }

    #[test]
    fn test_files_are_skipped() {
        let src = "from flask import request, abort\nhits = {}\n@app.route('/')\ndef index():\n    hits[request.access_route[0]] = 1\n    if hits[request.access_route[0]] > 1:\n        abort(429)\n";
        assert!(rate003(&[("tests/test_limits.py", src)]).is_empty());
        assert_eq!(rate003(&[("limits.py", src)]).len(), 1);
    }
}
