//! RATE001 unprotected-route: an HTTP route with no rate limiting at
//! route, router/blueprint or app level.
//!
//! Routes, objects (apps, routers, blueprints) and registrations come from
//! `RouteFacts`; this joins them across files: a router's protection is
//! what its mounts (and their parents, up to an app) put in front of it,
//! in registration order for Express, Koa and Hono. Precision first:
//! anything that cannot be resolved (an unknown middleware, a router whose
//! mount is not found, a computed path or list) makes the route
//! unresolved, which is silent and only counted in `--statistics`.

use super::{Rule, RuleOptions};
use crate::facts::*;
use crate::finding::{Finding, Severity};
use crate::knowledge;
use crate::lang::routes_js::join;
use crate::project::{FileId, FnId, Project};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub struct UnprotectedRoute;

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Protected(Evidence),
    /// Full path when known.
    Unprotected(Option<String>),
    Unresolved(Why, Evidence),
    Skipped(Evidence),
}

/// What decided a verdict, for `--routes`: the limiter, the middleware
/// that cannot be read or the object whose mount is missing, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub what: String,
    /// File and byte offset of the registration, when there is one.
    pub at: Option<(FileId, usize)>,
}

fn ev(what: impl Into<String>, at: Option<(FileId, usize)>) -> Evidence {
    Evidence {
        what: what.into(),
        at,
    }
}

fn handler_limits(route: &RouteDecl) -> Evidence {
    ev(
        format!(
            "handler `{}` (or a function it calls) limits or answers 429",
            route.handler
        ),
        None,
    )
}

/// The first of `items` that limits, as `judge` says; those that cannot
/// be read are noted as the reason the verdict may stay unknown.
fn limiting_item<'i>(
    items: &'i [MwRef],
    at: (FileId, usize),
    unknown: &mut Option<Evidence>,
    judge: impl Fn(&MwRef) -> Mw,
    what: &str,
) -> Option<&'i MwRef> {
    for item in items {
        match judge(item) {
            Mw::Limiter => return Some(item),
            Mw::Unknown => note(
                unknown,
                || format!("{what} `{}` cannot be read", item.text),
                at,
            ),
            Mw::Plain => {}
        }
    }
    None
}

/// The first reason a route's protection cannot be known.
fn note(unknown: &mut Option<Evidence>, what: impl FnOnce() -> String, at: (FileId, usize)) {
    if unknown.is_none() {
        *unknown = Some(ev(what(), Some(at)));
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Why {
    /// The router's mount (or the owner object) was not found.
    Unmounted,
    /// A middleware, dependency or path cannot be read.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mw {
    Limiter,
    Plain,
    Unknown,
}

/// Route counts for `--statistics`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RouteStats {
    pub seen: usize,
    pub protected: usize,
    pub unprotected: usize,
    pub unresolved: usize,
    pub skipped: usize,
}

impl Rule for UnprotectedRoute {
    fn id(&self) -> &'static str {
        "RATE001"
    }

    fn check_file(
        &self,
        project: &Project,
        file: FileId,
        options: &RuleOptions,
        out: &mut Vec<Finding>,
    ) {
        let facts = &project.files[file];
        if facts.routes.routes.is_empty() || not_an_app(&facts.path) {
            return;
        }
        let cx = Cx::new(project, file, options);
        let mut seen_spans = HashSet::new();
        for route in &facts.routes.routes {
            let Status::Unprotected(full) = cx.judge(file, route) else {
                continue;
            };
            if !seen_spans.insert((route.span.start, route.method.clone())) {
                continue;
            }
            out.push(cx.finding(file, route, full));
        }
    }
}

/// One route as `--routes` lists it.
#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub file: FileId,
    pub span: crate::source::Span,
    pub framework: Framework,
    pub method: String,
    /// The full path when known, else the route's own path; `None` when
    /// computed.
    pub path: Option<String>,
    pub handler: String,
    pub status: Status,
    /// For unprotected routes: error for brute-force targets.
    pub severity: Option<Severity>,
}

/// Every route of every production file, with its verdict, in file order.
pub fn inventory(project: &Project, options: &RuleOptions) -> Vec<RouteEntry> {
    let mut entries = Vec::new();
    for (file, facts) in project.files.iter().enumerate() {
        if facts.routes.routes.is_empty() || not_an_app(&facts.path) {
            continue;
        }
        let cx = Cx::new(project, file, options);
        for route in &facts.routes.routes {
            let status = cx.judge(file, route);
            let full = match &status {
                Status::Unprotected(full) => full.clone(),
                _ => None,
            };
            let path = cx.full_path(file, route, full);
            let severity = matches!(status, Status::Unprotected(_))
                .then(|| cx.severity(route, path.as_deref()));
            entries.push(RouteEntry {
                file,
                span: route.span,
                framework: route.framework,
                method: route.method.clone(),
                path,
                handler: route.handler.clone(),
                status,
                severity,
            });
        }
    }
    entries
}

/// Counts over every production file with routes.
pub fn statistics(project: &Project, options: &RuleOptions) -> RouteStats {
    let mut stats = RouteStats::default();
    for route in inventory(project, options) {
        stats.seen += 1;
        match route.status {
            Status::Protected(_) => stats.protected += 1,
            Status::Unprotected(_) => stats.unprotected += 1,
            Status::Unresolved(..) => stats.unresolved += 1,
            Status::Skipped(_) => stats.skipped += 1,
        }
    }
    stats
}

/// Test suites, documentation snippets and the frameworks' own source
/// (Django's admin urls, Express's router): code that serves no one's
/// traffic, or that defines a framework rather than uses it. Judged on the
/// path below the project root, so absolute paths work too.
fn not_an_app(path: &std::path::Path) -> bool {
    if knowledge::is_test_path(path) {
        return true;
    }
    const MARKERS: &[&str] = &[
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "package.json",
        "manage.py",
        "requirements.txt",
        ".git",
    ];
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = abs
        .ancestors()
        .skip(1)
        .find(|d| MARKERS.iter().any(|m| d.join(m).exists()));
    let rel = match root {
        Some(r) => abs.strip_prefix(r).unwrap_or(&abs).to_path_buf(),
        None => path.to_path_buf(),
    };
    if knowledge::is_test_path(&rel) {
        return true;
    }
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase());
    let first = parts.next().unwrap_or_default();
    let first = if first == "src" || first == "lib" {
        parts.next().unwrap_or_default()
    } else {
        first
    };
    matches!(
        first.as_str(),
        "docs"
            | "docs_src"
            | "doc"
            | "documentation"
            | "django"
            | "flask"
            | "fastapi"
            | "starlette"
            | "rest_framework"
            | "quart"
            | "express"
            | "koa"
            | "fastify"
            | "hono"
            | "router"
    ) || rel.components().any(|c| c.as_os_str() == "node_modules")
}

/// Last path segments skipped by default (RULES.md: health, metrics and
/// static files).
const HEALTH: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "ready",
    "readyz",
    "live",
    "livez",
    "metrics",
    "ping",
    "favicon.ico",
    "robots.txt",
];

const BRUTE_FORCE: &[&str] = &[
    "login", "signin", "auth", "token", "password", "reset", "otp", "mfa", "2fa", "verify",
    "register", "signup", "forgot", "magic",
];

/// Packages whose middleware, decorators and dependencies never limit rates.
const PLAIN_MODULES: &[&str] = &[
    // JavaScript
    "express",
    "body-parser",
    "cors",
    "helmet",
    "morgan",
    "compression",
    "cookie-parser",
    "express-session",
    "passport",
    "multer",
    "serve-static",
    "serve-favicon",
    "method-override",
    "connect-flash",
    "csurf",
    "express-validator",
    "http-errors",
    "path",
    "pino-http",
    "express-winston",
    "hpp",
    "xss-clean",
    "express-mongo-sanitize",
    "@koa/cors",
    "koa-bodyparser",
    "koa-body",
    "koa-static",
    "koa-logger",
    "koa-helmet",
    "koa-compress",
    "koa-session",
    "koa-mount",
    "koa-views",
    "koa-json",
    "@koa/router",
    "koa-router",
    "koa",
    "hono",
    "express-jwt",
    "jsonwebtoken",
    "express-fileupload",
    "response-time",
    "errorhandler",
    "swagger-ui-express",
    "connect-timeout",
    "express-openid-connect",
    "fastify",
    "@fastify/cors",
    "@fastify/helmet",
    "@fastify/cookie",
    "@fastify/jwt",
    "@fastify/static",
    "@fastify/multipart",
    "@fastify/formbody",
    "@fastify/swagger",
    "@fastify/swagger-ui",
    "@fastify/sensible",
    "@fastify/auth",
    "@nestjs/common",
    "@nestjs/passport",
    "express-async-handler",
    "celebrate",
    "joi",
    "zod",
    // Python
    "flask",
    "flask_login",
    "flask_jwt_extended",
    "functools",
    "flask_cors",
    "flask_caching",
    "werkzeug",
    "flask_httpauth",
    "flask_security",
    "flask_wtf",
    "fastapi",
    "starlette",
    "pydantic",
    "typing",
    "flask_principal",
    "flask_restful",
    "flask_smorest",
    "django",
    "rest_framework",
    "sqlalchemy",
    "jwt",
    "fastapi_users",
    "contextlib",
    "asyncio",
    "flask_cache",
    "flask_compress",
    "authlib",
    "sentry_sdk",
    "prometheus_client",
];

/// Packages that limit rates although their names do not say so: never
/// taken for plain middleware.
const LIMITERS_NAMED_OTHERWISE: &[&str] = &["arcjet", "@arcjet", "ddos", "limits", "slowapi"];

/// The names of the project's flask-limiter `Limiter`s when none is ever
/// attached to an app; empty when one is, or may be (any `init_app(`
/// call, `Limiter(app, …)`, `Limiter(…, app=…)`).
fn unapplied_flask_limiters(project: &Project, files: &[FileId]) -> HashSet<String> {
    let mut names = HashSet::new();
    for &fi in files {
        let f = &project.files[fi];
        if !f.lang.is_some_and(|l| l.is_python()) {
            continue;
        }
        // Attached, or maybe: `Limiter(app=…)` / `limiter.init_app(app)`,
        // an app handed to any `x.init_app(app)`, any `init_app` call.
        let maybe_attached = f.routes.uses.iter().any(|u| {
            u.items
                .iter()
                .any(|i| i.name == "__flask_limiter__" || i.text.ends_with("init_app"))
        }) || f
            .functions
            .iter()
            .any(|func| func.calls.iter().any(|c| &*c.callee == "init_app"));
        if maybe_attached {
            return HashSet::new();
        }
        let source = &project.model.module(crate::model::ModId(fi as u32)).source;
        let app_first = source.match_indices("Limiter(").any(|(at, m)| {
            let rest = source[at + m.len()..].trim_start();
            let first: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            first.contains("app")
        });
        if source.contains("init_app(") || app_first {
            return HashSet::new();
        }
        let from_flask_limiter = f
            .imports
            .iter()
            .any(|i| i.local == "Limiter" && i.module.starts_with("flask_limiter"));
        for (name, callee) in &f.routes.inits {
            if from_flask_limiter && callee.rsplit('.').next() == Some("Limiter") {
                names.insert(name.clone());
            }
        }
    }
    names
}

/// Python builtins a hook lambda may call.
const PYTHON_BUILTINS: &[&str] = &[
    "setattr",
    "getattr",
    "delattr",
    "hasattr",
    "print",
    "len",
    "dict",
    "list",
    "str",
    "int",
    "isinstance",
    "vars",
    "id",
];

/// Words that say a package may guard against abuse (a security bundle,
/// a bot shield, a gateway): what it does stays unknown.
fn may_protect(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "secur", "protect", "guard", "shield", "defen", "firewall", "waf", "abuse", "bot", "spam",
        "block", "ban", "gate", "quota", "flood", "ddos", "captcha", "limit",
    ];
    let n = name.to_ascii_lowercase();
    WORDS.iter().any(|w| n.contains(w))
}

fn plain_module(module: &str) -> bool {
    PLAIN_MODULES.iter().any(|m| {
        module == *m
            || module.starts_with(&format!("{m}."))
            || module.starts_with(&format!("{m}/"))
            || (m.starts_with('@') && module.starts_with(m))
    }) || module.starts_with("hono/")
        || module.starts_with("node:")
}

/// A module that names a project file (relative, or a Python package path
/// that may be this project's).
fn project_like_module(module: &str, python: bool) -> bool {
    module.starts_with('.')
        || module.starts_with('/')
        || module.starts_with("@/")
        || module.starts_with("~/")
        || module.starts_with("src/")
        || (python && !plain_module(module))
}

struct Cx<'p> {
    project: &'p Project,
    options: &'p RuleOptions,
    shared: Arc<Shared>,
}

/// What RATE001 needs to know about a whole project (one language
/// family), computed once per project and shared by all its route files.
#[derive(Default)]
struct Shared {
    /// Something in the project limits rates (a library, a named function,
    /// a 429): without it, a router whose mount is not found is still
    /// unprotected.
    any_limiter: bool,
    globals: Vec<GlobalGuard>,
    flask_config_default: bool,
    slowapi_middleware: bool,
    drf_default: bool,
    django_middleware_limits: bool,
    /// Files with a Next.js `middleware.ts`.
    next_middleware: Vec<FileId>,
    /// Folder names and file stems of the project's files: a bare JS
    /// module whose first segment is none of them comes from outside the
    /// project (path aliases may name any folder).
    local_names: HashSet<String>,
    /// Names bound to flask-limiter `Limiter`s when the project never
    /// attaches one to an app (no `app=`, no `init_app`): flask-limiter
    /// then skips every limit, so their decorators protect nothing.
    unapplied_flask_limiters: HashSet<String>,
    /// What Python can import at the top level from this project: the
    /// folders and modules whose folder is not a package.
    python_tops: HashSet<String>,
    files: Vec<FileId>,
    file_set: HashSet<FileId>,
    /// Registrations (file, index in `routes.uses`) by their owner's text.
    uses_by_owner: HashMap<String, Vec<(FileId, usize)>>,
    /// Registrations by the object they are made on: (file, local name).
    uses_by_object: HashMap<(FileId, String), Vec<(FileId, usize)>>,
    /// Registrations that mount an object, by that object.
    mounts_by_object: HashMap<(FileId, String), Vec<(FileId, usize)>>,
    /// Project methods by their class name.
    methods_by_class: HashMap<String, Vec<FnId>>,
    /// `item_object` of every registration item, by file, item text and
    /// name (judging asks for them once per route).
    item_objects: HashMap<FileId, HashMap<ItemKey, Option<(FileId, String)>>>,
}

type ItemKey = (String, String, bool);

fn item_key(item: &MwRef) -> ItemKey {
    (
        item.text.clone(),
        item.name.clone(),
        item.function.is_some(),
    )
}

impl std::ops::Deref for Cx<'_> {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl<'p> Cx<'p> {
    fn new(project: &'p Project, file: FileId, options: &'p RuleOptions) -> Cx<'p> {
        let python = project.files[file].lang.is_some_and(|l| l.is_python());
        let shared = project.per_project(file, u64::from(python), || {
            Self::shared(project, file, options)
        });
        Cx {
            project,
            options,
            shared,
        }
    }

    fn shared(project: &'p Project, file: FileId, options: &'p RuleOptions) -> Shared {
        let files: Vec<FileId> = project.project_file_ids(file).collect();
        let python = project.files[file].lang.is_some_and(|l| l.is_python());
        let mut cx = Shared {
            any_limiter: false,
            globals: Vec::new(),
            flask_config_default: !matches!(
                project.config_setting(file, &["RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION"]),
                crate::project::ConfigSetting::Absent
            ),
            slowapi_middleware: false,
            drf_default: false,
            django_middleware_limits: false,
            next_middleware: Vec::new(),
            file_set: files.iter().copied().collect(),
            files,
            ..Shared::default()
        };
        let packages: HashSet<&std::path::Path> = cx
            .files
            .iter()
            .map(|&fi| project.files[fi].path.as_path())
            .filter(|p| p.file_name().is_some_and(|n| n == "__init__.py"))
            .filter_map(|p| p.parent())
            .collect();
        for &fi in &cx.files {
            let f = &project.files[fi];
            for part in f.path.components() {
                let part = std::path::Path::new(part.as_os_str());
                if let Some(stem) = part.file_stem() {
                    cx.local_names.insert(stem.to_string_lossy().into_owned());
                }
            }
            // The outermost package above the file (else the module
            // itself) and every folder above that: any of them may be a
            // source root's child (folders without `__init__.py` are
            // namespace packages). Names inside a package are not.
            let outermost = f
                .path
                .ancestors()
                .skip(1)
                .take_while(|d| packages.contains(d))
                .last()
                .unwrap_or(f.path.as_path());
            for part in outermost.components() {
                let part = std::path::Path::new(part.as_os_str());
                if let Some(stem) = part.file_stem() {
                    cx.python_tops.insert(stem.to_string_lossy().into_owned());
                }
            }
            // Middleware classes are looked up in both language families.
            for (k, func) in f.functions.iter().enumerate() {
                if let Some(class) = &func.class {
                    cx.methods_by_class
                        .entry(class.clone())
                        .or_default()
                        .push((fi, k));
                }
            }
            if f.lang.is_some_and(|l| l.is_python()) != python {
                continue;
            }
            cx.globals.extend(f.routes.global.iter().cloned());
            cx.drf_default |= f.django.default_throttle_classes.is_some();
            if f.routes.next_middleware.is_some() {
                cx.next_middleware.push(fi);
            }
            let uses_limit = |t: &str| {
                knowledge::is_limiter_name(t)
                    || options.limiter_names.iter().any(|n| t.contains(n.as_str()))
            };
            cx.slowapi_middleware |= f
                .routes
                .uses
                .iter()
                .flat_map(|u| &u.items)
                .chain(f.routes.objects.iter().flat_map(|o| &o.guards))
                .any(|i| i.name.starts_with("SlowAPI"));
            cx.django_middleware_limits |= f.django.installed_apps.is_some()
                && f.config_names.iter().any(|n| n == "RATELIMIT_MIDDLEWARE");
            cx.any_limiter |= !f.limiter_setups.is_empty()
                || !f.routes.global.is_empty()
                || f.imports
                    .iter()
                    .any(|i| uses_limit(&i.module) || uses_limit(&i.local))
                || f.functions.iter().any(|func| {
                    func.calls_limiter || func.answers_rate_limit_429 || uses_limit(&func.name)
                })
                || !f.django.ratelimit_uses.is_empty()
                || !f.django.throttle_class_uses.is_empty()
                || f.django.default_throttle_classes.is_some()
                || f.routes
                    .routes
                    .iter()
                    .any(|r| r.guards.iter().any(|g| uses_limit(&g.text)));
        }
        if python {
            cx.unapplied_flask_limiters = unapplied_flask_limiters(project, &cx.files);
        }
        // Index the registrations; resolving objects needs the context.
        let mut indexed = Cx {
            project,
            options,
            shared: Arc::new(cx),
        };
        let index = indexed.index_uses();
        let mut item_objects: HashMap<FileId, HashMap<ItemKey, Option<(FileId, String)>>> =
            HashMap::new();
        for &fi in &indexed.files {
            for u in &project.files[fi].routes.uses {
                for item in &u.items {
                    let resolved = indexed.resolve_item_object(fi, item);
                    item_objects
                        .entry(fi)
                        .or_default()
                        .insert(item_key(item), resolved);
                }
            }
        }
        let shared = Arc::get_mut(&mut indexed.shared).expect("not shared yet");
        shared.item_objects = item_objects;
        (
            shared.uses_by_owner,
            shared.uses_by_object,
            shared.mounts_by_object,
        ) = index;
        Arc::try_unwrap(indexed.shared).unwrap_or_default()
    }

    #[allow(clippy::type_complexity)]
    fn index_uses(
        &self,
    ) -> (
        HashMap<String, Vec<(FileId, usize)>>,
        HashMap<(FileId, String), Vec<(FileId, usize)>>,
        HashMap<(FileId, String), Vec<(FileId, usize)>>,
    ) {
        let mut by_owner: HashMap<String, Vec<(FileId, usize)>> = HashMap::new();
        let mut by_object: HashMap<(FileId, String), Vec<(FileId, usize)>> = HashMap::new();
        let mut mounts: HashMap<(FileId, String), Vec<(FileId, usize)>> = HashMap::new();
        for &fi in &self.files {
            for (ui, u) in self.project.files[fi].routes.uses.iter().enumerate() {
                by_owner.entry(u.owner.clone()).or_default().push((fi, ui));
                by_object
                    .entry((fi, u.owner.clone()))
                    .or_default()
                    .push((fi, ui));
                if let Some(target) = self.resolve_object(fi, &u.owner, 0) {
                    if target.0 != fi {
                        by_object.entry(target).or_default().push((fi, ui));
                    }
                }
                let mut targets: Vec<(FileId, String)> = u
                    .items
                    .iter()
                    .filter_map(|i| self.resolve_item_object(fi, i))
                    // A router's own registrations do not mount it.
                    .filter(|(tf, tn)| !(*tf == fi && *tn == u.owner))
                    .collect();
                targets.dedup();
                for target in targets {
                    let entry = mounts.entry(target).or_default();
                    if entry.last() != Some(&(fi, ui)) {
                        entry.push((fi, ui));
                    }
                }
            }
        }
        // Lists are in registration order (files in project order, then
        // registrations within a file), as the judging expects.
        (by_owner, by_object, mounts)
    }

    /// Names that say what else a middleware does (authentication, parsing,
    /// logging): not a limiter, even when its module cannot be read.
    fn clearly_not_limiter(&self, name: &str) -> bool {
        let n = name.to_ascii_lowercase();
        !self.limiterish(name)
            && [
                "auth",
                "user",
                "session",
                "login",
                "cors",
                "log",
                "json",
                "body",
                "pars",
                "cookie",
                "csrf",
                "helmet",
                "static",
                "compress",
                "valid",
                "upload",
                "multer",
                "cache",
                "error",
                "i18n",
                "locale",
                "tenant",
                "trace",
                "requestid",
                "metric",
                "timing",
                "jwt",
                "passport",
                "permission",
                "role",
                "admin",
                "owner",
                "db",
                "swagger",
                "favicon",
                "morgan",
                "sanitize",
                "schema",
                "header",
            ]
            .iter()
            .any(|w| n.contains(w))
    }

    /// A package from outside the project: not relative, not an alias,
    /// and its first segment names no folder or file of the project (a
    /// module of this project that is not in the run stays unknown).
    fn third_party(&self, module: &str, python: bool) -> bool {
        if module.is_empty()
            || project_like_module(module, false)
            || module.starts_with('#')
            || LIMITERS_NAMED_OTHERWISE.iter().any(|p| {
                module == *p
                    || module.starts_with(&format!("{p}/"))
                    || module.starts_with(&format!("{p}."))
            })
        {
            return false;
        }
        let top = if python {
            module.split('.').next()
        } else {
            module.trim_start_matches('@').split('/').next()
        };
        let local = if python {
            &self.python_tops
        } else {
            &self.local_names
        };
        top.is_some_and(|t| !t.is_empty() && !local.contains(t))
    }

    fn limiterish(&self, text: &str) -> bool {
        knowledge::is_limiter_name(text)
            || self
                .options
                .limiter_names
                .iter()
                .any(|n| !n.is_empty() && text.contains(n.as_str()))
    }

    fn skipped(&self, path: &str) -> bool {
        let last = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        // Also anything below a health check (`/health/db`, `/healthz/live`).
        let below_health = path.split('/').any(|segment| {
            matches!(
                segment.to_ascii_lowercase().as_str(),
                "health" | "healthz" | "healthcheck" | "readyz" | "livez"
            )
        });
        if HEALTH.contains(&last.as_str()) || below_health {
            return true;
        }
        self.options
            .skip_routes
            .iter()
            .any(|s| route_pattern_matches(s, path))
    }

    fn global_for(&self, framework: Framework) -> Option<&GlobalGuard> {
        self.globals
            .iter()
            .find(|g| g.framework == framework && !g.opt_in_only)
    }

    // ------------------------------------------------------------ judging

    fn judge(&self, file: FileId, route: &RouteDecl) -> Status {
        let here = (file, route.span.start);
        if let Some(p) = &route.path {
            if self.skipped(p) {
                return Status::Skipped(ev(
                    "a health, metrics or static path (or `skip-routes`)",
                    None,
                ));
            }
        }
        if route.opt_out {
            return Status::Skipped(ev("opted out of rate limiting", Some(here)));
        }
        let mut unknown = route
            .dynamic_guards
            .then(|| ev("its middleware list is computed", Some(here)));
        match route.framework {
            Framework::Django => return self.judge_django(file, route),
            Framework::NextJs => return self.judge_next(file, route),
            _ => {}
        }
        for g in &route.guards {
            // `@limiter.limit(…)` of a flask-limiter never attached to the app.
            if route.framework == Framework::Flask
                && self
                    .unapplied_flask_limiters
                    .iter()
                    .any(|l| g.text.starts_with(&format!("{l}.")))
            {
                continue;
            }
            // A Flask-RESTful resource: what its class declares.
            if g.name == "__resource__" {
                for (ufile, u) in self.uses_on_any(&g.text) {
                    let at = (ufile, u.offset);
                    if u.dynamic {
                        note(
                            &mut unknown,
                            || "the resource's decorators are computed".into(),
                            at,
                        );
                    }
                    let judge = |i: &MwRef| self.classify(ufile, i, 0);
                    let what = "resource decorator";
                    if let Some(item) = limiting_item(&u.items, at, &mut unknown, judge, what) {
                        return Status::Protected(ev(
                            format!("`{}` in the resource's decorators", item.text),
                            Some(at),
                        ));
                    }
                }
                continue;
            }
            match self.classify_guard(file, g, route.framework) {
                Mw::Limiter => {
                    return Status::Protected(ev(format!("route-level `{}`", g.text), Some(here)))
                }
                Mw::Unknown => note(
                    &mut unknown,
                    || format!("route middleware `{}` cannot be read", g.text),
                    here,
                ),
                Mw::Plain => {}
            }
        }
        if let Some(f) = self.handler_function(file, route) {
            if self.fn_protects(f, 0) {
                return Status::Protected(handler_limits(route));
            }
        }
        let global = match route.framework {
            Framework::Flask => {
                (self.global_for(Framework::Flask).is_some() || self.flask_config_default)
                    && self.unapplied_flask_limiters.is_empty()
                    && self.flask_limiter_attached(file, route)
            }
            Framework::FastApi => {
                self.slowapi_middleware && self.global_for(Framework::FastApi).is_some()
            }
            // SlowAPIMiddleware finds only top-level routes' endpoints: a
            // route inside a `Mount` is skipped (slowapi 0.1.9 `_find_route_handler`).
            Framework::Starlette => {
                self.slowapi_middleware
                    && self.global_for(Framework::FastApi).is_some()
                    && !route.guards.iter().any(|g| g.name == "__in_mount__")
                    && route
                        .owner
                        .as_deref()
                        .is_none_or(|o| self.mounts_of(file, o).is_empty())
            }
            fw => self.global_for(fw).is_some(),
        };
        if global {
            let what = match self.global_for(route.framework) {
                Some(g) => format!("app-wide `{}`", g.what),
                None => "app-wide default limits in the configuration".to_string(),
            };
            return Status::Protected(ev(what, None));
        }
        let status = match &route.owner {
            None => Status::Unprotected(route.path.clone()),
            Some(owner) => {
                let ordered = matches!(
                    route.framework,
                    Framework::Express | Framework::Koa | Framework::Hono
                );
                let offset = if ordered {
                    route.span.start
                } else {
                    usize::MAX
                };
                let mut visited = HashSet::new();
                self.judge_object(file, owner, offset, route.path.clone(), &mut visited, 0)
            }
        };
        match (status, unknown) {
            // Its full path is a health check (`/health` + `/check`).
            (Status::Unprotected(Some(full)), _) if self.skipped(&full) => Status::Skipped(ev(
                "a health, metrics or static path (or `skip-routes`)",
                None,
            )),
            (Status::Unprotected(_), Some(why)) => Status::Unresolved(Why::Unknown, why),
            // Nothing limits anywhere: a router whose mount is not found is
            // unprotected all the same. Only for a known app or router: an
            // owner that resolves to nothing may not be a server at all
            // (`import api from './api'; api.get('/users', config)`).
            (Status::Unresolved(Why::Unmounted, _), None)
                if !self.any_limiter
                    && route
                        .owner
                        .as_deref()
                        .is_some_and(|o| self.resolve_object(file, o, 0).is_some()) =>
            {
                Status::Unprotected(None)
            }
            (s, _) => s,
        }
    }

    /// Protection in front of routes of `owner` in `file` registered at
    /// `offset`; `suffix` is the route's path below the object.
    fn judge_object(
        &self,
        file: FileId,
        owner: &str,
        offset: usize,
        suffix: Option<String>,
        visited: &mut HashSet<(FileId, String)>,
        depth: usize,
    ) -> Status {
        let unmounted = || {
            Status::Unresolved(
                Why::Unmounted,
                ev(format!("`{owner}` is not found mounted on an app"), None),
            )
        };
        if depth > 8 || !visited.insert((file, owner.to_string())) {
            return unmounted();
        }
        let Some((ofile, oname)) = self.resolve_object(file, owner, 0) else {
            return unmounted();
        };
        let facts = &self.project.files[ofile];
        let Some(obj) = facts.routes.objects.iter().find(|o| o.name == oname) else {
            return unmounted();
        };
        let ordered = matches!(
            obj.framework,
            Framework::Express | Framework::Koa | Framework::Hono
        );
        let mut unknown = obj
            .dynamic_guards
            .then(|| ev(format!("`{oname}`'s middleware list is computed"), None));
        for g in &obj.guards {
            match self.classify(ofile, g, 0) {
                Mw::Limiter => {
                    return Status::Protected(ev(format!("`{}` on `{oname}`", g.text), None))
                }
                Mw::Unknown if unknown.is_none() => {
                    unknown = Some(ev(
                        format!("middleware `{}` on `{oname}` cannot be read", g.text),
                        None,
                    ))
                }
                _ => {}
            }
        }
        // Registrations on the object: in this file and in any file that
        // imports it (`from app import app; app.before_request(...)`).
        for (ufile, u) in self.uses_on(ofile, &oname) {
            let at = (ufile, u.offset);
            // Order: within the registering file by offset; a file that
            // imports the object runs after the object's own module body,
            // so its middleware misses routes registered there. Other
            // combinations have no known order and count.
            if ordered
                && ((ufile == file && u.offset >= offset) || (ufile != file && file == ofile))
            {
                continue;
            }
            // `None`: the registration's path or the route's cannot be
            // compared (one of them is computed).
            let applies = match (&u.path, &suffix) {
                (UsePath::None, _) => Some(true),
                (UsePath::Literal(p), Some(s)) => Some(path_covers(p, s)),
                (UsePath::Literal(p), None) if path_covers(p, "") => Some(true),
                (UsePath::Literal(_), None) | (UsePath::Dynamic, _) => None,
            };
            let has_router =
                u.mount || u.items.iter().any(|i| self.item_object(ufile, i).is_some());
            if has_router {
                // A setup function given the app (`security(app)`) registers
                // on the app itself: its middleware covers what comes after.
                // In Python frameworks hooks and middleware cover every
                // route whenever they are added.
                let python = matches!(
                    obj.framework,
                    Framework::Flask | Framework::FastApi | Framework::Starlette
                );
                let fastify = obj.framework == Framework::Fastify;
                if (ordered || python || fastify) && applies == Some(true) {
                    // A limiter plugin of this project that is not found.
                    let unseen_plugin = fastify
                        && u.items.first().is_some_and(|i| {
                            self.limiterish(&i.text) && self.item_object(ufile, i).is_none()
                        });
                    if unseen_plugin {
                        note(
                            &mut unknown,
                            || format!("plugin `{}` is not found", u.items[0].text),
                            at,
                        );
                    }
                    match self.setup_function_limits(ufile, u) {
                        Some(Mw::Limiter) => {
                            return Status::Protected(ev(
                                format!(
                                    "a limiter registered on `{}` by the function given it",
                                    u.owner
                                ),
                                Some(at),
                            ))
                        }
                        Some(Mw::Unknown) => note(
                            &mut unknown,
                            || {
                                format!(
                                    "what the function given `{}` registers cannot be read",
                                    u.owner
                                )
                            },
                            at,
                        ),
                        _ => {}
                    }
                }
                continue; // a mount: judged from the mounted side
            }
            match applies {
                Some(true) => {}
                Some(false) => continue,
                // Only a limiter (or what may be one) there leaves the
                // verdict open; plain middleware changes nothing.
                None => {
                    let maybe_limits = u.dynamic
                        || u.items
                            .iter()
                            .any(|i| self.classify(ufile, i, 0) != Mw::Plain);
                    if maybe_limits {
                        note(
                            &mut unknown,
                            || {
                                format!(
                                    "a middleware on `{}` covers a path that cannot be compared with this route's",
                                    u.owner
                                )
                            },
                            at,
                        );
                    }
                    continue;
                }
            }
            if u.dynamic {
                note(
                    &mut unknown,
                    || format!("a middleware list on `{}` is computed", u.owner),
                    at,
                );
            }
            let judge = |i: &MwRef| self.classify(ufile, i, 0);
            if let Some(item) = limiting_item(&u.items, at, &mut unknown, judge, "middleware") {
                return Status::Protected(ev(
                    format!("`{}` registered on `{}`", item.text, u.owner),
                    Some(at),
                ));
            }
        }
        let own = obj.prefix.clone();
        let mounts = self.mounts_of(ofile, &oname);
        if mounts.is_empty() {
            if obj.is_app {
                let path = suffix.map(|s| join(own.as_deref().unwrap_or(""), &s));
                return match unknown {
                    Some(why) => Status::Unresolved(Why::Unknown, why),
                    None => Status::Unprotected(path),
                };
            }
            return unmounted();
        }
        let mut result: Option<Status> = None;
        for (mfile, u) in mounts {
            let at = (mfile, u.offset);
            // A computed mount path leaves the route's full path unknown,
            // never its protection (RULES.md).
            let (prefix, prefix_known) = match &u.path {
                UsePath::Dynamic => (Some(String::new()), false),
                UsePath::Literal(p) => (Some(p.clone()), true),
                UsePath::None => (None, true),
            };
            // Flask's url_prefix at registration replaces the blueprint's.
            let local = if u.replaces_prefix && prefix.is_some() {
                None
            } else {
                own.clone()
            };
            let below = suffix
                .as_ref()
                .map(|s| join(local.as_deref().unwrap_or(""), s));
            let mut protected = None;
            let mut mount_unknown = u
                .dynamic
                .then(|| ev(format!("the mount of `{oname}` is computed"), Some(at)));
            for (k, item) in u.items.iter().enumerate() {
                if (u.mount && k == 0) || self.item_object(mfile, item).is_some() {
                    continue;
                }
                match self.classify(mfile, item, 0) {
                    Mw::Limiter => {
                        protected.get_or_insert(ev(
                            format!("`{}` where `{oname}` is mounted", item.text),
                            Some(at),
                        ));
                    }
                    Mw::Unknown => note(
                        &mut mount_unknown,
                        || format!("middleware `{}` cannot be read", item.text),
                        at,
                    ),
                    Mw::Plain => {}
                }
            }
            let status = match protected {
                Some(evidence) => Status::Protected(evidence),
                None => {
                    let parent_suffix = below
                        .filter(|_| prefix_known)
                        .map(|b| join(prefix.as_deref().unwrap_or(""), &b));
                    let mut v = visited.clone();
                    let parent = self.judge_object(
                        mfile,
                        &u.owner,
                        u.offset,
                        parent_suffix,
                        &mut v,
                        depth + 1,
                    );
                    match (parent, mount_unknown.or_else(|| unknown.clone())) {
                        (Status::Unprotected(_), Some(why)) => {
                            Status::Unresolved(Why::Unknown, why)
                        }
                        (s, _) => s,
                    }
                }
            };
            // Unprotected on any mount wins, then unresolved.
            result = Some(match (result, status) {
                (None, s) => s,
                (Some(s @ Status::Unprotected(_)), _) | (Some(_), s @ Status::Unprotected(_)) => s,
                (Some(s @ Status::Unresolved(..)), _) | (Some(_), s @ Status::Unresolved(..)) => s,
                (Some(s), _) => s,
            });
        }
        result.unwrap_or_else(unmounted)
    }

    /// Is flask-limiter attached (`Limiter(app=…)`, `init_app`) to the app
    /// this route ends up on? Unknown attachments count as attached.
    fn flask_limiter_attached(&self, file: FileId, route: &RouteDecl) -> bool {
        let attached: Vec<(FileId, &UseSite)> = self
            .files
            .iter()
            .flat_map(|&fi| {
                self.project.files[fi]
                    .routes
                    .uses
                    .iter()
                    .filter(|u| u.items.iter().any(|i| i.name == "__flask_limiter__"))
                    .map(move |u| (fi, u))
            })
            .collect();
        if attached.is_empty() {
            return true;
        }
        let Some(owner) = &route.owner else {
            return true;
        };
        let roots = self.root_apps(file, owner, 0);
        if roots.is_empty() {
            return true;
        }
        roots.iter().all(|(rf, rn)| {
            attached.iter().any(|(af, u)| {
                self.resolve_object(*af, &u.owner, 0)
                    .is_some_and(|(f, n)| f == *rf && &n == rn)
            })
        })
    }

    /// The apps an object is (transitively) mounted on.
    fn root_apps(&self, file: FileId, owner: &str, depth: usize) -> Vec<(FileId, String)> {
        let Some((of, on)) = self.resolve_object(file, owner, 0) else {
            return Vec::new();
        };
        if depth > 6 {
            return Vec::new();
        }
        let mounts = self.mounts_of(of, &on);
        if mounts.is_empty() {
            return vec![(of, on)];
        }
        mounts
            .into_iter()
            .flat_map(|(mf, u)| self.root_apps(mf, &u.owner, depth + 1))
            .collect()
    }

    /// The prefix `include("app.urls")` gives this urls module, joined up
    /// the include chain; `None` when nothing includes it.
    fn django_prefix(&self, file: FileId, depth: usize) -> Option<String> {
        if depth > 5 {
            return None;
        }
        for (ufile, u) in self.uses_on_any("django:include") {
            let (UsePath::Literal(prefix), Some(item)) = (&u.path, u.items.first()) else {
                continue;
            };
            if self.project.resolve_import(ufile, &item.text) == Some(file) {
                let above = self.django_prefix(ufile, depth + 1).unwrap_or_default();
                return Some(join(&above, prefix));
            }
        }
        None
    }

    /// What an Express function given the app registers on it as
    /// middleware (not routes): `Limiter` if a limiter.
    fn setup_function_limits(&self, file: FileId, u: &UseSite) -> Option<Mw> {
        let (tf, tn) = self.item_object(file, u.items.first()?)?;
        let obj = self.project.files[tf]
            .routes
            .objects
            .iter()
            .find(|o| o.name == tn)?;
        let setup_framework = matches!(
            obj.framework,
            Framework::Express | Framework::Flask | Framework::FastApi | Framework::Starlette
        ) || (obj.framework == Framework::Fastify && obj.shares_parent);
        if !obj.param_of || !setup_framework {
            return None;
        }
        let mut result = Mw::Plain;
        for (f2, u2) in self.uses_on(tf, &tn) {
            if u2.mount || u2.path != UsePath::None {
                continue;
            }
            for item in &u2.items {
                if self.item_object(f2, item).is_some() {
                    continue;
                }
                match self.classify(f2, item, 0) {
                    Mw::Limiter => return Some(Mw::Limiter),
                    Mw::Unknown => result = Mw::Unknown,
                    Mw::Plain => {}
                }
            }
        }
        Some(result)
    }

    fn judge_django(&self, file: FileId, route: &RouteDecl) -> Status {
        let here = (file, route.span.start);
        let drf_default = || ev("DRF `DEFAULT_THROTTLE_CLASSES`", None);
        let Some(view) = route.guards.first() else {
            return Status::Unresolved(Why::Unknown, ev("its view cannot be read", Some(here)));
        };
        if self.django_middleware_limits {
            return Status::Protected(ev("django-ratelimit's `RATELIMIT_MIDDLEWARE`", None));
        }
        // Project-wide middleware from the settings' MIDDLEWARE list.
        let mut mw_unknown = None;
        for (ufile, u) in self.uses_on_any("django:middleware") {
            let at = (ufile, u.offset);
            if u.dynamic {
                note(&mut mw_unknown, || "`MIDDLEWARE` is computed".into(), at);
            }
            let judge = |i: &MwRef| self.django_middleware(i);
            if let Some(item) = limiting_item(&u.items, at, &mut mw_unknown, judge, "middleware") {
                return Status::Protected(ev(format!("`{}` in `MIDDLEWARE`", item.text), Some(at)));
            }
        }
        if let Some(why) = mw_unknown {
            return Status::Unresolved(Why::Unknown, why);
        }
        let name = view.name.rsplit('.').next().unwrap_or("").to_string();
        let mut found = false;
        let mut drf = false;
        let mut explicit_none = false;
        for (ufile, u, own) in self.view_uses(&name) {
            found |= own;
            let at = Some((ufile, u.offset));
            for item in &u.items {
                match item.name.as_str() {
                    "__base__" => {}
                    "__drf__" => drf = true,
                    "no_throttle" => explicit_none = true,
                    "throttle_classes" => {
                        return Status::Protected(ev(format!("`throttle_classes` of `{name}`"), at))
                    }
                    _ => match self.classify(ufile, item, 0) {
                        Mw::Limiter => {
                            return Status::Protected(ev(
                                format!("`{}` on `{name}`", item.text),
                                at,
                            ))
                        }
                        // Django's own decorators are plain; others unknown.
                        Mw::Unknown => {
                            return Status::Unresolved(
                                Why::Unknown,
                                ev(format!("decorator `{}` cannot be read", item.text), at),
                            )
                        }
                        Mw::Plain => {}
                    },
                }
            }
        }
        // A view imported from Django or DRF itself (`LoginView`,
        // `PasswordChangeView`, `obtain_auth_token`): no limit of its own;
        // DRF's `ObtainAuthToken` even sets `throttle_classes = ()`.
        if !found {
            let f = &self.project.files[file];
            let root = view.name.split('.').next().unwrap_or("");
            let from_framework = f.imports.iter().any(|i| {
                (i.local == root || i.local == name)
                    && (i.module.starts_with("django.") || i.module.starts_with("rest_framework"))
            });
            if from_framework {
                let token_view = name == "obtain_auth_token" || name == "ObtainAuthToken";
                let drf_view = f.imports.iter().any(|i| {
                    (i.local == root || i.local == name) && i.module.starts_with("rest_framework")
                });
                let scoped_only = self
                    .globals
                    .iter()
                    .all(|g| g.framework != Framework::Django || g.opt_in_only)
                    && self
                        .globals
                        .iter()
                        .any(|g| g.framework == Framework::Django);
                if drf_view && !token_view && self.drf_default && !scoped_only {
                    return Status::Protected(drf_default());
                }
                return Status::Unprotected(route.path.clone());
            }
        }
        if !found {
            return if self.any_limiter {
                Status::Unresolved(
                    Why::Unmounted,
                    ev(format!("view `{}` is not found", view.name), None),
                )
            } else {
                Status::Unprotected(route.path.clone())
            };
        }
        let scoped_only = self
            .globals
            .iter()
            .any(|g| g.framework == Framework::Django && g.opt_in_only)
            && !self
                .globals
                .iter()
                .any(|g| g.framework == Framework::Django && !g.opt_in_only);
        if drf && self.drf_default && !explicit_none && !scoped_only {
            return Status::Protected(drf_default());
        }
        Status::Unprotected(route.path.clone())
    }

    /// What is declared on a Django view class or function and on its
    /// project base classes: (file, declaration, whether it is the view's
    /// own).
    fn view_uses(&self, name: &str) -> Vec<(FileId, &'p UseSite, bool)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut todo = vec![(name.to_string(), true)];
        while let Some((class, own)) = todo.pop() {
            if !seen.insert(class.clone()) || seen.len() > 8 {
                continue;
            }
            for (file, u) in self.uses_on_any(&format!("view:{class}")) {
                for base in u.items.iter().filter(|i| i.name == "__base__") {
                    let last = base.text.rsplit('.').next().unwrap_or("");
                    todo.push((last.to_string(), false));
                }
                out.push((file, u, own));
            }
        }
        out
    }

    /// A `MIDDLEWARE` entry: Django's own and well-known packages are plain;
    /// a project class limits if one of its methods does.
    fn django_middleware(&self, item: &MwRef) -> Mw {
        // django-ratelimit's middleware only turns `Ratelimited` into a
        // response; the limits are the decorators'.
        if item
            .text
            .ends_with("ratelimit.middleware.RatelimitMiddleware")
        {
            return Mw::Plain;
        }
        if self.limiterish(&item.text) {
            return Mw::Limiter;
        }
        let known = [
            "django.",
            "corsheaders.",
            "whitenoise.",
            "debug_toolbar.",
            "allauth.",
            "csp.",
            "django_otp.",
            "silk.",
            "simple_history.",
            "axes.",
        ];
        if known.iter().any(|k| item.text.starts_with(k))
            || item.text.rsplit_once('.').is_some_and(|(module, _)| {
                self.third_party(module, true) && !may_protect(&item.text)
            })
        {
            return Mw::Plain;
        }
        let methods = self.methods_by_class.get(&item.name);
        let found = methods.is_some_and(|m| !m.is_empty());
        for &f in methods.into_iter().flatten() {
            if self.fn_protects(f, 0) {
                return Mw::Limiter;
            }
        }
        if found || self.clearly_not_limiter(&item.name) {
            Mw::Plain
        } else {
            Mw::Unknown
        }
    }

    fn judge_next(&self, file: FileId, route: &RouteDecl) -> Status {
        let here = (file, route.span.start);
        if let Some(g) = route.guards.iter().find(|g| self.limiterish(&g.text)) {
            return Status::Protected(ev(format!("wrapped in `{}`", g.text), Some(here)));
        }
        // Wrappers around the handler (`withAuth(handler)`): a project one
        // may limit, a package's is judged by its name.
        for g in route
            .guards
            .iter()
            .filter(|g| g.name != "__library_handler__")
        {
            if route.handler_fn.is_none() {
                break;
            }
            match self.classify(file, g, 0) {
                Mw::Limiter => {
                    return Status::Protected(ev(format!("wrapped in `{}`", g.text), Some(here)))
                }
                Mw::Unknown => {
                    return Status::Unresolved(
                        Why::Unknown,
                        ev(format!("wrapper `{}` cannot be read", g.text), Some(here)),
                    )
                }
                Mw::Plain => {}
            }
        }
        let library = route.guards.iter().any(|g| g.name == "__library_handler__");
        match route.handler_fn {
            Some(f) if self.fn_protects((file, f), 0) => {
                return Status::Protected(handler_limits(route))
            }
            Some(_) => {}
            None if library => {}
            None => {
                return Status::Unresolved(
                    Why::Unknown,
                    ev("its handler cannot be read", Some(here)),
                )
            }
        }
        let path = route.path.clone().unwrap_or_default();
        let project: &'p Project = self.project;
        for (fi, m) in self.next_middleware.iter().filter_map(|&fi| {
            project.files[fi]
                .routes
                .next_middleware
                .as_ref()
                .map(|m| (fi, m))
        }) {
            if !m.limits {
                continue;
            }
            let at = Some((fi, 0));
            if m.dynamic_matcher {
                return Status::Unresolved(
                    Why::Unknown,
                    ev("the limiting `middleware` has a computed matcher", at),
                );
            }
            if m.matchers.is_empty() || m.matchers.iter().any(|p| matcher_covers(p, &path)) {
                return Status::Protected(ev("the Next.js `middleware` limits", at));
            }
        }
        Status::Unprotected(route.path.clone())
    }

    // --------------------------------------------------------- resolution

    /// Registrations on object `name` of `file`, from its own file and from
    /// files that import it.
    fn uses_on(&self, file: FileId, name: &str) -> Vec<(FileId, &'p UseSite)> {
        let key = (file, name.to_string());
        self.use_sites(self.uses_by_object.get(&key))
    }

    fn uses_on_any(&self, owner: &str) -> Vec<(FileId, &'p UseSite)> {
        self.use_sites(self.uses_by_owner.get(owner))
    }

    /// Where object `name` of `file` is mounted: (file, registration).
    fn mounts_of(&self, file: FileId, name: &str) -> Vec<(FileId, &'p UseSite)> {
        let key = (file, name.to_string());
        self.use_sites(self.mounts_by_object.get(&key))
    }

    fn use_sites(&self, ids: Option<&Vec<(FileId, usize)>>) -> Vec<(FileId, &'p UseSite)> {
        let project: &'p Project = self.project;
        ids.into_iter()
            .flatten()
            .map(|&(fi, ui)| (fi, &project.files[fi].routes.uses[ui]))
            .collect()
    }

    /// The router/app object an item of a registration names.
    fn item_object(&self, file: FileId, item: &MwRef) -> Option<(FileId, String)> {
        match self
            .item_objects
            .get(&file)
            .and_then(|m| m.get(&item_key(item)))
        {
            Some(known) => known.clone(),
            None => self.resolve_item_object(file, item),
        }
    }

    fn resolve_item_object(&self, file: FileId, item: &MwRef) -> Option<(FileId, String)> {
        let t = item.text.as_str();
        if let Some(rest) = t.strip_prefix("require(") {
            let module = crate::lang::syntax_unquote(rest.split(')').next().unwrap_or(""));
            let target = self.project.resolve_import(file, module)?;
            let local = self.export_local(target, "default")?;
            return self.project.files[target]
                .routes
                .objects
                .iter()
                .any(|o| o.name == local)
                .then_some((target, local));
        }
        if item.function.is_some() {
            return None;
        }
        // `auth.bp`: an object of an imported module.
        if let Some((module_local, attr)) = t.split_once('.') {
            let is_ident =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
            if is_ident(module_local) && is_ident(attr) {
                let f = &self.project.files[file];
                if let Some(import) = f.imports.iter().find(|i| i.local == module_local) {
                    let target = import
                        .name
                        .as_deref()
                        .and_then(|n| {
                            let sub = if import.module.ends_with('.') {
                                format!("{}{n}", import.module)
                            } else {
                                format!("{}.{n}", import.module)
                            };
                            self.project.resolve_import(file, &sub)
                        })
                        .or_else(|| self.project.resolve_import(file, &import.module));
                    if let Some(target) = target {
                        return self.resolve_object(target, attr, 1);
                    }
                }
            }
        }
        self.resolve_object(file, &item.name, 0)
    }

    fn export_local(&self, file: FileId, exported: &str) -> Option<String> {
        let f = &self.project.files[file];
        if let Some((_, l)) = f.routes.exports.iter().find(|(e, _)| e == exported) {
            return Some(l.clone());
        }
        // Python modules export every top-level name.
        (f.lang.is_some_and(|l| l.is_python()) || exported != "default")
            .then(|| exported.to_string())
    }

    /// Follow `name` in `file` to the file and local name of an app/router.
    fn resolve_object(&self, file: FileId, name: &str, depth: usize) -> Option<(FileId, String)> {
        let f = &self.project.files[file];
        if f.routes.objects.iter().any(|o| o.name == name) {
            return Some((file, name.to_string()));
        }
        if depth > 4 {
            return None;
        }
        let import = f.imports.iter().find(|i| i.local == name)?;
        let target = self.project.resolve_import(file, &import.module)?;
        let exported = import.name.as_deref().unwrap_or("default");
        let local = self.export_local(target, exported)?;
        self.resolve_object(target, &local, depth + 1)
    }

    fn classify_guard(&self, file: FileId, g: &MwRef, framework: Framework) -> Mw {
        if framework == Framework::NestJs {
            // `@Throttle()` only sets metadata; ThrottlerGuard enforces it.
            if g.text.starts_with("@Throttle(") {
                return Mw::Plain;
            }
            if self.limiterish(&g.text) {
                return Mw::Limiter;
            }
            // `@UseGuards(MyGuard)`: a project guard that limits.
            if let Some(inner) = g.text.strip_prefix("@UseGuards(") {
                for name in inner.trim_end_matches(')').split(',') {
                    let name = name
                        .trim()
                        .trim_start_matches("new ")
                        .trim_end_matches("()");
                    if self.resolve_name(file, name, 0) == Mw::Limiter {
                        return Mw::Limiter;
                    }
                }
            }
            return Mw::Plain;
        }
        self.classify(file, g, 0)
    }

    fn classify(&self, file: FileId, mw: &MwRef, depth: usize) -> Mw {
        // slowapi's middleware applies `default_limits` (judged app-wide),
        // nothing by itself.
        if mw.name.starts_with("SlowAPI")
            || mw.name == "__in_mount__"
            || mw.name == "__flask_limiter__"
        {
            return Mw::Plain;
        }
        if mw.name == "__exempt__" {
            return Mw::Limiter; // an explicit opt-out counts as handled
        }
        if self.limiterish(&mw.text) || self.limiterish(&mw.name) {
            return Mw::Limiter;
        }
        if let Some(f) = mw.function {
            return if self.fn_protects((file, f), 0) {
                Mw::Limiter
            } else {
                Mw::Plain
            };
        }
        if let Some(rest) = mw.text.strip_prefix("require(") {
            // `app.use(require('./session'))`: what the module exports.
            let module = crate::lang::syntax_unquote(rest.split(')').next().unwrap_or(""));
            if let Some(target) = self.project.resolve_import(file, module) {
                let t = &self.project.files[target];
                return if (0..t.functions.len()).any(|i| self.fn_protects((target, i), 0)) {
                    Mw::Limiter
                } else if t.functions.is_empty() {
                    Mw::Unknown
                } else {
                    Mw::Plain
                };
            }
            return if self.clearly_not_limiter(module)
                || (self.third_party(module, false) && !may_protect(module))
            {
                Mw::Plain
            } else {
                Mw::Unknown
            };
        }
        match self.resolve_name(file, &mw.name, depth) {
            Mw::Unknown if self.clearly_not_limiter(&mw.text) => Mw::Plain,
            m => m,
        }
    }

    /// What a name used as middleware is, followed through local
    /// definitions, initialisers and imports.
    fn resolve_name(&self, file: FileId, name: &str, depth: usize) -> Mw {
        if depth > 4 || name.is_empty() {
            return Mw::Unknown;
        }
        if self.limiterish(name) {
            return Mw::Limiter;
        }
        let f = &self.project.files[file];
        let python = f.lang.is_some_and(|l| l.is_python());
        // A function defined here (and the closures it returns).
        let defined: Vec<usize> = f
            .functions
            .iter()
            .enumerate()
            .filter(|(_, func)| {
                (func.name == name && func.parent.is_none() && func.class.is_none())
                    || func.class.as_deref() == Some(name)
            })
            .map(|(i, _)| i)
            .collect();
        if !defined.is_empty() {
            let any = defined.iter().any(|&i| {
                self.fn_protects((file, i), 0)
                    || f.functions
                        .iter()
                        .enumerate()
                        .any(|(j, c)| c.parent == Some(i) && self.fn_protects((file, j), 0))
            });
            return if any { Mw::Limiter } else { Mw::Plain };
        }
        if let Some((_, callee)) = f.routes.inits.iter().find(|(n, _)| n == name) {
            if self.limiterish(callee) {
                return Mw::Limiter;
            }
            let root = callee.split('.').next().unwrap_or("");
            if root != name {
                return self.resolve_name(file, root, depth + 1);
            }
        }
        if let Some(import) = f.imports.iter().find(|i| i.local == name) {
            if knowledge::limiter_library(python, &import.module, import.name.as_deref()).is_some()
                || self.limiterish(&import.module)
                || import.name.as_deref().is_some_and(|n| self.limiterish(n))
            {
                return Mw::Limiter;
            }
            if let Some(target) = self.project.resolve_import(file, &import.module) {
                let exported = import.name.as_deref().unwrap_or("default");
                return match self.export_local(target, exported) {
                    Some(local) => self.resolve_name(target, &local, depth + 1),
                    // `module.exports = function (req, res, next) {…}`.
                    None => {
                        let t = &self.project.files[target];
                        let any = (0..t.functions.len()).any(|i| self.fn_protects((target, i), 0));
                        if any {
                            Mw::Limiter
                        } else if t.functions.is_empty() {
                            Mw::Unknown
                        } else {
                            Mw::Plain
                        }
                    }
                };
            }
            // A package whose name says nothing of limits or protection
            // does not limit; nor does a project module named for
            // something else (`../middlewares/authMiddleware.js`).
            let module_file = import
                .module
                .trim_end_matches('/')
                .rsplit(['/', '.'])
                .find(|s| !s.is_empty() && !matches!(*s, "js" | "ts" | "mjs" | "cjs" | "index"))
                .unwrap_or("");
            if plain_module(&import.module)
                || (!module_file.is_empty() && self.clearly_not_limiter(module_file))
                || (self.third_party(&import.module, python)
                    && !may_protect(&import.module)
                    && !may_protect(name)
                    && !import.name.as_deref().is_some_and(may_protect))
            {
                return Mw::Plain;
            }
            return Mw::Unknown;
        }
        // Framework objects and builtins: `express.json()`, `Depends`,
        // `lambda: setattr(g, "start", now())`.
        if matches!(
            name,
            "express" | "bodyParser" | "Depends" | "Security" | "Middleware" | "csrf_exempt"
        ) || (python && PYTHON_BUILTINS.contains(&name))
        {
            return Mw::Plain;
        }
        Mw::Unknown
    }

    /// The function (or what it calls, a few levels down) limits rates:
    /// named like a limiter, calls a limiter, answers 429.
    fn fn_protects(&self, f: FnId, depth: usize) -> bool {
        let func = self.project.function(f);
        if self
            .project
            .is_limiter_named(f, &self.options.limiter_names)
            || func.calls_limiter
            || func.deny == DenySignal::Strong
            || func.answers_rate_limit_429
            || func.calls.iter().any(|c| self.limiterish(&c.callee))
        {
            return true;
        }
        // Callees are matched by name: only this project's count.
        depth < 3
            && self
                .project
                .callees_of(f)
                .any(|c| c != f && self.file_set.contains(&c.0) && self.fn_protects(c, depth + 1))
    }

    // ------------------------------------------------------------ reporting

    /// The handler's function: defined here, or imported from a project
    /// module (`authController.login`, `from .views import login`).
    fn handler_function(&self, file: FileId, route: &RouteDecl) -> Option<FnId> {
        if let Some(f) = route.handler_fn {
            return Some((file, f));
        }
        let (module_local, member) = match route.handler.split_once('.') {
            Some((m, rest)) if !rest.contains('.') => (m, Some(rest)),
            Some(_) => return None,
            None => (route.handler.as_str(), None),
        };
        let import = self.project.files[file]
            .imports
            .iter()
            .find(|i| i.local == module_local)?;
        let target = self.project.resolve_import(file, &import.module)?;
        let wanted = match member {
            Some(m) => m.to_string(),
            None => self.export_local(target, import.name.as_deref().unwrap_or("default"))?,
        };
        let index = self.project.files[target]
            .functions
            .iter()
            .position(|f| f.name == wanted && f.parent.is_none() && f.class.is_none())?;
        Some((target, index))
    }

    /// The route's path with every known prefix (Django includes too).
    fn full_path(&self, file: FileId, route: &RouteDecl, full: Option<String>) -> Option<String> {
        let mut path = full.or_else(|| route.path.clone());
        if route.framework == Framework::Django {
            if let (Some(prefix), Some(p)) = (self.django_prefix(file, 0), &path) {
                path = Some(join(&prefix, p));
            }
        }
        path
    }

    /// Error for a brute-force target (RULES.md's whole words, or the
    /// configured `sensitive-routes`), warning otherwise.
    fn severity(&self, route: &RouteDecl, path: Option<&str>) -> Severity {
        let hay = format!("{} {}", path.unwrap_or(""), route.handler).to_ascii_lowercase();
        let sensitive = brute_force_target(path.unwrap_or(""), &route.handler)
            || self.options.sensitive_routes.iter().any(|s| {
                if s.starts_with('/') {
                    route_pattern_matches(s, path.unwrap_or(""))
                } else {
                    !s.is_empty() && hay.contains(&s.to_ascii_lowercase())
                }
            });
        if sensitive {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    fn finding(&self, file: FileId, route: &RouteDecl, full: Option<String>) -> Finding {
        let facts = &self.project.files[file];
        let path = self.full_path(file, route, full);
        let shown_path = path.clone().unwrap_or_else(|| "(path not resolved)".into());
        let severity = self.severity(route, path.as_deref());
        let why = if severity == Severity::Error {
            "a brute-force target with no rate limit at route, router or app level"
        } else {
            "no rate limit at route, router or app level"
        };
        let handler = if route.handler == "anonymous handler" {
            "inline handler".to_string()
        } else {
            format!("handler `{}`", route.handler)
        };
        Finding {
            rule_id: "RATE001",
            severity,
            message: format!("`{} {}` ({handler}): {why}", route.method, shown_path),
            path: facts.path.clone(),
            span: route.span,
            primary_label: "route registered here without rate limiting".into(),
            labels: Vec::new(),
            help: fix_for(route.framework).into(),
        }
    }
}

/// A `skip-routes` / `sensitive-routes` entry against a full path:
/// `/internal/*` is a prefix (whole segments), `/ping` the exact path.
fn route_pattern_matches(pattern: &str, path: &str) -> bool {
    if pattern.ends_with('*') {
        path_covers(pattern, path)
    } else {
        path.trim_end_matches('/') == pattern.trim_end_matches('/')
    }
}

/// Words of a path or handler name: `/api/resetPassword` → api, reset,
/// password.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Login, token, password reset, OTP/MFA, signup, verification routes:
/// by whole words, so `/authors` is not `auth`.
fn brute_force_target(path: &str, handler: &str) -> bool {
    // The handler's own name, not the module it comes from:
    // `auth_views.LogoutView` is a logout view.
    let handler = handler.rsplit('.').next().unwrap_or(handler);
    let mut ws = words(path);
    ws.extend(words(handler));
    let joined: Vec<String> = ws.windows(2).map(|w| format!("{}{}", w[0], w[1])).collect();
    // Signing out is no brute-force target, under `/auth` or not.
    if ws
        .iter()
        .chain(joined.iter())
        .any(|w| matches!(w.as_str(), "logout" | "signout" | "logoff"))
    {
        return false;
    }
    ws.iter().chain(joined.iter()).any(|w| {
        let w = w.as_str();
        matches!(
            w,
            "auth" | "oauth" | "oauth2" | "authn" | "otp" | "otps" | "mfa" | "2fa" | "totp"
        ) || w.starts_with("authenticat")
            || w.starts_with("authoriz")
            || BRUTE_FORCE
                .iter()
                .filter(|k| !matches!(**k, "auth" | "otp" | "mfa" | "2fa"))
                .any(|k| w.starts_with(k))
            || w.starts_with("registration")
            || w.starts_with("verification")
            || w.starts_with("passwd")
    })
}

/// Does middleware registered at `prefix` (`/api`, `/api/*`, `*`) run for
/// `path`? Express and Koa match whole segments: `/api` covers `/api/x`,
/// not `/api-docs`.
fn path_covers(prefix: &str, path: &str) -> bool {
    let p = prefix
        .trim_end_matches('*')
        .trim_end_matches("(.*)")
        .trim_end_matches('/');
    if p.is_empty() {
        return true;
    }
    path.strip_prefix(p)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Does a Next.js `matcher` pattern cover `path`?
fn matcher_covers(pattern: &str, path: &str) -> bool {
    let base = pattern
        .split([':', '(', '*'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    if pattern.starts_with("/((?!") {
        // A negative lookahead: everything except the listed prefixes.
        let inner = pattern.trim_start_matches("/((?!");
        let excluded = inner.split(')').next().unwrap_or("");
        return !excluded
            .split('|')
            .any(|e| !e.is_empty() && path.trim_start_matches('/').starts_with(e));
    }
    base.is_empty() || path == base || path.starts_with(&format!("{base}/"))
}

fn fix_for(framework: Framework) -> &'static str {
    match framework {
        Framework::Express => "add express-rate-limit before the route (`app.use(rateLimit({ …, store: new RedisStore(…) }))` with a shared store such as rate-limit-redis), or pass a limiter as route middleware",
        Framework::Flask => "add flask-limiter with a shared store: `Limiter(get_remote_address, app=app, default_limits=[…], storage_uri=\"redis://…\")`, or `@limiter.limit(\"5/minute\")` on the route",
        Framework::FastApi | Framework::Starlette => "add slowapi (`@limiter.limit(\"5/minute\")` with a `request` parameter, or `default_limits` with `SlowAPIMiddleware`) or a fastapi-limiter `Depends(RateLimiter(...))` dependency",
        Framework::Django => "throttle the view: DRF `throttle_classes` / `DEFAULT_THROTTLE_CLASSES`, or django-ratelimit's `@ratelimit(key=\"ip\", rate=\"5/m\")` on a shared cache",
        Framework::NestJs => "protect it with @nestjs/throttler: `ThrottlerGuard` as `APP_GUARD` (or `@UseGuards(ThrottlerGuard)` on the controller)",
        Framework::Fastify => "register @fastify/rate-limit (global by default) with a shared `redis` store, or set `config: { rateLimit: {…} }` on the route",
        Framework::Koa => "add koa-ratelimit before the router: `app.use(ratelimit({ driver: 'redis', db: redis, … }))`",
        Framework::NextJs => "rate-limit in `middleware.ts` (with a `matcher` covering this route) or in the handler, e.g. `@upstash/ratelimit` with `Redis.fromEnv()`",
        Framework::Hono => "add a limiter middleware before the route, e.g. `app.use(rateLimiter({ …, store }))` from hono-rate-limiter with a shared store",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brute_force_targets_by_whole_words() {
        assert!(brute_force_target("/auth/login", "handler"));
        assert!(brute_force_target("/api/x", "resetPassword"));
        assert!(brute_force_target("/v1/otp/confirm", "confirm"));
        assert!(brute_force_target("/sign-in", "h"));
        assert!(brute_force_target("/users/registration", "h"));
        assert!(!brute_force_target("/api/authors", "list_authors"));
        assert!(!brute_force_target("/items", "index"));
        assert!(!brute_force_target(
            "/accounts/logout/",
            "auth_views.LogoutView"
        ));
        assert!(brute_force_target("/x", "auth_views.PasswordResetView"));
        assert!(!brute_force_target("/auth/logout", "logout"));
        assert!(!brute_force_target("/api/auth/sign-out", "handler"));
    }

    #[test]
    fn use_paths_match_whole_segments() {
        assert!(path_covers("/api", "/api/items"));
        assert!(path_covers("/api/*", "/api/items"));
        assert!(path_covers("*", "/x"));
        assert!(!path_covers("/api", "/api-docs.json"));
        assert!(!path_covers("/api/*", "/og/x"));
    }

    #[test]
    fn next_matchers() {
        assert!(matcher_covers("/api/:path*", "/api/login"));
        assert!(!matcher_covers("/api/login/:path*", "/api/public"));
        assert!(matcher_covers(
            "/((?!_next/static|favicon.ico).*)",
            "/api/x"
        ));
        assert!(!matcher_covers("/((?!api|_next).*)", "/api/x"));
    }
}
