//! RATE001's route pass for Python: Flask apps and blueprints, FastAPI
//! apps and routers, Starlette `Route`/`Mount`, Django `urls.py` and the
//! decorators / throttle settings of view functions and classes.

use super::routes_js::{join, shorten};
use super::syntax::{field, named_children, parent, span, text, unquote, visit};
use crate::facts::*;
use std::path::Path;
use tree_sitter::Node;

const ROUTE_METHODS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "api_route",
    "options",
    "head",
];

pub fn worth_analysing(src: &str) -> bool {
    [
        "flask",
        "fastapi",
        "starlette",
        "django",
        "rest_framework",
        "quart",
        "Blueprint",
        "APIRouter",
        "Limiter",
        "MIDDLEWARE",
        "limiter",
        // A function given the app registers on it.
        "register_blueprint",
        "include_router",
        "add_url_rule",
        "add_middleware",
        "before_request",
        "add_resource",
        "init_app",
    ]
    .iter()
    .any(|m| src.contains(m))
}

pub fn analyse(root: Node, src: &str, path: &Path, facts: &mut FileFacts) {
    let mut x = RoutesPy {
        src,
        facts,
        out: RouteFacts::default(),
    };
    x.collect_objects(root);
    let mut decorated = Vec::new();
    let mut calls = Vec::new();
    visit(root, &|_| false, &mut |n| match n.kind() {
        "decorated_definition" => decorated.push(n),
        "call" => calls.push(n),
        _ => {}
    });
    for d in decorated {
        x.decorated(d);
    }
    for c in calls {
        if super::budget::out_of_time() {
            break;
        }
        x.call(c);
    }
    let is_urls = path
        .file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s == "urls" || s.ends_with("_urls"));
    if is_urls {
        x.django_urls(root);
    }
    if x.src.contains("starlette") {
        x.starlette_routes(root);
    }
    x.django_views(root);
    x.resource_decorators(root);
    x.django_middleware(root);
    let out = x.out;
    facts.routes = out;
}

/// A route decorator: (decorator, owner, methods, path, guards, dynamic).
type PendingRoute<'t> = (Node<'t>, String, String, Option<String>, Vec<MwRef>, bool);

struct RoutesPy<'s, 'f> {
    src: &'s str,
    facts: &'f FileFacts,
    out: RouteFacts,
}

fn kwarg<'t>(call: Node<'t>, name: &str, src: &str) -> Option<Node<'t>> {
    let args = field(call, "arguments")?;
    named_children(args).find_map(|a| {
        (a.kind() == "keyword_argument" && field(a, "name").is_some_and(|n| text(n, src) == name))
            .then(|| field(a, "value"))
            .flatten()
    })
}

fn positional(call: Node) -> Vec<Node> {
    field(call, "arguments")
        .map(|a| {
            named_children(a)
                .filter(|c| !matches!(c.kind(), "keyword_argument" | "comment"))
                .collect()
        })
        .unwrap_or_default()
}

impl<'s> RoutesPy<'s, '_> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    /// A literal string; an f-string only when it interpolates nothing
    /// (`f"/health"`).
    fn string(&self, n: Node) -> Option<String> {
        let t = self.t(n);
        let prefix = &t[..t.find(['"', '\'']).unwrap_or(0)];
        let literal = !prefix.contains(['f', 'F']) || !t.contains('{');
        (n.kind() == "string" && literal).then(|| unquote(t).to_string())
    }

    fn import_module(&self, local: &str) -> Option<&str> {
        self.facts
            .imports
            .iter()
            .find(|i| i.local == local)
            .map(|i| i.module.as_str())
    }

    fn function_named(&self, name: &str, at: usize) -> Option<usize> {
        self.facts
            .functions
            .iter()
            .position(|f| f.name == name && f.span.start >= at)
    }

    fn mw_ref(&self, n: Node) -> MwRef {
        let t = self.t(n);
        // `lambda: push_connection(redis)` is what its body calls.
        if n.kind() == "lambda" {
            if let Some(body) = field(n, "body").filter(|b| b.kind() == "call") {
                return MwRef {
                    text: shorten(t),
                    ..self.mw_ref(body)
                };
            }
        }
        let callee = if n.kind() == "call" {
            field(n, "function").map(|f| self.t(f)).unwrap_or(t)
        } else {
            t
        };
        // `Depends(check)` names `check`.
        let wrapper = callee.rsplit('.').next().unwrap_or("");
        let inner = if matches!(wrapper, "Depends" | "Security" | "Middleware") {
            positional(n).first().map(|a| self.mw_ref(*a).name)
        } else {
            None
        };
        MwRef {
            text: shorten(t),
            name: inner.unwrap_or_else(|| callee.split(['.', '(']).next().unwrap_or("").into()),
            function: None,
        }
    }

    /// Items of a list literal; `None` when it is not one.
    fn list_items(&self, n: Node, out: &mut Vec<MwRef>) -> bool {
        match n.kind() {
            "list" | "tuple" => {
                let mut dynamic = false;
                for e in named_children(n) {
                    if matches!(e.kind(), "list_splat" | "list_comprehension") {
                        dynamic = true;
                    } else if e.kind() != "comment" {
                        out.push(self.mw_ref(e));
                    }
                }
                dynamic
            }
            // `[Depends(a)] if strict else []`: either list may apply.
            "conditional_expression" => {
                let parts: Vec<Node> = named_children(n).collect();
                match parts.as_slice() {
                    [then, _, otherwise] => {
                        self.list_items(*then, out) | self.list_items(*otherwise, out)
                    }
                    _ => true,
                }
            }
            "parenthesized_expression" => match named_children(n).next() {
                Some(inner) => self.list_items(inner, out),
                None => true,
            },
            _ => true,
        }
    }

    fn collect_objects(&mut self, root: Node) {
        // Module level and inside app factories (`def create_app(): app = Flask(...)`).
        let mut assigns = Vec::new();
        // `class Redash(Flask)`: this file's app classes, by the framework
        // class they extend.
        let mut app_classes: Vec<(String, String)> = Vec::new();
        visit(
            root,
            &|n| matches!(n.kind(), "class_definition" | "lambda"),
            &mut |n| {
                if n.kind() == "assignment" {
                    assigns.push(n);
                }
                if n.kind() == "class_definition" {
                    let base = field(n, "superclasses")
                        .into_iter()
                        .flat_map(named_children)
                        .map(|b| text(b, self.src).rsplit('.').next().unwrap_or(""))
                        .find(|b| matches!(*b, "Flask" | "Quart" | "FastAPI" | "Starlette"));
                    if let (Some(base), Some(name)) = (base, field(n, "name")) {
                        app_classes.push((text(name, self.src).to_string(), base.to_string()));
                    }
                }
            },
        );
        for a in assigns {
            let (Some(left), Some(right)) = (field(a, "left"), field(a, "right")) else {
                continue;
            };
            if left.kind() != "identifier" || right.kind() != "call" {
                continue;
            }
            let name = self.t(left).to_string();
            let callee = field(right, "function").map(|f| self.t(f)).unwrap_or("");
            self.out.inits.push((name.clone(), callee.to_string()));
            let last = callee.rsplit('.').next().unwrap_or("");
            let last = app_classes
                .iter()
                .find(|(class, _)| class == last)
                .map_or(last, |(_, base)| base.as_str());
            // Flask-RESTful / Flask-RESTX `Api(app)`: resources added to it
            // are routes of the app or blueprint it is given.
            if last == "Api" && self.t(right).contains("Api(") {
                let target = positional(right)
                    .first()
                    .copied()
                    .or_else(|| kwarg(right, "app", self.src))
                    .filter(|t| t.kind() == "identifier");
                self.out.objects.push(RouterObject {
                    name: name.clone(),
                    framework: Framework::Flask,
                    is_app: false,
                    prefix: kwarg(right, "prefix", self.src).and_then(|v| self.string(v)),
                    guards: Vec::new(),
                    dynamic_guards: false,
                    param_of: false,
                    shares_parent: false,
                });
                if let Some(target) = target {
                    self.out.uses.push(UseSite {
                        owner: self.t(target).to_string(),
                        offset: a.start_byte(),
                        path: UsePath::None,
                        items: vec![MwRef {
                            text: name.clone(),
                            name: name.clone(),
                            function: None,
                        }],
                        dynamic: false,
                        replaces_prefix: false,
                        mount: true,
                    });
                }
                continue;
            }
            let (framework, is_app, prefix_kw) = match last {
                "Flask" | "Quart" => (Framework::Flask, true, ""),
                "Blueprint" => (Framework::Flask, false, "url_prefix"),
                "FastAPI" => (Framework::FastApi, true, ""),
                "APIRouter" => (Framework::FastApi, false, "prefix"),
                "Starlette" => (Framework::Starlette, true, ""),
                // `app = create_app()`, `app = mcp.streamable_http_app()`:
                // an app made elsewhere, of this file's framework.
                _ if is_app_factory(last) => match self.file_framework() {
                    Some(fw) => (fw, true, ""),
                    None => continue,
                },
                _ => continue,
            };
            let prefix = (!prefix_kw.is_empty())
                .then(|| kwarg(right, prefix_kw, self.src))
                .flatten()
                .and_then(|v| self.string(v));
            let mut guards = Vec::new();
            let mut dynamic_guards = false;
            if let Some(deps) = kwarg(right, "dependencies", self.src) {
                dynamic_guards |= self.list_items(deps, &mut guards);
            }
            if let Some(mw) = kwarg(right, "middleware", self.src) {
                dynamic_guards |= self.list_items(mw, &mut guards);
            }
            self.out.objects.push(RouterObject {
                name,
                framework,
                is_app,
                prefix,
                guards,
                dynamic_guards,
                param_of: false,
                shares_parent: false,
            });
        }
    }

    /// The Python web framework this file imports, when it is one.
    fn file_framework(&self) -> Option<Framework> {
        self.facts.frameworks.iter().copied().find(|f| {
            matches!(
                f,
                Framework::Flask | Framework::FastApi | Framework::Starlette
            )
        })
    }

    fn is_object(&self, name: &str) -> bool {
        self.out.objects.iter().any(|o| o.name == name)
    }

    /// `def init_app(app): app.register_blueprint(bp)`: registrations on a
    /// parameter are registrations on whatever app the function is given,
    /// so the function stands for that app (as a Fastify plugin does for
    /// its instance) and its call sites mount it.
    fn adopt_param(&mut self, at: Node, owner: &str, hint: Option<Framework>) -> String {
        if owner.is_empty()
            || owner.contains('.')
            || self.is_object(owner)
            || self.import_module(owner).is_some()
        {
            return owner.to_string();
        }
        let mut current = parent(at);
        while let Some(n) = current {
            current = parent(n);
            if n.kind() != "function_definition" {
                continue;
            }
            let param = field(n, "parameters")
                .into_iter()
                .flat_map(named_children)
                .find(|p| param_name(*p, self.src) == Some(owner));
            let Some(param) = param else {
                continue;
            };
            let annotation = field(param, "type").map(|t| self.t(t)).unwrap_or("");
            let framework = match annotation.rsplit('.').next().unwrap_or("") {
                "Flask" | "Quart" | "Blueprint" => Some(Framework::Flask),
                "FastAPI" | "APIRouter" => Some(Framework::FastApi),
                "Starlette" => Some(Framework::Starlette),
                _ => self.file_framework().or(hint),
            };
            let name = field(n, "name").map(|x| self.t(x).to_string());
            let (Some(framework), Some(name)) = (framework, name) else {
                return owner.to_string();
            };
            if !self.is_object(&name) {
                self.out
                    .objects
                    .push(RouterObject::parameter(&name, framework, false));
            }
            return name;
        }
        owner.to_string()
    }

    fn framework_of(&self, owner: &str) -> Option<Framework> {
        if let Some(o) = self.out.objects.iter().find(|o| o.name == owner) {
            return Some(o.framework);
        }
        // An app or blueprint imported from another module.
        let module = self.import_module(owner)?;
        if module.starts_with("flask") || module.starts_with("fastapi") {
            return None;
        }
        self.facts
            .frameworks
            .iter()
            .copied()
            .find(|f| matches!(f, Framework::Flask | Framework::FastApi))
    }

    fn decorated(&mut self, d: Node) {
        let Some(def) = field(d, "definition") else {
            return;
        };
        if def.kind() != "function_definition" {
            return;
        }
        let Some(name_node) = field(def, "name") else {
            return;
        };
        let handler = self.t(name_node).to_string();
        let handler_fn = self
            .facts
            .functions
            .iter()
            .position(|f| f.span.start == name_node.start_byte());
        let decorators: Vec<Node> = named_children(d)
            .filter(|c| c.kind() == "decorator")
            .collect();
        let mut routes: Vec<PendingRoute> = Vec::new();
        let mut guards = Vec::new();
        let mut opt_out = false;
        for dec in &decorators {
            let Some(expr) = named_children(*dec).next() else {
                continue;
            };
            let (callee, call) = if expr.kind() == "call" {
                (
                    field(expr, "function").map(|f| self.t(f)).unwrap_or(""),
                    Some(expr),
                )
            } else {
                (self.t(expr), None)
            };
            let (owner, method) = match callee.rsplit_once('.') {
                Some((o, m)) => (o, m),
                None => ("", callee),
            };
            if method == "exempt" || callee.ends_with("SkipThrottle") {
                opt_out = true;
                continue;
            }
            let adopted = self.adopt_param(d, owner, None);
            let owner = adopted.as_str();
            if let (Some(call), true) = (call, ROUTE_METHODS.contains(&method)) {
                if !owner.contains('.') && !owner.is_empty() {
                    if let Some(fw) = self.framework_of(owner) {
                        let first = positional(call)
                            .first()
                            .copied()
                            .or_else(|| kwarg(call, "path", self.src))
                            .or_else(|| kwarg(call, "rule", self.src));
                        let Some(first) = first else { continue };
                        let path = self.string(first);
                        if path
                            .as_deref()
                            .is_some_and(|p| !p.starts_with('/') && !p.is_empty())
                        {
                            continue;
                        }
                        let methods = if matches!(method, "route" | "api_route") {
                            self.methods_kw(call).unwrap_or_else(|| {
                                if fw == Framework::Flask {
                                    "GET".into()
                                } else {
                                    "ANY".into()
                                }
                            })
                        } else {
                            method.to_ascii_uppercase()
                        };
                        let mut g = Vec::new();
                        let mut dynamic = false;
                        if let Some(deps) = kwarg(call, "dependencies", self.src) {
                            dynamic |= self.list_items(deps, &mut g);
                        }
                        routes.push((*dec, owner.to_string(), methods, path, g, dynamic));
                        continue;
                    }
                }
            }
            if matches!(
                method,
                "before_request" | "before_app_request" | "middleware"
            ) && call.is_none_or(|_| true)
                && !owner.is_empty()
            {
                self.out.uses.push(UseSite {
                    owner: owner.to_string(),
                    offset: d.start_byte(),
                    path: UsePath::None,
                    items: vec![MwRef {
                        text: handler.clone(),
                        name: handler.clone(),
                        function: handler_fn,
                    }],
                    dynamic: false,
                    replaces_prefix: false,
                    mount: false,
                });
                continue;
            }
            // Decorators above the route decorator wrap the function after
            // Flask / FastAPI registered it: they never run for the route.
            if !routes.is_empty() {
                guards.push(self.mw_ref(expr));
            }
        }
        if routes.is_empty() {
            return;
        }
        // FastAPI dependencies in the signature: `x = Depends(check)`.
        let params_text = field(def, "parameters").map(|p| self.t(p)).unwrap_or("");
        let mut param_guards = Vec::new();
        if params_text.contains("Depends(") {
            if let Some(params) = field(def, "parameters") {
                visit(params, &|_| false, &mut |n| {
                    if n.kind() == "call"
                        && field(n, "function")
                            .is_some_and(|f| text(f, self.src).ends_with("Depends"))
                    {
                        param_guards.push(n);
                    }
                });
            }
        }
        let param_guards: Vec<MwRef> = param_guards.into_iter().map(|n| self.mw_ref(n)).collect();
        for (dec, owner, method, path, g, dynamic) in routes {
            let framework = self.framework_of(&owner).unwrap_or(Framework::Flask);
            let mut all = guards.clone();
            all.extend(g);
            all.extend(param_guards.iter().cloned());
            self.out.routes.push(RouteDecl {
                framework,
                owner: Some(owner),
                method,
                path,
                handler: handler.clone(),
                handler_fn,
                guards: all,
                dynamic_guards: dynamic,
                opt_out,
                span: span(dec),
            });
        }
    }

    fn methods_kw(&self, call: Node) -> Option<String> {
        let v = kwarg(call, "methods", self.src)?;
        let ms: Vec<String> = named_children(v)
            .filter_map(|e| self.string(e))
            .map(|m| m.to_ascii_uppercase())
            .collect();
        (!ms.is_empty()).then(|| ms.join(","))
    }

    fn call(&mut self, call: Node) {
        let Some(callee) = field(call, "function") else {
            return;
        };
        let callee_text = self.t(callee);
        // `init_app(app)`, `limiter.initialize(app, settings)`: a function
        // given the app may register on it (judged where it is defined).
        if matches!(callee.kind(), "identifier" | "attribute")
            && !field(callee, "object").is_some_and(|o| self.is_object(self.t(o)))
        {
            if let Some(target) = positional(call)
                .first()
                .filter(|a| a.kind() == "identifier")
            {
                let target = self.t(*target);
                if self.is_object(target) || self.framework_of(target).is_some() {
                    self.out
                        .uses
                        .push(UseSite::handed_to(target, call.start_byte(), callee_text));
                }
            }
        }
        // `limiter.limit("5/minute")(bp)`: a whole blueprint limited.
        if callee.kind() == "call" {
            let inner = field(callee, "function").map(|f| self.t(f)).unwrap_or("");
            if crate::knowledge::is_limiter_name(inner) {
                if let Some(target) = positional(call)
                    .first()
                    .filter(|a| a.kind() == "identifier")
                {
                    self.out.uses.push(UseSite {
                        owner: self.t(*target).to_string(),
                        offset: 0,
                        path: UsePath::None,
                        items: vec![self.mw_ref(callee)],
                        dynamic: false,
                        replaces_prefix: false,
                        mount: false,
                    });
                }
            }
            return;
        }
        let last = callee_text.rsplit('.').next().unwrap_or("");
        // flask-limiter attached to an app: `Limiter(..., app=app)`,
        // `limiter.init_app(app)`; app-wide defaults apply to that app only.
        let attached = if last == "Limiter" {
            kwarg(call, "app", self.src)
        } else if last == "init_app" {
            let receiver = callee_text.rsplit_once('.').map(|(r, _)| r).unwrap_or("");
            let is_limiter = crate::knowledge::is_limiter_name(receiver)
                || self
                    .out
                    .inits
                    .iter()
                    .any(|(n, c)| n == receiver && c.ends_with("Limiter"));
            positional(call).first().copied().filter(|_| is_limiter)
        } else {
            None
        };
        if let Some(app) = attached.filter(|a| a.kind() == "identifier") {
            self.out.uses.push(UseSite {
                owner: self.t(app).to_string(),
                offset: call.start_byte(),
                path: UsePath::None,
                items: vec![MwRef {
                    text: callee_text.to_string(),
                    name: "__flask_limiter__".into(),
                    function: None,
                }],
                dynamic: false,
                replaces_prefix: false,
                mount: false,
            });
        }
        // Limiter(..., default_limits=[...]): every route of the app.
        // `default_limits=None` (or an empty list) sets no default.
        let set = |name: &str| {
            kwarg(call, name, self.src).filter(|v| {
                !matches!(v.kind(), "none" | "list" | "tuple")
                    || named_children(*v).next().is_some()
            })
        };
        if last == "Limiter" && set("default_limits").is_some() {
            let module = self.import_module("Limiter").unwrap_or("");
            let framework = if module.starts_with("slowapi") {
                Framework::FastApi
            } else {
                Framework::Flask
            };
            self.out.global.push(GlobalGuard {
                framework,
                opt_in_only: false,
                what: "default_limits".into(),
            });
        } else if last == "Limiter" && set("application_limits").is_some() {
            self.out.global.push(GlobalGuard {
                framework: Framework::Flask,
                opt_in_only: false,
                what: "application_limits".into(),
            });
        }
        let Some((owner, method)) = callee_text.rsplit_once('.') else {
            return;
        };
        if owner.contains('.') || owner.contains('(') {
            return;
        }
        let adopted = if matches!(
            method,
            "add_url_rule"
                | "register_blueprint"
                | "include_router"
                | "mount"
                | "before_request"
                | "before_app_request"
                | "add_middleware"
        ) {
            // What the method says when the file imports no framework.
            let hint = match method {
                "include_router" | "add_middleware" | "mount" => Framework::FastApi,
                _ => Framework::Flask,
            };
            self.adopt_param(call, owner, Some(hint))
        } else {
            owner.to_string()
        };
        let owner = adopted.as_str();
        let args = positional(call);
        // `limiter.exempt(blueprint)`: an explicit opt-out for a blueprint.
        if method == "exempt" {
            if let Some(target) = args.first().filter(|a| a.kind() == "identifier") {
                self.out.uses.push(UseSite {
                    owner: self.t(*target).to_string(),
                    offset: 0,
                    path: UsePath::None,
                    items: vec![MwRef {
                        text: callee_text.to_string(),
                        name: "__exempt__".into(),
                        function: None,
                    }],
                    dynamic: false,
                    replaces_prefix: false,
                    mount: false,
                });
            }
            return;
        }
        match method {
            // `api.add_resource(UserResource, "/users", "/users/<int:id>")`.
            "add_resource" if self.is_object(owner) => {
                let Some(resource) = args.first() else { return };
                let resource_text = self.t(*resource).to_string();
                let class = resource_text.rsplit('.').next().unwrap_or("").to_string();
                for url in args.iter().skip(1) {
                    let Some(path) = self.string(*url) else {
                        continue;
                    };
                    self.out.routes.push(RouteDecl {
                        framework: Framework::Flask,
                        owner: Some(owner.to_string()),
                        method: "ANY".into(),
                        path: Some(path),
                        handler: resource_text.clone(),
                        handler_fn: None,
                        // The class's `decorators` / `method_decorators`.
                        guards: vec![MwRef {
                            text: format!("resource:{class}"),
                            name: "__resource__".into(),
                            function: None,
                        }],
                        dynamic_guards: false,
                        opt_out: false,
                        span: span(call),
                    });
                }
            }
            "init_app" if self.is_object(owner) => {
                if let Some(app) = args.first().filter(|a| a.kind() == "identifier") {
                    self.out.uses.push(UseSite {
                        owner: self.t(*app).to_string(),
                        offset: call.start_byte(),
                        path: UsePath::None,
                        items: vec![MwRef {
                            text: owner.to_string(),
                            name: owner.to_string(),
                            function: None,
                        }],
                        dynamic: false,
                        replaces_prefix: false,
                        mount: true,
                    });
                }
            }
            "add_url_rule" => {
                let Some(first) = args.first() else { return };
                let Some(fw) = self.framework_of(owner) else {
                    return;
                };
                let view = kwarg(call, "view_func", self.src).or_else(|| args.get(2).copied());
                let Some(view) = view else { return };
                let view_text = self.t(view);
                let fn_name = view_text
                    .strip_suffix(".as_view()")
                    .unwrap_or(view_text)
                    .split('(')
                    .next()
                    .unwrap_or("");
                let handler_fn = self.function_named(fn_name, 0);
                let method = self.methods_kw(call).unwrap_or_else(|| "GET".into());
                self.out.routes.push(RouteDecl {
                    framework: fw,
                    owner: Some(owner.to_string()),
                    method,
                    path: self.string(*first),
                    handler: shorten(view_text),
                    handler_fn,
                    guards: Vec::new(),
                    dynamic_guards: view.kind() == "call" && !view_text.contains("as_view"),
                    opt_out: false,
                    span: span(call),
                });
            }
            "register_blueprint" | "include_router" | "mount" => {
                let Some(target) = args.first() else { return };
                let kw = if method == "register_blueprint" {
                    "url_prefix"
                } else {
                    "prefix"
                };
                let path = match kwarg(call, kw, self.src)
                    .or_else(|| (method == "mount").then(|| target.to_owned()))
                {
                    Some(v) => match self.string(v) {
                        Some(s) => UsePath::Literal(s),
                        None => UsePath::Dynamic,
                    },
                    None => UsePath::None,
                };
                let target = if method == "mount" {
                    match args.get(1) {
                        Some(t) => *t,
                        None => return,
                    }
                } else {
                    *target
                };
                let mut items = vec![self.mw_ref(target)];
                let mut dynamic = false;
                if let Some(deps) = kwarg(call, "dependencies", self.src) {
                    dynamic |= self.list_items(deps, &mut items);
                }
                self.out.uses.push(UseSite {
                    owner: owner.to_string(),
                    offset: call.start_byte(),
                    path,
                    items,
                    dynamic,
                    replaces_prefix: method == "register_blueprint",
                    mount: true,
                });
            }
            "before_request" | "before_app_request" | "add_middleware" => {
                let Some(target) = args.first() else { return };
                let mut item = self.mw_ref(*target);
                if method != "add_middleware" {
                    item.function = self.function_named(self.t(*target), 0);
                }
                self.out.uses.push(UseSite {
                    owner: owner.to_string(),
                    offset: call.start_byte(),
                    path: UsePath::None,
                    items: vec![item],
                    dynamic: false,
                    replaces_prefix: false,
                    mount: false,
                });
            }
            _ => {}
        }
    }

    /// `path('login/', views.login)`, `re_path(...)`, `include(...)`, DRF
    /// `router.register(r'users', UserViewSet)`; Starlette `Route` too.
    fn django_urls(&mut self, root: Node) {
        let mut calls = Vec::new();
        visit(root, &|_| false, &mut |n| {
            if n.kind() == "call" {
                calls.push(n);
            }
        });
        for call in calls {
            let callee = field(call, "function").map(|f| self.t(f)).unwrap_or("");
            let last = callee.rsplit('.').next().unwrap_or("");
            let args = positional(call);
            match last {
                "path" | "re_path" | "url" => {
                    let (Some(p), Some(view)) = (args.first(), args.get(1)) else {
                        continue;
                    };
                    if view.kind() == "call"
                        && field(*view, "function").is_some_and(|f| self.t(f).ends_with("include"))
                    {
                        // `path("api/", include("api.urls"))`: a prefix for that module.
                        let module = positional(*view).first().and_then(|m| self.string(*m));
                        if let (Some(prefix), Some(module)) = (self.string(*p), module) {
                            self.out.uses.push(UseSite {
                                owner: "django:include".into(),
                                offset: call.start_byte(),
                                path: UsePath::Literal(django_path(&prefix)),
                                items: vec![MwRef {
                                    text: module,
                                    name: "__include__".into(),
                                    function: None,
                                }],
                                dynamic: false,
                                replaces_prefix: false,
                                mount: true,
                            });
                        }
                        continue;
                    }
                    let path = self.string(*p).map(|s| django_path(&s));
                    let view_text = self.t(*view);
                    let name = view_text
                        .strip_suffix(".as_view()")
                        .or_else(|| view_text.split(".as_view(").next())
                        .unwrap_or(view_text);
                    self.out.routes.push(RouteDecl {
                        framework: Framework::Django,
                        owner: None,
                        method: "ANY".into(),
                        path,
                        handler: shorten(name),
                        handler_fn: None,
                        guards: vec![MwRef {
                            text: shorten(view_text),
                            name: name.to_string(),
                            function: None,
                        }],
                        dynamic_guards: false,
                        opt_out: false,
                        span: span(call),
                    });
                }
                "register" => {
                    let (Some(p), Some(view)) = (args.first(), args.get(1)) else {
                        continue;
                    };
                    let Some(p) = self.string(*p) else { continue };
                    let name = self.t(*view);
                    self.out.routes.push(RouteDecl {
                        framework: Framework::Django,
                        owner: None,
                        method: "ANY".into(),
                        path: Some(join("/", &p)),
                        handler: shorten(name),
                        handler_fn: None,
                        guards: vec![MwRef {
                            text: shorten(name),
                            name: name.to_string(),
                            function: None,
                        }],
                        dynamic_guards: false,
                        opt_out: false,
                        span: span(call),
                    });
                }
                _ => {}
            }
        }
    }

    /// `Route("/p", endpoint, methods=[...])` in `Starlette(routes=[...])`,
    /// in a module-level list (`routes = [...]`, a router object mounted
    /// elsewhere) or inside `Mount("/x", routes=[...], middleware=[...])`;
    /// `Mount("/x", routes=other.routes)` mounts a list from another module.
    fn starlette_routes(&mut self, root: Node) {
        let mut calls = Vec::new();
        visit(root, &|_| false, &mut |n| {
            if n.kind() == "call" {
                let callee = field(n, "function")
                    .map(|f| text(f, self.src))
                    .unwrap_or("");
                let last = callee.rsplit('.').next().unwrap_or("");
                if last == "Route" || last == "Mount" {
                    calls.push((n, last == "Route"));
                }
            }
        });
        for (call, is_route) in calls {
            // Walk up: Mount prefixes and middleware, then the owner (the
            // Starlette app or the module-level list variable).
            let mut prefix: Option<String> = Some(String::new());
            let mut guards = Vec::new();
            let mut owner = None;
            let mut cur = super::syntax::parent(call);
            while let Some(n) = cur {
                if n.kind() == "call" {
                    let callee = field(n, "function").map(|f| self.t(f)).unwrap_or("");
                    if callee.ends_with("Mount") {
                        if is_route && !guards.iter().any(|g: &MwRef| g.name == "__in_mount__") {
                            guards.push(MwRef {
                                text: "Mount".into(),
                                name: "__in_mount__".into(),
                                function: None,
                            });
                        }
                        let pre = positional(n).first().and_then(|a| self.string(*a));
                        prefix = match (pre, prefix) {
                            (Some(pre), Some(p)) => Some(join(&pre, &p)),
                            _ => None,
                        };
                        if let Some(mw) = kwarg(n, "middleware", self.src) {
                            self.list_items(mw, &mut guards);
                        }
                    }
                }
                if n.kind() == "assignment"
                    && n.parent()
                        .is_some_and(|p| p.parent().is_some_and(|pp| pp.kind() == "module"))
                {
                    if let Some(left) = field(n, "left").filter(|l| l.kind() == "identifier") {
                        owner = Some(self.t(left).to_string());
                    }
                    break;
                }
                cur = super::syntax::parent(n);
            }
            let Some(owner) = owner else { continue };
            if !self.out.objects.iter().any(|o| o.name == owner) {
                self.out.objects.push(RouterObject {
                    name: owner.clone(),
                    framework: Framework::Starlette,
                    is_app: false,
                    prefix: None,
                    guards: Vec::new(),
                    dynamic_guards: false,
                    param_of: false,
                    shares_parent: false,
                });
            }
            let args = positional(call);
            let Some(p) = args
                .first()
                .copied()
                .or_else(|| kwarg(call, "path", self.src))
            else {
                continue;
            };
            if !is_route {
                // A Mount of a route list defined elsewhere.
                let Some(target) = kwarg(call, "routes", self.src)
                    .or_else(|| kwarg(call, "app", self.src))
                    .or_else(|| args.get(1).copied())
                else {
                    continue;
                };
                if target.kind() == "list" {
                    continue;
                }
                let path = match (self.string(p), &prefix) {
                    (Some(m), Some(pre)) => UsePath::Literal(join(pre, &m)),
                    _ => UsePath::Dynamic,
                };
                let mut items = vec![self.mw_ref(target)];
                items[0].text = self.t(target).to_string();
                items.extend(guards);
                if let Some(mw) = kwarg(call, "middleware", self.src) {
                    self.list_items(mw, &mut items);
                }
                self.out.uses.push(UseSite {
                    owner,
                    offset: call.start_byte(),
                    path,
                    items,
                    dynamic: false,
                    replaces_prefix: false,
                    mount: true,
                });
                continue;
            }
            let Some(endpoint) = args
                .get(1)
                .copied()
                .or_else(|| kwarg(call, "endpoint", self.src))
            else {
                continue;
            };
            let path = match (prefix, self.string(p)) {
                (Some(pre), Some(p)) => Some(join(&pre, &p)),
                _ => None,
            };
            let name = self.t(endpoint).to_string();
            let handler_fn = self.function_named(&name, 0);
            let method = self.methods_kw(call).unwrap_or_else(|| "GET".into());
            self.out.routes.push(RouteDecl {
                framework: Framework::Starlette,
                owner: Some(owner),
                method,
                path,
                handler: shorten(&name),
                handler_fn,
                guards,
                dynamic_guards: false,
                opt_out: false,
                span: span(call),
            });
        }
    }

    /// `MIDDLEWARE = [...]` in a settings module: a use on `django:middleware`.
    fn django_middleware(&mut self, root: Node) {
        for stmt in named_children(root) {
            let Some(a) = named_children(stmt)
                .next()
                .filter(|a| a.kind() == "assignment")
            else {
                continue;
            };
            let (Some(left), Some(right)) = (field(a, "left"), field(a, "right")) else {
                continue;
            };
            if self.t(left) == "REST_FRAMEWORK"
                && self.t(right).contains("DEFAULT_THROTTLE_CLASSES")
            {
                // Only ScopedRateThrottle by default: views without a
                // `throttle_scope` are not throttled.
                let t = self.t(right);
                let classes = t
                    .split("DEFAULT_THROTTLE_CLASSES")
                    .nth(1)
                    .and_then(|r| r.split(']').next())
                    .unwrap_or("");
                let scoped_only = classes.contains("ScopedRateThrottle")
                    && classes.matches("Throttle").count()
                        == classes.matches("ScopedRateThrottle").count();
                self.out.global.push(GlobalGuard {
                    framework: Framework::Django,
                    opt_in_only: scoped_only,
                    what: "DEFAULT_THROTTLE_CLASSES".into(),
                });
                continue;
            }
            if self.t(left) != "MIDDLEWARE" {
                continue;
            }
            let mut items = Vec::new();
            let mut dynamic = right.kind() != "list";
            for e in named_children(right) {
                match self.string(e) {
                    Some(dotted) => items.push(MwRef {
                        name: dotted.rsplit('.').next().unwrap_or("").to_string(),
                        text: dotted,
                        function: None,
                    }),
                    None if e.kind() != "comment" => dynamic = true,
                    None => {}
                }
            }
            self.out.uses.push(UseSite {
                owner: "django:middleware".into(),
                offset: a.start_byte(),
                path: UsePath::None,
                items,
                dynamic,
                replaces_prefix: false,
                mount: false,
            });
        }
    }

    /// Django view functions and classes: their decorators and
    /// `throttle_classes`, recorded as uses on the view's name.
    /// Flask-RESTful / RESTX resources: `decorators = [limiter.limit(…)]`
    /// and `method_decorators` wrap every method of the class.
    fn resource_decorators(&mut self, root: Node) {
        if !self.src.contains("decorators") {
            return;
        }
        for class in named_children(root).filter_map(|s| match s.kind() {
            "class_definition" => Some(s),
            "decorated_definition" => field(s, "definition"),
            _ => None,
        }) {
            if class.kind() != "class_definition" {
                continue;
            }
            let Some(name) = field(class, "name").map(|n| self.t(n).to_string()) else {
                continue;
            };
            let mut items = Vec::new();
            let mut dynamic = false;
            for stmt in field(class, "body").into_iter().flat_map(named_children) {
                let assign = named_children(stmt).find(|c| c.kind() == "assignment");
                let Some(assign) = assign else { continue };
                let target = field(assign, "left").map(|l| self.t(l)).unwrap_or("");
                if !matches!(target, "decorators" | "method_decorators") {
                    continue;
                }
                if let Some(value) = field(assign, "right") {
                    if value.kind() == "dictionary" {
                        // `{"post": [limiter.limit(…)]}`: per method.
                        for pair in named_children(value).filter(|p| p.kind() == "pair") {
                            if let Some(v) = field(pair, "value") {
                                dynamic |= self.list_items(v, &mut items);
                            }
                        }
                    } else {
                        dynamic |= self.list_items(value, &mut items);
                    }
                }
            }
            if !items.is_empty() || dynamic {
                self.out.uses.push(UseSite {
                    owner: format!("resource:{name}"),
                    offset: class.start_byte(),
                    path: UsePath::None,
                    items,
                    dynamic,
                    replaces_prefix: false,
                    mount: false,
                });
            }
        }
    }

    fn django_views(&mut self, root: Node) {
        if !(self.src.contains("django") || self.src.contains("rest_framework")) {
            return;
        }
        for stmt in named_children(root) {
            let (def, decorators): (Node, Vec<Node>) = if stmt.kind() == "decorated_definition" {
                match field(stmt, "definition") {
                    Some(d) => (
                        d,
                        named_children(stmt)
                            .filter(|c| c.kind() == "decorator")
                            .collect(),
                    ),
                    None => continue,
                }
            } else {
                (stmt, Vec::new())
            };
            if !matches!(def.kind(), "function_definition" | "class_definition") {
                continue;
            }
            let Some(name) = field(def, "name").map(|n| self.t(n).to_string()) else {
                continue;
            };
            let mut items: Vec<MwRef> = decorators
                .iter()
                .filter_map(|d| named_children(*d).next())
                .map(|e| self.mw_ref(e))
                .collect();
            if def.kind() == "class_definition" {
                let bases = field(def, "superclasses").map(|b| self.t(b)).unwrap_or("");
                let body_text = field(def, "body").map(|b| self.t(b)).unwrap_or("");
                // ScopedRateThrottle without a `throttle_scope` allows everything.
                let scoped_only = body_text.contains("ScopedRateThrottle")
                    && !body_text.contains("throttle_scope")
                    && body_text
                        .lines()
                        .find(|l| l.trim_start().starts_with("throttle_classes"))
                        .is_some_and(|l| {
                            l.matches("Throttle").count() == l.matches("ScopedRateThrottle").count()
                        });
                // Project bases carry DRF and throttles to their subclasses
                // (`class ListApiView(generics.ListAPIView)` in a core module).
                for base in field(def, "superclasses")
                    .into_iter()
                    .flat_map(named_children)
                {
                    if matches!(base.kind(), "identifier" | "attribute") {
                        let base_text = self.t(base);
                        items.push(MwRef {
                            text: base_text.to_string(),
                            name: "__base__".into(),
                            function: None,
                        });
                    }
                }
                if let Some(body) = field(def, "body").filter(|_| !scoped_only) {
                    for s in named_children(body) {
                        let t = self.t(s);
                        // `def get_throttles(self)`: throttles chosen per request.
                        let method = if s.kind() == "decorated_definition" {
                            field(s, "definition")
                        } else {
                            Some(s)
                        };
                        if method.is_some_and(|m| {
                            m.kind() == "function_definition"
                                && field(m, "name").is_some_and(|n| self.t(n) == "get_throttles")
                        }) {
                            items.push(MwRef {
                                text: "get_throttles".into(),
                                name: "throttle_classes".into(),
                                function: None,
                            });
                        }
                        if t.starts_with("throttle_classes") || t.starts_with("throttle_scope") {
                            let empty = t.ends_with("[]") || t.ends_with("()");
                            items.push(MwRef {
                                text: if empty {
                                    "throttle_classes = []".into()
                                } else {
                                    "throttle_classes".into()
                                },
                                name: if empty {
                                    "no_throttle".into()
                                } else {
                                    "throttle_classes".into()
                                },
                                function: None,
                            });
                        }
                        if s.kind() == "decorated_definition" {
                            for d in named_children(s).filter(|c| c.kind() == "decorator") {
                                if let Some(e) = named_children(d).next() {
                                    let m = self.mw_ref(e);
                                    // `@action(throttle_classes=...)` limits one action only.
                                    if crate::knowledge::is_limiter_name(&m.text)
                                        && !m.text.starts_with("action(")
                                    {
                                        items.push(m);
                                    }
                                }
                            }
                        }
                    }
                }
                let drf = [
                    "APIView",
                    "ViewSet",
                    "GenericAPIView",
                    "ModelViewSet",
                    "GenericViewSet",
                    "ReadOnlyModelViewSet",
                    "CreateAPIView",
                    "ListAPIView",
                    "RetrieveAPIView",
                    "ListCreateAPIView",
                    "UpdateAPIView",
                    "DestroyAPIView",
                    "RetrieveUpdateAPIView",
                    "RetrieveUpdateDestroyAPIView",
                ]
                .iter()
                .any(|b| bases.contains(b));
                if drf {
                    items.push(MwRef {
                        text: "drf".into(),
                        name: "__drf__".into(),
                        function: None,
                    });
                }
            } else if decorators.iter().any(|d| self.t(*d).contains("api_view")) {
                items.push(MwRef {
                    text: "drf".into(),
                    name: "__drf__".into(),
                    function: None,
                });
            }
            self.out.uses.push(UseSite {
                owner: format!("view:{name}"),
                offset: def.start_byte(),
                path: UsePath::None,
                items,
                dynamic: false,
                replaces_prefix: false,
                mount: false,
            });
        }
    }
}

/// `^api/login/$` → `/api/login/`; `users/<int:pk>/` → `/users/<int:pk>/`.
fn django_path(p: &str) -> String {
    let p = p.trim_start_matches('^').trim_end_matches('$');
    join("/", p)
}

/// `create_app`, `make_app`, `get_application`, `streamable_http_app`:
/// a call that returns an app.
fn is_app_factory(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "app" || n.ends_with("_app") || n.ends_with("application")
}

/// The name a parameter binds: `app`, `app: Flask`, `app=None`.
fn param_name<'s>(param: Node, src: &'s str) -> Option<&'s str> {
    match param.kind() {
        "identifier" => Some(text(param, src)),
        "typed_parameter" => named_children(param)
            .find(|c| c.kind() == "identifier")
            .map(|c| text(c, src)),
        "default_parameter" | "typed_default_parameter" => {
            field(param, "name").map(|n| text(n, src))
        }
        _ => None,
    }
}
