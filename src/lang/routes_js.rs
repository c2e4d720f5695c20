//! RATE001's route pass for JavaScript / TypeScript: Express, Koa, Hono and
//! Fastify route calls and `use`/`register` registrations, NestJS
//! controllers, Next.js route files and `middleware.ts`.
//!
//! Only records what is written; joining mounts across files and judging
//! middleware is the rule's job (it needs the project).

use super::syntax::{call_arguments, field, named_children, span, text, unquote, visit};
use crate::facts::*;
use std::path::Path;
use tree_sitter::Node;

const METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "del", "all", "options", "head",
];

/// Cheap pre-check: files that cannot register a route are skipped.
pub fn worth_analysing(src: &str, path: &Path) -> bool {
    // Bundles and generated files register no routes of their own.
    const MAX_BYTES: usize = 1 << 20;
    next_route_kind(path).is_some()
        || (src.len() <= MAX_BYTES
            && [
                ".get(",
                ".post(",
                ".put(",
                ".patch(",
                ".delete(",
                ".all(",
                ".use(",
                ".route(",
                ".register(",
                ".addHook(",
                "@Controller",
                "APP_GUARD",
                "useGlobalGuards",
                "module.exports",
                "export default",
                "express",
                "Koa",
                "Hono",
                "astify",
            ]
            .iter()
            .any(|m| src.contains(m)))
}

#[derive(Clone, Copy, PartialEq)]
enum NextKind {
    AppRoute,
    PagesApi,
    Middleware,
}

fn next_route_kind(path: &Path) -> Option<NextKind> {
    let p = path.to_string_lossy().replace('\\', "/");
    let stem = path.file_stem()?.to_str()?;
    let ext = path.extension()?.to_str()?;
    if !matches!(ext, "js" | "ts" | "mjs" | "jsx" | "tsx") {
        return None;
    }
    if stem == "route" && (p.starts_with("app/") || p.contains("/app/")) {
        return Some(NextKind::AppRoute);
    }
    if p.starts_with("pages/api/") || p.contains("/pages/api/") {
        return Some(NextKind::PagesApi);
    }
    if stem == "middleware" {
        // The project root or `src/`, never a `middleware/` folder.
        let dir = path.parent().unwrap_or(Path::new(""));
        let in_src = dir.file_name().is_some_and(|n| n == "src");
        let at_root = [
            "package.json",
            "next.config.js",
            "next.config.mjs",
            "next.config.ts",
        ]
        .iter()
        .any(|f| dir.join(f).exists());
        if in_src || at_root {
            return Some(NextKind::Middleware);
        }
    }
    None
}

/// The URL path of a Next.js route file: `app/(shop)/api/users/[id]/route.ts`
/// → `/api/users/[id]`; `pages/api/login.ts` → `/api/login`.
fn next_path(path: &Path, kind: NextKind) -> String {
    let p = path.to_string_lossy().replace('\\', "/");
    let marker = if kind == NextKind::AppRoute {
        "app/"
    } else {
        "pages/"
    };
    let start = if p.starts_with(marker) {
        marker.len()
    } else {
        p.rfind(&format!("/{marker}"))
            .map(|i| i + 1 + marker.len())
            .unwrap_or(0)
    };
    let rest = &p[start..];
    let mut segs: Vec<&str> = rest.split('/').collect();
    segs.pop(); // the file
    let mut out = String::new();
    for s in segs {
        if s.starts_with('(') && s.ends_with(')') || s.starts_with('@') {
            continue;
        }
        out.push('/');
        out.push_str(s);
    }
    if kind == NextKind::PagesApi {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem != "index" {
            out.push('/');
            out.push_str(stem);
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

pub fn analyse(root: Node, src: &str, path: &Path, facts: &mut FileFacts) {
    let mut x = RoutesJs {
        src,
        facts,
        out: RouteFacts::default(),
    };
    x.walk(root);
    if let Some(kind) = next_route_kind(path) {
        x.next_file(root, path, kind);
    }
    let out = x.out;
    facts.routes = out;
}

/// The function each call and function is written in, recorded in one
/// walk: climbing with `Node::parent` from every call (each step costs
/// time proportional to the depth) was cubic in deeply nested code.
#[derive(Default)]
struct Enclosing<'t> {
    function_of: std::collections::HashMap<usize, Node<'t>>,
}

impl<'t> Enclosing<'t> {
    fn is_function(n: Node) -> bool {
        matches!(
            n.kind(),
            "arrow_function" | "function_declaration" | "function_expression" | "function"
        )
    }

    /// The innermost function strictly enclosing a call or a function.
    fn function_around(&self, n: Node<'t>) -> Option<Node<'t>> {
        self.function_of.get(&n.id()).copied()
    }

    /// Visit every node of `root` (as `syntax::visit` does) and remember
    /// the enclosing function of each call and function.
    fn walk(&mut self, root: Node<'t>, f: &mut dyn FnMut(Node<'t>)) {
        let mut cursor = root.walk();
        let mut depth = 0usize;
        let mut functions: Vec<(Node<'t>, usize)> = Vec::new();
        let mut visited = 0u32;
        loop {
            visited = visited.wrapping_add(1);
            if visited.is_multiple_of(1024) && super::budget::out_of_time() {
                return;
            }
            let n = cursor.node();
            while functions.last().is_some_and(|(_, d)| *d >= depth) {
                functions.pop();
            }
            let is_function = Self::is_function(n);
            if is_function || n.kind() == "call_expression" {
                if let Some((around, _)) = functions.last() {
                    self.function_of.insert(n.id(), *around);
                }
            }
            if is_function {
                functions.push((n, depth));
            }
            f(n);
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            loop {
                if depth == 0 {
                    return;
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                cursor.goto_parent();
                depth -= 1;
            }
        }
    }
}

struct RoutesJs<'s, 'f> {
    src: &'s str,
    facts: &'f FileFacts,
    out: RouteFacts,
}

impl<'s> RoutesJs<'s, '_> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn import_module(&self, local: &str) -> Option<&str> {
        self.facts
            .imports
            .iter()
            .find(|i| i.local == local)
            .map(|i| i.module.as_str())
    }

    fn function_at(&self, node: Node) -> Option<usize> {
        let start = node.start_byte();
        let name_start = field(node, "name").map(|n| n.start_byte());
        self.facts
            .functions
            .iter()
            .position(|f| f.span.start == start || Some(f.span.start) == name_start)
    }

    /// What object a constructor call makes: (framework, is_app, prefix).
    fn object_kind(&self, value: Node) -> Option<(Framework, bool, Option<String>)> {
        let (callee, args) = match value.kind() {
            "call_expression" => (field(value, "function")?, field(value, "arguments")),
            "new_expression" => (field(value, "constructor")?, field(value, "arguments")),
            "await_expression" => return self.object_kind(named_children(value).next()?),
            _ => return None,
        };
        let callee_text = self.t(callee);
        let root = callee_text.split('.').next().unwrap_or("");
        // `require('fastify')({ logger: true })`
        let required = callee_text
            .strip_prefix("require(")
            .map(|r| unquote(r.trim_end_matches(')')));
        let module = required.or_else(|| self.import_module(root)).unwrap_or("");
        let last = callee_text.rsplit('.').next().unwrap_or("");
        let prefix = args
            .and_then(|a| named_children(a).next())
            .filter(|o| o.kind() == "object")
            .and_then(|o| self.prop(o, "prefix"))
            .map(|v| unquote(self.t(v)).to_string());
        match (module, last) {
            ("express", "Router") => Some((Framework::Express, false, None)),
            ("express", _) if callee_text == root => Some((Framework::Express, true, None)),
            ("@koa/router" | "koa-router", _) => Some((Framework::Koa, false, prefix)),
            ("koa", _) => Some((Framework::Koa, true, None)),
            ("hono", "Hono") => Some((Framework::Hono, true, None)),
            ("fastify", _) => Some((Framework::Fastify, true, None)),
            (_, _) if required.is_some() => None,
            _ => None,
        }
    }

    fn prop<'t>(&self, object: Node<'t>, key: &str) -> Option<Node<'t>> {
        named_children(object).find_map(|p| {
            if p.kind() == "pair" && field(p, "key").is_some_and(|k| unquote(self.t(k)) == key) {
                field(p, "value")
            } else {
                None
            }
        })
    }

    fn collect_objects(&mut self, declarators: &[Node]) {
        let mut found = Vec::new();
        for n in declarators {
            if let (Some(name), Some(value)) = (field(*n, "name"), field(*n, "value")) {
                if name.kind() == "identifier" {
                    found.push((name, value));
                }
            }
        }
        for (name, value) in found {
            let name_text = self.t(name).to_string();
            if let Some((framework, is_app, prefix)) = self.object_kind(value) {
                self.out.objects.push(RouterObject {
                    name: name_text.clone(),
                    framework,
                    is_app,
                    prefix,
                    guards: Vec::new(),
                    dynamic_guards: false,
                    param_of: false,
                    shares_parent: false,
                });
            }
            let call = if value.kind() == "await_expression" {
                named_children(value).next().unwrap_or(value)
            } else {
                value
            };
            let callee = match call.kind() {
                "call_expression" => field(call, "function"),
                "new_expression" => field(call, "constructor"),
                _ => None,
            };
            if let Some(c) = callee.filter(|c| self.t(*c) != "require") {
                self.out.inits.push((name_text, self.t(c).to_string()));
            }
        }
    }

    fn is_object(&self, name: &str) -> bool {
        self.out.objects.iter().any(|o| o.name == name)
    }

    fn framework_of(&self, owner: &str) -> Option<Framework> {
        if let Some(o) = self.out.objects.iter().find(|o| o.name == owner) {
            return Some(o.framework);
        }
        self.facts
            .frameworks
            .iter()
            .copied()
            .find(|f| {
                matches!(
                    f,
                    Framework::Express | Framework::Koa | Framework::Hono | Framework::Fastify
                )
            })
            // An app imported from a project file (`require('./app')`): the
            // rule reads the framework from the object itself.
            .or_else(|| self.project_import(owner).then_some(Framework::Express))
    }

    fn mw_ref(&self, n: Node) -> MwRef {
        let text = self.t(n);
        let name = match n.kind() {
            "call_expression" => field(n, "function")
                .map(|f| self.t(f))
                .unwrap_or(text)
                .split('.')
                .next()
                .unwrap_or(""),
            "new_expression" => field(n, "constructor")
                .map(|f| self.t(f))
                .unwrap_or(text)
                .split('.')
                .next()
                .unwrap_or(""),
            _ => text.split(['.', '(']).next().unwrap_or(""),
        };
        let function = if matches!(
            n.kind(),
            "arrow_function" | "function_expression" | "function"
        ) {
            self.function_at(n)
        } else {
            None
        };
        MwRef {
            text: shorten(text),
            name: name.trim().to_string(),
            function,
        }
    }

    /// Middleware arguments: arrays flattened; a spread is unreadable.
    fn mw_list(&self, nodes: &[Node], out: &mut Vec<MwRef>) -> bool {
        let mut dynamic = false;
        for n in nodes {
            match n.kind() {
                "array" => {
                    let inner: Vec<Node> = named_children(*n).collect();
                    dynamic |= self.mw_list(&inner, out);
                }
                "spread_element" => dynamic = true,
                "comment" => {}
                _ => out.push(self.mw_ref(*n)),
            }
        }
        dynamic
    }

    fn walk(&mut self, root: Node) {
        let mut calls = Vec::new();
        let mut classes = Vec::new();
        let mut exports = Vec::new();
        let mut declarators = Vec::new();
        let mut enclosing = Enclosing::default();
        enclosing.walk(root, &mut |n| match n.kind() {
            "call_expression" => calls.push(n),
            "class_declaration" | "class" => classes.push(n),
            "export_statement" | "assignment_expression" => exports.push(n),
            "variable_declarator" => declarators.push(n),
            _ => {}
        });
        self.collect_objects(&declarators);
        for c in calls {
            if super::budget::out_of_time() {
                return;
            }
            self.call(c, &enclosing);
        }
        for c in classes {
            self.nest_controller(c);
        }
        for e in exports {
            self.export(e);
        }
        self.global_guards(root);
    }

    fn export(&mut self, n: Node) {
        if n.kind() == "assignment_expression" {
            let (Some(left), Some(right)) = (field(n, "left"), field(n, "right")) else {
                return;
            };
            let l = self.t(left);
            if l == "module.exports" || l == "exports.default" {
                if let Some(name) = field(right, "name").filter(|_| {
                    matches!(right.kind(), "function_expression" | "function" | "class")
                }) {
                    self.out
                        .exports
                        .push(("default".into(), self.t(name).into()));
                }
                match right.kind() {
                    "identifier" => self
                        .out
                        .exports
                        .push(("default".into(), self.t(right).into())),
                    "object" => {
                        for p in named_children(right) {
                            match p.kind() {
                                "shorthand_property_identifier" => {
                                    let s = self.t(p).to_string();
                                    self.out.exports.push((s.clone(), s));
                                }
                                "pair" => {
                                    if let (Some(k), Some(v)) = (field(p, "key"), field(p, "value"))
                                    {
                                        if v.kind() == "identifier" {
                                            self.out
                                                .exports
                                                .push((self.t(k).into(), self.t(v).into()));
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            } else if let Some(name) = l
                .strip_prefix("exports.")
                .or_else(|| l.strip_prefix("module.exports."))
            {
                if right.kind() == "identifier" {
                    self.out.exports.push((name.into(), self.t(right).into()));
                }
            }
            return;
        }
        // export default x; export { a, b as c }; export const x = ...
        let default = named_children(n).any(|c| c.kind() == "default")
            || self.t(n).starts_with("export default");
        if let Some(decl) = field(n, "declaration").filter(|_| default) {
            if let Some(name) = field(decl, "name") {
                self.out
                    .exports
                    .push(("default".into(), self.t(name).into()));
            }
        }
        if let Some(value) = field(n, "value") {
            if default && value.kind() == "identifier" {
                self.out
                    .exports
                    .push(("default".into(), self.t(value).into()));
            }
        }
        for c in named_children(n) {
            match c.kind() {
                "export_clause" => {
                    for spec in named_children(c).filter(|s| s.kind() == "export_specifier") {
                        let Some(name) = field(spec, "name") else {
                            continue;
                        };
                        let alias = field(spec, "alias").unwrap_or(name);
                        self.out
                            .exports
                            .push((self.t(alias).into(), self.t(name).into()));
                    }
                }
                "lexical_declaration" | "variable_declaration" => {
                    for d in named_children(c).filter(|d| d.kind() == "variable_declarator") {
                        if let Some(name) = field(d, "name") {
                            let s = self.t(name).to_string();
                            self.out.exports.push((s.clone(), s));
                        }
                    }
                }
                "identifier" if default => {
                    self.out.exports.push(("default".into(), self.t(c).into()));
                }
                // `export default fp(rateLimiter)`: the plugin function.
                "call_expression" if default && is_plugin_wrapper(self.t(c)) => {
                    let inner = field(c, "arguments")
                        .and_then(|a| named_children(a).next())
                        .filter(|a| a.kind() == "identifier");
                    if let Some(inner) = inner {
                        self.out
                            .exports
                            .push(("default".into(), self.t(inner).into()));
                    }
                }
                _ => {}
            }
        }
    }

    fn call<'t>(&mut self, call: Node<'t>, enclosing: &Enclosing<'t>) {
        let Some(callee) = field(call, "function") else {
            return;
        };
        // `require('./routes')(app)`, `registerRoutes(app)`: the function gets
        // the app (or router) and registers on it.
        if matches!(callee.kind(), "identifier" | "call_expression") {
            let callee_text = self.t(callee);
            let is_fn = callee.kind() == "identifier" || callee_text.starts_with("require(");
            let target = field(call, "arguments")
                .and_then(|a| named_children(a).next())
                .filter(|a| a.kind() == "identifier")
                .map(|a| self.t(a).to_string())
                .filter(|a| self.is_object(a));
            if let (true, Some(target)) = (is_fn, target) {
                self.out
                    .uses
                    .push(UseSite::handed_to(&target, call.start_byte(), callee_text));
            }
            return;
        }
        if callee.kind() != "member_expression" {
            return;
        }
        let (Some(object), Some(prop)) = (field(callee, "object"), field(callee, "property"))
        else {
            return;
        };
        let method = self.t(prop);
        let args: Vec<Node> = call_arguments(call);
        // `router.route('/p').get(h)`, also chained: `.route(p).post(a).get(b)`.
        if object.kind() == "call_expression" && METHODS.contains(&method) {
            // A chained registration is reported at its own `.get(` line.
            let chained = field(object, "function")
                .and_then(|f| field(f, "property"))
                .is_some_and(|p| self.t(p) != "route");
            let span_start = if chained { prop.start_byte() } else { 0 };
            let mut base = object;
            loop {
                let Some(ic) = field(base, "function").filter(|c| c.kind() == "member_expression")
                else {
                    return;
                };
                let prop = field(ic, "property").map(|p| self.t(p)).unwrap_or("");
                if prop == "route" {
                    let Some(owner) = field(ic, "object").filter(|o| o.kind() == "identifier")
                    else {
                        return;
                    };
                    let path_arg = field(base, "arguments").and_then(|a| named_children(a).next());
                    let owner = self.t(owner).to_string();
                    if self.framework_of(&owner) == Some(Framework::Express)
                        || self.is_object(&owner)
                    {
                        self.route(call, &owner, method, path_arg, &args, span_start);
                    }
                    return;
                }
                if !METHODS.contains(&prop) {
                    return;
                }
                match field(ic, "object").filter(|o| o.kind() == "call_expression") {
                    Some(next) => base = next,
                    None => return,
                }
            }
        }
        if object.kind() != "identifier" {
            return;
        }
        let mut owner = self.t(object).to_string();
        let mut in_fp = false;
        if !self.is_object(&owner) {
            // A Fastify plugin's instance parameter, an Express route
            // module's `app`: the function is the router.
            if let Some((plugin, wrapped, framework)) = self.param_object(call, &owner, enclosing) {
                if !self.is_object(&plugin) {
                    self.out
                        .objects
                        .push(RouterObject::parameter(&plugin, framework, wrapped));
                }
                owner = plugin;
                in_fp = wrapped;
            }
        }
        let known = self.is_object(&owner);
        let framework = self.framework_of(&owner);
        if framework.is_none() {
            return;
        }
        match method {
            m if METHODS.contains(&m) => {
                let Some(first) = args.first() else {
                    return;
                };
                if !matches!(first.kind(), "string" | "template_string") || args.len() < 2 {
                    return;
                }
                let p = unquote(self.t(*first));
                if !(p.starts_with('/') || p.is_empty() || p == "*" || known) {
                    return;
                }
                if !known && !self.project_import(&owner) {
                    return;
                }
                self.route(call, &owner, m, Some(*first), &args[1..], 0);
            }
            "route" if framework == Some(Framework::Fastify) => {
                if let Some(obj) = args.first().filter(|a| a.kind() == "object") {
                    self.fastify_route(call, &owner, *obj);
                }
            }
            // app.route('/x', sub)
            "route" if framework == Some(Framework::Hono) && args.len() == 2 => {
                let path = self.use_path(args[0]);
                let items = vec![self.mw_ref(args[1])];
                self.out.uses.push(UseSite {
                    owner,
                    offset: call.start_byte(),
                    path,
                    items,
                    dynamic: false,
                    replaces_prefix: false,
                    mount: true,
                });
            }
            "use" => {
                if !known && !self.project_import(&owner) {
                    return;
                }
                let (path, rest) = match args.first() {
                    Some(f) if matches!(f.kind(), "string" | "template_string") => {
                        (self.use_path(*f), &args[1..])
                    }
                    Some(f) if f.kind() == "identifier" && self.t(*f).contains("path") => {
                        (UsePath::Dynamic, &args[1..])
                    }
                    // `config.apiPrefix + '/accounts'`, `settings.basePath`,
                    // `['/a', '/b']`: a computed mount path, not middleware.
                    Some(f) if args.len() > 1 && self.computed_path(*f) => {
                        (UsePath::Dynamic, &args[1..])
                    }
                    _ => (UsePath::None, &args[..]),
                };
                let mut items = Vec::new();
                let dynamic = self.mw_list(rest, &mut items);
                self.out.uses.push(UseSite {
                    owner,
                    offset: call.start_byte(),
                    path,
                    items,
                    dynamic,
                    replaces_prefix: false,
                    mount: false,
                });
            }
            "addHook" if framework == Some(Framework::Fastify) => {
                let hook = args.first().map(|a| unquote(self.t(*a))).unwrap_or("");
                if matches!(
                    hook,
                    "onRequest" | "preHandler" | "preValidation" | "preParsing"
                ) {
                    let mut items = Vec::new();
                    let dynamic = self.mw_list(&args[1..], &mut items);
                    self.out.uses.push(UseSite {
                        owner,
                        offset: call.start_byte(),
                        path: UsePath::None,
                        items,
                        dynamic,
                        replaces_prefix: false,
                        mount: false,
                    });
                }
            }
            "register" if framework == Some(Framework::Fastify) => {
                let Some(plugin) = args.first() else {
                    return;
                };
                let plugin_text = self.t(*plugin);
                let root = plugin_text.split(['.', '(']).next().unwrap_or("");
                let module = self.import_module(root).unwrap_or("");
                // A project plugin named like a limiter is judged where it
                // is defined: encapsulated unless wrapped in `fastify-plugin`.
                let project_plugin = ["./", "../", "@/", "~/", "src/"]
                    .iter()
                    .any(|p| module.starts_with(p));
                let is_limiter = module == "@fastify/rate-limit"
                    || module == "fastify-rate-limit"
                    || plugin_text.contains("@fastify/rate-limit")
                    || (crate::knowledge::is_limiter_name(root) && !project_plugin);
                let root_instance = self.out.objects.iter().any(|o| o.name == owner && o.is_app);
                if is_limiter && !root_instance && !in_fp {
                    // Encapsulated: covers this plugin's routes only.
                    self.out.uses.push(UseSite {
                        owner,
                        offset: call.start_byte(),
                        path: UsePath::None,
                        items: vec![MwRef {
                            text: "@fastify/rate-limit".into(),
                            name: "rateLimit".into(),
                            function: None,
                        }],
                        dynamic: false,
                        replaces_prefix: false,
                        mount: false,
                    });
                } else if is_limiter {
                    let opts = args.get(1).filter(|o| o.kind() == "object");
                    let opt_in_only = opts
                        .and_then(|o| self.prop(*o, "global"))
                        .is_some_and(|v| self.t(v) == "false");
                    self.out.global.push(GlobalGuard {
                        framework: Framework::Fastify,
                        opt_in_only,
                        what: "@fastify/rate-limit".into(),
                    });
                } else {
                    let prefix = args
                        .get(1)
                        .filter(|o| o.kind() == "object")
                        .and_then(|o| self.prop(*o, "prefix"))
                        .map(|v| self.use_path(v))
                        .unwrap_or(UsePath::None);
                    let items = vec![self.mw_ref(*plugin)];
                    self.out.uses.push(UseSite {
                        owner,
                        offset: call.start_byte(),
                        path: prefix,
                        items,
                        dynamic: false,
                        replaces_prefix: false,
                        mount: true,
                    });
                }
            }
            _ => {}
        }
    }

    /// When `owner` is the first parameter of an enclosing function that is
    /// a Fastify plugin: (the plugin's name, wrapped in `fastify-plugin`).
    fn param_object<'t>(
        &mut self,
        call: Node<'t>,
        owner: &str,
        enclosing: &Enclosing<'t>,
    ) -> Option<(String, bool, Framework)> {
        let mut cur = enclosing.function_around(call);
        while let Some(n) = cur {
            if Enclosing::is_function(n) {
                let params = field(n, "parameters").or_else(|| field(n, "parameter"))?;
                let first = if params.kind() == "identifier" {
                    Some(params)
                } else {
                    named_children(params).next()
                };
                let first_name = first
                    .map(|p| {
                        let p = field(p, "pattern").unwrap_or(p);
                        self.t(p).to_string()
                    })
                    .unwrap_or_default();
                if first_name != owner {
                    cur = enclosing.function_around(n);
                    continue;
                }
                let fastifyish = owner == "fastify"
                    || self.src.contains("fastify")
                    || self.src.contains("Fastify");
                // An Express route module or setup function: `(app) => { app.get(…) }`.
                let expressish = matches!(owner, "app" | "router" | "server" | "api" | "routes")
                    && self
                        .facts
                        .frameworks
                        .iter()
                        .all(|f| *f == Framework::Express);
                let framework = if fastifyish {
                    Framework::Fastify
                } else if expressish {
                    Framework::Express
                } else {
                    return None;
                };
                // Its name: declared, assigned, or the default export.
                let mut wrapped = false;
                let mut up = n;
                let name = loop {
                    if let Some(name) = field(up, "name") {
                        break Some(self.t(name).to_string());
                    }
                    let Some(parent) = super::syntax::parent(up) else {
                        break None;
                    };
                    match parent.kind() {
                        "variable_declarator" => {
                            break field(parent, "name").map(|x| self.t(x).to_string())
                        }
                        "export_statement" => break Some("default".to_string()),
                        "arguments" => {
                            let callee = parent
                                .parent()
                                .and_then(|c| field(c, "function"))
                                .map(|f| self.t(f))
                                .unwrap_or("");
                            if is_plugin_wrapper(callee) {
                                wrapped = true;
                                up = parent.parent()?;
                                continue;
                            }
                            break None;
                        }
                        "assignment_expression" => {
                            let left = field(parent, "left").map(|l| self.t(l)).unwrap_or("");
                            break (left == "module.exports").then(|| "default".to_string());
                        }
                        _ => break None,
                    }
                }?;
                // `async function rateLimiter(f) {…}; export default fp(rateLimiter)`.
                wrapped |= ["fp(", "fastifyPlugin(", "plugin("]
                    .iter()
                    .any(|w| self.src.contains(&format!("{w}{name})")));
                if name == "default" && !self.out.exports.iter().any(|(e, _)| e == "default") {
                    self.out.exports.push(("default".into(), "default".into()));
                }
                return Some((name, wrapped, framework));
            }
            cur = enclosing.function_around(n);
        }
        None
    }

    /// An app or router imported from a project file (`const app =
    /// require('./app')`): HTTP clients (`axios.create()`) and package
    /// objects are not.
    fn project_import(&self, owner: &str) -> bool {
        looks_like_router_name(owner)
            && self.import_module(owner).is_some_and(|m| {
                m.starts_with('.')
                    || m.starts_with("@/")
                    || m.starts_with("~/")
                    || m.starts_with("src/")
            })
    }

    fn computed_path(&self, n: Node) -> bool {
        // A limiter is never taken for a path (`app.use(rateLimitRoute, r)`).
        let says_path = |t: &str| {
            let lower = t.to_ascii_lowercase();
            ["path", "prefix", "url"].iter().any(|w| lower.contains(w))
                && !crate::knowledge::is_limiter_name(t)
        };
        match n.kind() {
            "binary_expression" => named_children(n)
                .any(|c| matches!(c.kind(), "string" | "template_string") || self.computed_path(c)),
            "template_string" => true,
            "array" => named_children(n).all(|c| matches!(c.kind(), "string" | "template_string")),
            "member_expression" => field(n, "property").is_some_and(|p| says_path(self.t(p))),
            "identifier" => says_path(self.t(n)),
            _ => false,
        }
    }

    fn use_path(&self, n: Node) -> UsePath {
        match n.kind() {
            "string" => UsePath::Literal(unquote(self.t(n)).to_string()),
            "template_string" if !self.t(n).contains("${") => {
                UsePath::Literal(unquote(self.t(n)).to_string())
            }
            _ => UsePath::Dynamic,
        }
    }

    fn route(
        &mut self,
        call: Node,
        owner: &str,
        method: &str,
        path: Option<Node>,
        rest: &[Node],
        span_start: usize,
    ) {
        let Some(framework) = self.framework_of(owner) else {
            return;
        };
        let Some((handler, middle)) = rest.split_last() else {
            return;
        };
        let path = path.and_then(|p| match self.use_path(p) {
            UsePath::Literal(s) => Some(s),
            _ => None,
        });
        let mut guards = Vec::new();
        let mut opt_out = false;
        let mut dynamic_guards = false;
        let mut plain = Vec::new();
        for m in middle {
            // Fastify route options: `{ preHandler, onRequest, config }`.
            if m.kind() == "object" && framework == Framework::Fastify {
                let (o, g, d) = self.fastify_options(*m);
                opt_out |= o;
                guards.extend(g);
                dynamic_guards |= d;
            } else {
                plain.push(*m);
            }
        }
        dynamic_guards |= self.mw_list(&plain, &mut guards);
        let handler_fn = if matches!(
            handler.kind(),
            "arrow_function" | "function_expression" | "function"
        ) {
            self.function_at(*handler)
        } else {
            None
        };
        let handler_name = match handler.kind() {
            "arrow_function" | "function_expression" | "function" => {
                "anonymous handler".to_string()
            }
            _ => shorten(self.t(*handler)),
        };
        self.out.routes.push(RouteDecl {
            framework,
            owner: Some(owner.to_string()),
            method: normalise_method(method),
            path,
            handler: handler_name,
            handler_fn,
            guards,
            dynamic_guards,
            opt_out,
            span: if span_start > 0 {
                crate::source::Span::new(span_start, call.end_byte())
            } else {
                span(call)
            },
        });
    }

    /// (opt-out, guards, dynamic) from Fastify route options.
    fn fastify_options(&self, obj: Node) -> (bool, Vec<MwRef>, bool) {
        let mut guards = Vec::new();
        let mut dynamic = false;
        let mut opt_out = false;
        for key in ["preHandler", "onRequest", "preValidation"] {
            if let Some(v) = self.prop(obj, key) {
                dynamic |= self.mw_list(&[v], &mut guards);
            }
        }
        if let Some(config) = self.prop(obj, "config") {
            if config.kind() == "object" {
                if let Some(rl) = self.prop(config, "rateLimit") {
                    if self.t(rl) == "false" {
                        opt_out = true;
                    } else {
                        guards.push(MwRef {
                            text: format!("config.rateLimit {}", shorten(self.t(rl))),
                            name: "rateLimit".into(),
                            function: None,
                        });
                    }
                }
            } else {
                dynamic = true;
            }
        }
        if named_children(obj).any(|c| c.kind() == "spread_element") {
            dynamic = true;
        }
        (opt_out, guards, dynamic)
    }

    fn fastify_route(&mut self, call: Node, owner: &str, obj: Node) {
        let method = self
            .prop(obj, "method")
            .map(|m| {
                if m.kind() == "array" {
                    "ANY".to_string()
                } else {
                    unquote(self.t(m)).to_ascii_uppercase()
                }
            })
            .unwrap_or_else(|| "ANY".into());
        let path = self
            .prop(obj, "url")
            .or_else(|| self.prop(obj, "path"))
            .and_then(|p| match self.use_path(p) {
                UsePath::Literal(s) => Some(s),
                _ => None,
            });
        let Some(handler) = self.prop(obj, "handler") else {
            return;
        };
        let (opt_out, guards, dynamic_guards) = self.fastify_options(obj);
        let handler_fn = self.function_at(handler);
        let handler_name = if handler_fn.is_some() && handler.kind() != "identifier" {
            "anonymous handler".to_string()
        } else {
            shorten(self.t(handler))
        };
        self.out.routes.push(RouteDecl {
            framework: Framework::Fastify,
            owner: Some(owner.to_string()),
            method,
            path,
            handler: handler_name,
            handler_fn,
            guards,
            dynamic_guards,
            opt_out,
            span: span(call),
        });
    }

    fn decorators<'t>(&self, n: Node<'t>) -> Vec<Node<'t>> {
        let mut out: Vec<Node> = named_children(n)
            .filter(|c| c.kind() == "decorator")
            .collect();
        // Class decorators may sit on the export statement.
        if let Some(p) = n.parent().filter(|p| p.kind() == "export_statement") {
            out.extend(named_children(p).filter(|c| c.kind() == "decorator"));
        }
        // Method decorators may precede the method in the class body.
        let mut prev = n.prev_named_sibling();
        while let Some(p) = prev.filter(|p| matches!(p.kind(), "decorator" | "comment")) {
            if p.kind() == "decorator" {
                out.push(p);
            }
            prev = p.prev_named_sibling();
        }
        out
    }

    /// (name, first argument node) of `@Name(arg)`.
    fn decorator_call<'t>(&self, d: Node<'t>) -> (String, Option<Node<'t>>) {
        let Some(inner) = named_children(d).next() else {
            return (String::new(), None);
        };
        if inner.kind() == "call_expression" {
            let name = field(inner, "function")
                .map(|f| self.t(f).to_string())
                .unwrap_or_default();
            let arg = field(inner, "arguments").and_then(|a| named_children(a).next());
            (name, arg)
        } else {
            (self.t(inner).to_string(), None)
        }
    }

    fn nest_controller(&mut self, class: Node) {
        let decorators = self.decorators(class);
        let mut prefix = None;
        let mut is_controller = false;
        let mut class_guards = Vec::new();
        let mut class_skip = false;
        for d in &decorators {
            let (name, arg) = self.decorator_call(*d);
            match name.as_str() {
                "Controller" => {
                    is_controller = true;
                    prefix = arg.and_then(|a| match a.kind() {
                        "string" => Some(unquote(self.t(a)).to_string()),
                        "object" => self.prop(a, "path").map(|p| unquote(self.t(p)).to_string()),
                        _ => None,
                    });
                    if prefix.is_none() && arg.is_none() {
                        prefix = Some(String::new());
                    }
                }
                "SkipThrottle" => class_skip = !self.t(*d).contains("false"),
                _ => class_guards.push(self.decorator_guard(*d, &name)),
            }
        }
        if !is_controller {
            return;
        }
        let Some(body) = field(class, "body") else {
            return;
        };
        for m in named_children(body).filter(|m| m.kind() == "method_definition") {
            let mut route = None;
            let mut guards = class_guards.clone();
            let mut opt_out = class_skip;
            for d in self.decorators(m) {
                let (name, arg) = self.decorator_call(d);
                match name.as_str() {
                    "Get" | "Post" | "Put" | "Patch" | "Delete" | "All" | "Options" | "Head" => {
                        let p = match arg {
                            None => Some(String::new()),
                            Some(a) if a.kind() == "string" => Some(unquote(self.t(a)).to_string()),
                            Some(_) => None,
                        };
                        route = Some((name.to_ascii_uppercase(), p, d));
                    }
                    "SkipThrottle" => opt_out = !self.t(d).contains("false"),
                    _ => guards.push(self.decorator_guard(d, &name)),
                }
            }
            let Some((method, p, d)) = route else {
                continue;
            };
            let path = match (&prefix, p) {
                (Some(pre), Some(p)) => Some(join(&format!("/{}", pre.trim_matches('/')), &p)),
                _ => None,
            };
            let handler = field(m, "name")
                .map(|n| self.t(n).to_string())
                .unwrap_or_default();
            self.out.routes.push(RouteDecl {
                framework: Framework::NestJs,
                owner: None,
                method,
                path,
                handler,
                handler_fn: self.function_at(m),
                guards,
                dynamic_guards: false,
                opt_out,
                span: span(d),
            });
        }
    }

    fn decorator_guard(&self, d: Node, name: &str) -> MwRef {
        MwRef {
            text: shorten(self.t(d)),
            name: name.to_string(),
            function: None,
        }
    }

    /// NestJS `APP_GUARD` with `ThrottlerGuard`, `useGlobalGuards(new ThrottlerGuard…)`.
    fn global_guards(&mut self, root: Node) {
        let src = self.src;
        if src.contains("APP_GUARD") {
            visit(root, &|_| false, &mut |n| {
                if n.kind() == "object" {
                    let t = text(n, src);
                    if t.contains("APP_GUARD") && t.contains("useClass") {
                        let class = named_children(n).find_map(|p| {
                            (p.kind() == "pair"
                                && field(p, "key").is_some_and(|k| text(k, src) == "useClass"))
                            .then(|| field(p, "value"))
                            .flatten()
                        });
                        if let Some(c) = class {
                            let c = text(c, src).to_string();
                            if crate::knowledge::is_limiter_name(&c) {
                                self.out.global.push(GlobalGuard {
                                    framework: Framework::NestJs,
                                    opt_in_only: false,
                                    what: c,
                                });
                            }
                        }
                    }
                }
            });
        }
        if let Some(i) = src.find("useGlobalGuards(") {
            let rest = &src[i..];
            let end = rest.find(')').unwrap_or(rest.len());
            if crate::knowledge::is_limiter_name(&rest[..end]) {
                self.out.global.push(GlobalGuard {
                    framework: Framework::NestJs,
                    opt_in_only: false,
                    what: "useGlobalGuards".into(),
                });
            }
        }
    }

    /// `withAuth(withCors(handler))`: the wrappers (outermost first) and
    /// the handler function inside, when it is one of this file's.
    fn unwrap_handler(&self, v: Node) -> Option<(Vec<MwRef>, usize, String)> {
        let mut wrappers = Vec::new();
        let mut current = v;
        while current.kind() == "call_expression" {
            let callee = field(current, "function")?;
            let callee_text = self.t(callee);
            wrappers.push(MwRef::called(callee_text));
            current = field(current, "arguments").and_then(|a| named_children(a).next())?;
        }
        let (f, name) = match current.kind() {
            "identifier" => {
                let name = self.t(current).to_string();
                let f = self
                    .facts
                    .functions
                    .iter()
                    .position(|f| f.name == name && f.parent.is_none())?;
                (f, name)
            }
            "arrow_function" | "function_expression" | "function" => {
                (self.function_at(current)?, "inline handler".to_string())
            }
            _ => return None,
        };
        (!wrappers.is_empty()).then_some((wrappers, f, name))
    }

    fn next_file(&mut self, root: Node, path: &Path, kind: NextKind) {
        if kind == NextKind::Middleware {
            self.next_middleware(root);
            return;
        }
        let url = next_path(path, kind);
        for stmt in named_children(root).filter(|s| s.kind() == "export_statement") {
            let t = self.t(stmt);
            let is_default = t.starts_with("export default");
            if kind == NextKind::PagesApi {
                if !is_default {
                    continue;
                }
                let value = field(stmt, "value").or_else(|| field(stmt, "declaration"));
                let (handler, handler_fn) = match value {
                    Some(v) if v.kind() == "identifier" => {
                        let name = self.t(v).to_string();
                        let f = self
                            .facts
                            .functions
                            .iter()
                            .position(|f| f.name == name && f.parent.is_none());
                        (name, f)
                    }
                    // `export default withAuth(handler)`: the handler, judged
                    // with what wraps it.
                    Some(v)
                        if v.kind() == "call_expression" && self.unwrap_handler(v).is_some() =>
                    {
                        let (wrappers, f, name) = self.unwrap_handler(v).expect("checked");
                        self.out.routes.push(RouteDecl {
                            framework: Framework::NextJs,
                            owner: None,
                            method: "ANY".into(),
                            path: Some(url.clone()),
                            handler: name,
                            handler_fn: Some(f),
                            guards: wrappers,
                            dynamic_guards: false,
                            opt_out: false,
                            span: span(stmt),
                        });
                        continue;
                    }
                    // `export default NextAuth(options)`: a library's handler.
                    Some(v) if v.kind() == "call_expression" => {
                        let callee = field(v, "function").map(|c| self.t(c)).unwrap_or("");
                        let module = self.import_module(callee).unwrap_or("");
                        let library = module == "next-auth" || module.starts_with("next-auth/");
                        // `withRateLimit(handler)` protects; another wrapper
                        // (`withAuth(handler)`) cannot be judged here.
                        self.out.routes.push(RouteDecl {
                            framework: Framework::NextJs,
                            owner: None,
                            method: "ANY".into(),
                            path: Some(url.clone()),
                            handler: callee.to_string(),
                            handler_fn: None,
                            guards: vec![MwRef {
                                text: callee.to_string(),
                                name: if library {
                                    "__library_handler__".into()
                                } else {
                                    callee.to_string()
                                },
                                function: None,
                            }],
                            dynamic_guards: !library,
                            opt_out: false,
                            span: span(stmt),
                        });
                        continue;
                    }
                    Some(v) => {
                        let f = self.function_at(v);
                        let name = f
                            .map(|i| self.facts.functions[i].name.clone())
                            .filter(|n| !n.is_empty() && !n.contains(' '))
                            .unwrap_or_else(|| "handler".into());
                        (name, f)
                    }
                    None => ("handler".into(), None),
                };
                self.out.routes.push(RouteDecl {
                    framework: Framework::NextJs,
                    owner: None,
                    method: "ANY".into(),
                    path: Some(url.clone()),
                    handler,
                    handler_fn,
                    guards: Vec::new(),
                    dynamic_guards: handler_fn.is_none(),
                    opt_out: false,
                    span: span(stmt),
                });
                continue;
            }
            let Some(decl) = field(stmt, "declaration") else {
                continue;
            };
            let mut named: Vec<(String, Option<usize>, Vec<MwRef>)> = Vec::new();
            match decl.kind() {
                "function_declaration" | "generator_function_declaration" => {
                    if let Some(n) = field(decl, "name") {
                        named.push((self.t(n).to_string(), self.function_at(decl), Vec::new()));
                    }
                }
                "lexical_declaration" | "variable_declaration" => {
                    for d in named_children(decl).filter(|d| d.kind() == "variable_declarator") {
                        if let Some(n) = field(d, "name") {
                            let value = field(d, "value");
                            // `export const POST = withAuth(async (req) => …)`.
                            if let Some((wrappers, f, _)) =
                                value.and_then(|v| self.unwrap_handler(v))
                            {
                                named.push((self.t(n).to_string(), Some(f), wrappers));
                                continue;
                            }
                            let f = value.and_then(|v| self.function_at(v));
                            named.push((self.t(n).to_string(), f, Vec::new()));
                        }
                    }
                }
                _ => {}
            }
            for (name, f, wrappers) in named {
                if !crate::knowledge::JS_HTTP_METHOD_EXPORTS.contains(&name.as_str()) {
                    continue;
                }
                self.out.routes.push(RouteDecl {
                    framework: Framework::NextJs,
                    owner: None,
                    method: name.clone(),
                    path: Some(url.clone()),
                    handler: name,
                    handler_fn: f,
                    guards: wrappers,
                    dynamic_guards: f.is_none(),
                    opt_out: false,
                    span: span(stmt),
                });
            }
        }
    }

    fn next_middleware(&mut self, root: Node) {
        let src = self.src;
        let limits = crate::knowledge::is_limiter_name(src)
            || self.facts.functions.iter().any(|f| f.calls_limiter)
            || self
                .facts
                .functions
                .iter()
                .any(|f| f.answers_rate_limit_429)
            || ["ratelimit", "rateLimit", "Ratelimit", "limiter"]
                .iter()
                .any(|m| src.contains(m));
        let mut matchers = Vec::new();
        let mut dynamic_matcher = false;
        visit(root, &|_| false, &mut |n| {
            if n.kind() == "pair"
                && field(n, "key").is_some_and(|k| unquote(text(k, src)) == "matcher")
            {
                if let Some(v) = field(n, "value") {
                    match v.kind() {
                        "string" => matchers.push(unquote(text(v, src)).to_string()),
                        "array" => {
                            for e in named_children(v) {
                                if e.kind() == "string" {
                                    matchers.push(unquote(text(e, src)).to_string());
                                } else {
                                    dynamic_matcher = true;
                                }
                            }
                        }
                        _ => dynamic_matcher = true,
                    }
                }
            }
        });
        // Path checks inside the middleware (`pathname.startsWith('/api')`)
        // narrow it in ways the matcher does not show.
        let narrows = src.contains("startsWith(") || src.contains("pathname ===");
        self.out.next_middleware = Some(NextMiddleware {
            limits,
            matchers,
            dynamic_matcher: dynamic_matcher || narrows,
        });
    }
}

/// `fp(…)` / `fastifyPlugin(…)`: a Fastify plugin shared with its parent.
fn is_plugin_wrapper(callee_or_call: &str) -> bool {
    let callee = callee_or_call.split('(').next().unwrap_or("");
    callee == "fp" || callee.contains("lugin")
}

fn looks_like_router_name(owner: &str) -> bool {
    let o = owner.to_ascii_lowercase();
    [
        "app", "router", "server", "api", "fastify", "routes", "route", "instance",
    ]
    .iter()
    .any(|m| o.contains(m))
}

pub fn normalise_method(m: &str) -> String {
    match m {
        "all" => "ANY".into(),
        "del" => "DELETE".into(),
        _ => m.to_ascii_uppercase(),
    }
}

pub fn shorten(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        let cut: String = one_line.chars().take(57).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// `prefix` + `path`, one slash between them.
pub fn join(prefix: &str, path: &str) -> String {
    let p = prefix.trim_end_matches('/');
    if path.is_empty() || path == "/" {
        return if p.is_empty() { "/".into() } else { p.into() };
    }
    if path.starts_with('/') {
        format!("{p}{path}")
    } else {
        format!("{p}/{path}")
    }
}
