//! Python fact extraction.
//!
//! Two passes over one tree: a pre-scan collects imports, module-level and
//! class-level containers and `self.x = …` containers (a function may use a
//! name defined below it), then a walk in source order visits every
//! function with a lexical scope and records state accesses, calls, deny
//! signals and request-context evidence.

use super::builder::{
    combine_keys, key_from_text, Builder, KeyFold, LocalCtor, NameRef, PipelineStep, MAX_KEY_TEXT,
};
use super::syntax::{
    comparison_guards_nothing, field, fold, last_segment, named_children, span, text, unquote,
    visit, FoldMemo,
};
use crate::facts::*;
use crate::knowledge;
use crate::source::Span;
use std::collections::HashSet;
use std::path::Path;
use tree_sitter::{Node, Tree};

pub fn extract(path: &Path, src: &str, tree: &Tree) -> FileFacts {
    let mut x = PyExtractor {
        src,
        b: Builder::default(),
        global_request: false,
        classes: HashSet::new(),
        plain_exceptions: HashSet::new(),
        key_memo: FoldMemo::new(MAX_KEY_TEXT),
        rejection_target: None,
    };
    x.b.facts.path = path.to_path_buf();
    x.b.facts.lang = Some(super::Lang::Python);
    let root = tree.root_node();
    x.prescan(root);
    x.walk(root, None);
    super::add_flow_facts(&mut x.b.facts, root, src, true);
    super::add_client_keys(&mut x.b.facts, root, src, true);
    if super::routes_py::worth_analysing(src) {
        super::routes_py::analyse(root, src, path, &mut x.b.facts);
    }
    x.b.facts
}

struct PyExtractor<'s> {
    src: &'s str,
    b: Builder,
    /// `from flask import request`: `request` is a per-request global.
    global_request: bool,
    classes: HashSet<String>,
    /// Exception classes defined here on a builtin base (no HTTP status).
    plain_exceptions: HashSet<String>,
    /// Key folds of long expressions (see `key_fold`).
    key_memo: FoldMemo<(Option<usize>, u64), KeyFold>,
    /// The statement a 429 met below the node being walked answers with,
    /// if any (see `Builder::add_rejection`); kept by `walk` from the top down.
    rejection_target: Option<Span>,
}
fn is_scope_boundary(n: Node) -> bool {
    matches!(
        n.kind(),
        "function_definition" | "class_definition" | "lambda"
    )
}

/// Pre-scans look for statements (imports, assignments, `global`), so they
/// need not descend into expressions: this keeps them far cheaper than
/// the main walk. An assignment is visited but its sides are read by field.
fn is_expression_or_assignment(n: Node) -> bool {
    matches!(
        n.kind(),
        "assignment"
            | "augmented_assignment"
            | "call"
            | "binary_operator"
            | "boolean_operator"
            | "comparison_operator"
            | "not_operator"
            | "unary_operator"
            | "list"
            | "dictionary"
            | "set"
            | "tuple"
            | "string"
            | "concatenated_string"
            | "subscript"
            | "attribute"
            | "list_comprehension"
            | "dictionary_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "conditional_expression"
            | "parenthesized_expression"
            | "await"
            | "decorator"
    )
}

fn is_statement_scan_boundary(n: Node) -> bool {
    is_scope_boundary(n) || is_expression_or_assignment(n)
}

impl<'s> PyExtractor<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    // ---------------------------------------------------------------- pass 1

    fn prescan(&mut self, root: Node) {
        let mut imports = Vec::new();
        // Imports are statements (also inside functions and `try` blocks).
        visit(root, &is_expression_or_assignment, &mut |n| {
            if matches!(n.kind(), "import_statement" | "import_from_statement") {
                imports.push(n)
            }
        });
        (self.b.facts.syntax_errors, self.b.facts.first_syntax_error) =
            super::count_syntax_errors(root);
        for i in imports {
            self.import(i);
        }
        self.prescan_block(root);
    }

    fn import(&mut self, node: Node) {
        let from_module = field(node, "module_name").map(|m| self.t(m).to_string());
        let mut cursor = node.walk();
        let names: Vec<Node> = node.children_by_field_name("name", &mut cursor).collect();
        for name in names {
            let (imported, local) = match name.kind() {
                "aliased_import" => (
                    field(name, "name").map(|n| self.t(n)).unwrap_or(""),
                    field(name, "alias").map(|n| self.t(n)).unwrap_or(""),
                ),
                _ => {
                    let t = self.t(name);
                    (t, t)
                }
            };
            if imported.is_empty() {
                continue;
            }
            match &from_module {
                Some(module) => {
                    self.note_framework(module);
                    let root = module.split('.').next().unwrap_or("");
                    if imported == "request" && knowledge::PY_GLOBAL_REQUEST_MODULES.contains(&root)
                    {
                        self.global_request = true;
                    }
                    self.b.add_import(local, module, Some(imported));
                }
                None => {
                    self.note_framework(imported);
                    // `import a.b` binds `a`; `import a.b as c` binds `c`.
                    let local = if name.kind() == "aliased_import" {
                        local
                    } else {
                        imported.split('.').next().unwrap_or(imported)
                    };
                    self.b.add_import(local, imported, None);
                }
            }
        }
    }

    fn note_framework(&mut self, module: &str) {
        let root = module.split('.').next().unwrap_or("");
        for (m, fw) in knowledge::PY_FRAMEWORK_MODULES {
            if *m == root {
                self.b.facts.frameworks.insert(*fw);
            }
        }
    }

    /// Module-level statements, looking through `if`/`try`/`with` blocks.
    fn prescan_block(&mut self, node: Node) {
        for stmt in named_children(node) {
            match stmt.kind() {
                "expression_statement" => {
                    for a in named_children(stmt).filter(|c| c.kind() == "assignment") {
                        self.prescan_module_assignment(a);
                    }
                }
                "class_definition" => self.prescan_class(stmt),
                "decorated_definition" => {
                    if let Some(def) =
                        field(stmt, "definition").filter(|d| d.kind() == "class_definition")
                    {
                        self.prescan_class(def);
                    }
                }
                "if_statement" | "try_statement" | "with_statement" | "block" | "else_clause"
                | "elif_clause" | "except_clause" | "finally_clause" => self.prescan_block(stmt),
                _ => {}
            }
        }
    }

    fn prescan_module_assignment(&mut self, a: Node) {
        for (left, right) in assigned_pairs(a) {
            if left.kind() == "identifier" {
                self.django_setting(a, self.t(left), right);
                self.module_container(a, left, right);
            }
        }
    }

    /// `INSTALLED_APPS`, `CACHES`, `REST_FRAMEWORK` in a settings module.
    fn django_setting(&mut self, assignment: Node, name: &str, value: Node) {
        let src = self.src;
        let django = &mut self.b.facts.django;
        match name {
            "INSTALLED_APPS" => django.installed_apps = Some(span(assignment)),
            "CACHES" => {
                let backend = dict_get(value, "default", src)
                    .and_then(|d| dict_get(d, "BACKEND", src))
                    .filter(|b| b.kind() == "string")
                    .map(|b| cache_backend(unquote(text(b, src))))
                    .unwrap_or(CacheBackend::Unknown);
                django.caches = Some((span(assignment), backend));
            }
            "RATELIMIT_USE_CACHE" => {
                let alias =
                    (value.kind() == "string").then(|| unquote(text(value, src)).to_string());
                django.ratelimit_cache = Some(alias.unwrap_or_default());
            }
            "REST_FRAMEWORK" => {
                if let Some(classes) = dict_get(value, "DEFAULT_THROTTLE_CLASSES", src) {
                    django.default_throttle_classes = Some(span(classes));
                }
                django.throttle_rates |= dict_get(value, "DEFAULT_THROTTLE_RATES", src).is_some();
            }
            _ => {}
        }
    }

    fn module_container(&mut self, a: Node, left: Node, right: Node) {
        if self.is_store_client(right) {
            let name = self.t(left).to_string();
            self.b.add_store_var(&name);
        }
        if let Some((ctor, bounded)) = self.container_ctor(right) {
            let name = self.t(left).to_string();
            let idx = self.b.add_container(Container {
                name: name.clone(),
                scope: ContainerScope::Module,
                constructor: ctor,
                bounded,
                span: span(a),
            });
            self.b.module_containers.insert(name, idx);
        }
    }

    fn prescan_class(&mut self, class: Node) {
        let Some(name) = field(class, "name").map(|n| self.t(n).to_string()) else {
            return;
        };
        self.classes.insert(name.clone());
        let bases = field(class, "superclasses")
            .map(|s| self.t(s))
            .unwrap_or("");
        // `class TooManyRequests(Exception)`: a project's own plain
        // exception, not werkzeug's 429; raising it answers nothing yet.
        if matches!(bases, "(Exception)" | "(RuntimeError)" | "(ValueError)") {
            self.plain_exceptions.insert(name.clone());
        }
        // Frameworks create one middleware instance for the whole process.
        let mut framework_instantiated =
            bases.contains("BaseHTTPMiddleware") || bases.contains("MiddlewareMixin");
        let Some(body) = field(class, "body") else {
            return;
        };
        for stmt in named_children(body) {
            let def = match stmt.kind() {
                "decorated_definition" => field(stmt, "definition"),
                "function_definition" => Some(stmt),
                "expression_statement" => {
                    for a in named_children(stmt).filter(|c| c.kind() == "assignment") {
                        self.prescan_class_assignment(&name, a);
                    }
                    None
                }
                _ => None,
            };
            let Some(def) = def.filter(|d| d.kind() == "function_definition") else {
                continue;
            };
            let params = field(def, "parameters")
                .map(|p| self.param_names(p))
                .unwrap_or_default();
            let method = field(def, "name").map(|n| self.t(n)).unwrap_or("");
            if method == "__init__" && params.iter().any(|p| p == "get_response" || p == "app") {
                framework_instantiated = true;
            }
            let self_name = params.first().cloned().unwrap_or_else(|| "self".into());
            if let Some(body) = field(def, "body") {
                self.prescan_self_attrs(&name, &self_name, body);
            }
        }
        if framework_instantiated {
            self.b.facts.instantiations.push(Instantiation {
                class: name,
                function: None,
                bound_to: None,
            });
        }
    }

    fn prescan_class_assignment(&mut self, class: &str, a: Node) {
        for (left, right) in assigned_pairs(a) {
            if left.kind() == "identifier" {
                self.class_container(class, a, left, right);
            }
        }
    }

    fn class_container(&mut self, class: &str, a: Node, left: Node, right: Node) {
        // DRF: a throttle with its own cache (`cache = caches["throttle"]`).
        if self.t(left) == "cache" && self.t(right).starts_with("caches") {
            self.b.facts.django.custom_throttle_cache = true;
        }
        // DRF: `throttle_classes = [UserRateThrottle]` on a view.
        if self.t(left) == "throttle_classes"
            && right.kind() == "list"
            && named_children(right).next().is_some()
        {
            self.b.facts.django.throttle_class_uses.push(span(a));
        }
        if let Some((ctor, bounded)) = self.container_ctor(right) {
            let attr = self.t(left).to_string();
            let idx = self.b.add_container(Container {
                name: format!("{class}.{attr}"),
                scope: ContainerScope::ClassAttr {
                    class: class.to_string(),
                },
                constructor: ctor,
                bounded,
                span: span(a),
            });
            self.b.class_attrs.insert((class.to_string(), attr), idx);
        }
    }

    fn prescan_self_attrs(&mut self, class: &str, self_name: &str, body: Node) {
        let src = self.src;
        let mut found = Vec::new();
        visit(body, &is_statement_scan_boundary, &mut |n| {
            if n.kind() != "assignment" {
                return;
            }
            for (left, right) in assigned_pairs(n) {
                if left.kind() == "attribute"
                    && field(left, "object").is_some_and(|o| text(o, src) == self_name)
                {
                    if let Some(attr) = field(left, "attribute") {
                        found.push((text(attr, src).to_string(), right, n));
                    }
                }
            }
        });
        for (attr, right, assign) in found {
            let key = (class.to_string(), attr.clone());
            if self.b.instance_attrs.contains_key(&key) {
                continue;
            }
            if let Some((ctor, bounded)) = self.container_ctor(right) {
                let idx = self.b.add_container(Container {
                    name: format!("self.{attr}"),
                    scope: ContainerScope::InstanceAttr {
                        class: class.to_string(),
                    },
                    constructor: ctor,
                    bounded,
                    span: span(assign),
                });
                self.b.instance_attrs.insert(key, idx);
            }
        }
    }

    /// `{}`, `[]`, `dict()`, `defaultdict(list)`, `TTLCache(...)`, …
    fn container_ctor(&self, node: Node) -> Option<(String, bool)> {
        let display = |t: &str| {
            if t.len() <= 48 && !t.contains('\n') {
                t.to_string()
            } else {
                String::new()
            }
        };
        match node.kind() {
            "dictionary" | "list" | "set" => {
                let t = display(self.t(node));
                let shown = if t.is_empty() {
                    if node.kind() == "list" {
                        "[…]"
                    } else {
                        "{…}"
                    }
                    .to_string()
                } else {
                    t
                };
                Some((shown, false))
            }
            "call" => {
                let func = field(node, "function")?;
                if !matches!(func.kind(), "identifier" | "attribute") {
                    return None;
                }
                let name = last_segment(self.t(func));
                let ctor = knowledge::container_ctor(knowledge::PYTHON_CONTAINER_CTORS, name)?;
                let t = display(self.t(node));
                Some((
                    if t.is_empty() {
                        format!("{name}(…)")
                    } else {
                        t
                    },
                    ctor.bounded,
                ))
            }
            _ => None,
        }
    }

    fn param_names(&self, params: Node) -> Vec<String> {
        let mut out = Vec::new();
        for p in named_children(params) {
            let name = match p.kind() {
                "identifier" => Some(p),
                "typed_parameter" => named_children(p).find(|c| c.kind() == "identifier"),
                "default_parameter" | "typed_default_parameter" => field(p, "name"),
                _ => None,
            };
            if let Some(n) = name {
                out.push(self.t(n).to_string());
            }
        }
        out
    }

    // ---------------------------------------------------------------- pass 2

    fn walk(&mut self, node: Node, class: Option<&str>) {
        if self.b.enter(false) {
            let outer = self.rejection_target;
            self.rejection_target = self.rejection_target_below(node, outer);
            self.walk_node(node, class);
            self.rejection_target = outer;
            self.b.leave(false);
        }
    }

    fn walk_node(&mut self, node: Node, class: Option<&str>) {
        if node.kind() == "comment" {
            let line = node.start_position().row + 1;
            let comment = self.t(node);
            self.b.facts.suppressions.add_comment(comment, line);
            return;
        }
        match node.kind() {
            "function_definition" => return self.function(node, &[], class),
            "decorated_definition" => {
                let decorators: Vec<Node> = named_children(node)
                    .filter(|c| c.kind() == "decorator")
                    .collect();
                for d in &decorators {
                    self.walk(*d, None);
                }
                if let Some(def) = field(node, "definition") {
                    match def.kind() {
                        "function_definition" => self.function(def, &decorators, class),
                        _ => self.walk(def, class),
                    }
                }
                return;
            }
            "class_definition" => {
                let name = field(node, "name").map(|n| self.t(n).to_string());
                if let Some(body) = field(node, "body") {
                    for stmt in named_children(body) {
                        self.walk(stmt, name.as_deref());
                    }
                }
                return;
            }
            "assignment" => self.assignment(node),
            "await" => self.b.note_await(node.start_byte()),
            // `with lock:`, `with self._lock:`, `async with limiter_lock:`
            "with_statement" => {
                let items = named_children(node).next().map(|c| self.t(c)).unwrap_or("");
                let lower = items.to_ascii_lowercase();
                if ["lock", "mutex", "semaphore"]
                    .iter()
                    .any(|w| lower.contains(w))
                {
                    self.b.note_lock();
                }
            }
            "try_statement" => return self.try_statement(node),
            "augmented_assignment" => self.augmented_assignment(node),
            "call" => {
                let callee = field(node, "function").map(|f| self.t(f)).unwrap_or("");
                if callee.ends_with(".acquire") {
                    self.b.note_lock();
                }
                self.call(node)
            }
            "comparison_operator" => self.comparison(node),
            "delete_statement" => self.delete(node),
            "return_statement" => self.return_statement(node),
            "raise_statement" => {
                let t = self.t(node);
                let strong = ["TooMany", "RateLimit", "Throttl", "LimitExceeded", "429"]
                    .iter()
                    .any(|p| t.contains(p));
                self.b.raise_deny(if strong {
                    DenySignal::Strong
                } else {
                    DenySignal::Weak
                });
            }
            "integer" => match self.t(node).parse::<u32>() {
                Ok(429) => {
                    self.b.raise_deny(DenySignal::Strong);
                    self.b.add_rejection(self.rejection_target, self.src);
                }
                Ok(400..=499) => self.b.raise_deny(DenySignal::Weak),
                _ => {}
            },
            "string" => {
                self.note_config_name(node);
            }
            "pair" => {
                if let (Some(k), Some(v)) = (field(node, "key"), field(node, "value")) {
                    self.note_config_value(k, v);
                }
            }
            "keyword_argument" => {
                if let (Some(k), Some(v)) = (field(node, "name"), field(node, "value")) {
                    self.note_config_value(k, v);
                }
            }
            "identifier" => {
                self.note_config_name(node);
                let t = self.t(node);
                if t.contains("TOO_MANY_REQUESTS")
                    || t.contains("TooManyRequests")
                    || t == "HTTP_429_TOO_MANY_REQUESTS"
                {
                    self.b.raise_deny(DenySignal::Strong);
                    if !self.plain_exceptions.contains(t) {
                        self.b.add_rejection(self.rejection_target, self.src);
                    }
                }
                if t == "request"
                    && self.global_request
                    && self
                        .b
                        .scope()
                        .is_some_and(|s| !s.locals.contains("request"))
                {
                    self.b.mark_request_context();
                }
            }
            _ => {}
        }
        let mut cursor = node.walk();
        if cursor.goto_first_child() {
            loop {
                self.walk(cursor.node(), None);
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
    }

    fn function(&mut self, def: Node, decorators: &[Node], class: Option<&str>) {
        let name = field(def, "name").map(|n| self.t(n)).unwrap_or("<lambda>");
        let mut params = field(def, "parameters")
            .map(|p| self.param_names(p))
            .unwrap_or_default();
        let self_name =
            if class.is_some() && params.first().is_some_and(|p| p == "self" || p == "cls") {
                Some(params.remove(0))
            } else {
                None
            };
        let request_context = decorators.iter().any(|d| self.is_request_decorator(*d))
            || params.iter().any(|p| p == "request" || p == "req")
            || (params.iter().any(|p| p == "scope") && params.iter().any(|p| p == "receive"));
        let function = Function {
            name: name.to_string(),
            class: class.map(str::to_string),
            span: field(def, "name").map(span).unwrap_or_else(|| span(def)),
            params,
            request_context,
            deny: DenySignal::None,
            calls: Vec::new(),
            parent: self.b.current_function(),
            inline: false,
            calls_limiter: false,
            answers_rate_limit_429: false,
            is_async: self.t(def).starts_with("async"),
            awaits: Vec::new(),
            locks: false,
        };
        let class = class.map(str::to_string).or_else(|| self.b.current_class());
        self.b.open_function(function, class);
        if let Some(s) = self_name {
            if let Some(scope) = self.b.scope_mut() {
                scope.locals.insert(s);
            }
        }
        // `@app.get("/", dependencies=[Depends(check_rate)])`: the route
        // calls the dependency on every request.
        for d in decorators {
            for dep in self.dependency_targets(*d) {
                self.b.add_call(&dep, None, Vec::new());
            }
        }
        if let Some(params) = field(def, "parameters") {
            // Defaults such as `Depends(check_rate)` run per request too.
            self.walk(params, None);
        }
        if let Some(body) = field(def, "body") {
            self.prescan_function_body(body);
            for stmt in named_children(body) {
                self.walk(stmt, None);
            }
        }
        self.b.close_function();
    }

    /// `Limiter(...)` from a known limiter library: record its options.
    fn limiter_setup(&mut self, call: Node, func: Node) {
        let (object, name) = match func.kind() {
            "identifier" => (None, self.t(func)),
            "attribute" => match (field(func, "object"), field(func, "attribute")) {
                (Some(o), Some(a)) if o.kind() == "identifier" => (Some(self.t(o)), self.t(a)),
                (Some(o), Some(a)) if o.kind() == "attribute" => {
                    // `limits.storage.MemoryStorage()` after `import limits`.
                    let path = self.t(o);
                    let (root, rest) = path.split_once('.').unwrap_or((path, ""));
                    let library = match self.b.imported.get(root) {
                        Some((module, None)) => knowledge::limiter_library(
                            true,
                            &format!("{module}.{rest}"),
                            Some(self.t(a)),
                        ),
                        _ => None,
                    };
                    match library {
                        Some(l) => return self.record_limiter_setup(call, func, l),
                        None => return,
                    }
                }
                _ => return,
            },
            _ => return,
        };
        let Some(library) = self.b.limiter_library_for(true, object, name) else {
            return;
        };
        self.record_limiter_setup(call, func, library);
    }

    fn record_limiter_setup(&mut self, call: Node, func: Node, library: usize) {
        let mut setup = LimiterSetup {
            library,
            callee: self.t(func).to_string(),
            options: Vec::new(),
            options_unknown: false,
            string_arg: None,
            first_arg: None,
            array_form: false,
            insurance: false,
            bound_to: self.assigned_name(call).map(str::to_string),
            span: span(call),
        };
        let mut positional = 0usize;
        for arg in field(call, "arguments")
            .map(|a| named_children(a).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match arg.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (field(arg, "name"), field(arg, "value")) {
                        setup
                            .options
                            .push((self.t(k).to_string(), short_value(v, self.src)));
                    }
                }
                "list_splat" | "dictionary_splat" => setup.options_unknown = true,
                "comment" => {}
                _ => {
                    let literal = arg.kind() == "string"
                        && !named_children(arg).any(|c| c.kind() == "interpolation");
                    if positional == 0 && literal {
                        setup.string_arg = Some(unquote(self.t(arg)).to_string());
                    }
                    if positional == 0 {
                        setup.first_arg = Some(short_value(arg, self.src));
                    }
                    positional += 1;
                }
            }
        }
        self.b.facts.limiter_setups.push(setup);
    }

    /// Where a 429 below `node` answers, given `outer`, where one at `node`
    /// would: the nearest statement above it, unless a comparison, a block
    /// or a function comes first. Worked out once per node as the walk
    /// descends; climbing from each 429 with `Node::parent` (which searches
    /// down from the root) was cubic in the nesting depth.
    fn rejection_target_below(&self, node: Node, outer: Option<Span>) -> Option<Span> {
        match node.kind() {
            "comparison_operator" => None,
            "return_statement" | "raise_statement" | "expression_statement" => Some(span(node)),
            kind if is_scope_boundary(node) || kind == "block" => None,
            _ => outer,
        }
    }

    /// `try:` … `except …:`: the body runs under a guard if some clause
    /// catches store errors; that guard fails closed if the clause answers
    /// 429.
    fn try_statement(&mut self, node: Node) {
        let src = self.src;
        let catching: Vec<Node> = named_children(node)
            .filter(|c| {
                matches!(c.kind(), "except_clause" | "except_group_clause")
                    && catches_store_errors(*c, src)
            })
            .collect();
        let guard = if catching.is_empty() {
            None
        } else if catching.iter().any(|c| answers_429(text(*c, src))) {
            Some(Guard::FailClosed)
        } else {
            Some(Guard::Handled)
        };
        let body = field(node, "body");
        let mut cursor = node.walk();
        let kids: Vec<Node> = node.children(&mut cursor).collect();
        for child in kids {
            let guarded = guard.filter(|_| Some(child) == body);
            if let Some(g) = guarded {
                self.b.guards.push(g);
            }
            self.walk(child, None);
            if guarded.is_some() {
                self.b.guards.pop();
            }
        }
    }

    /// A client for a shared store: `redis.Redis(...)`, `Redis.from_url(...)`,
    /// `get_redis_connection()`, `pymemcache.Client(...)`, `r.pipeline()`.
    fn is_store_client(&self, value: Node) -> bool {
        // `caches["ratelimit"]` (Django)
        if value.kind() == "subscript" {
            let base = field(value, "value").map(|v| self.t(v)).unwrap_or("");
            return self
                .b
                .imported
                .get(base)
                .is_some_and(|(module, _)| module.starts_with("django.core.cache"));
        }
        if value.kind() != "call" {
            return false;
        }
        let Some(func) = field(value, "function") else {
            return false;
        };
        let callee = self.t(func);
        let name = last_segment(callee);
        if matches!(name, "pipeline" | "multi") {
            let object = field(func, "object").map(|o| self.t(o)).unwrap_or("");
            return self.b.is_store_var(object) || knowledge::named_like_store(object);
        }
        let root = callee.split('.').next().unwrap_or(callee);
        knowledge::STORE_CLIENT_CONSTRUCTORS.contains(&name)
            && self.b.imported.get(root).is_some_and(|(module, _)| {
                knowledge::STORE_CLIENT_MODULES.contains(&module.split('.').next().unwrap_or(""))
            })
    }

    /// `r.incr(key)` on a store client, and application-wide handlers for
    /// store errors.
    fn store_call(&mut self, call: Node, func: Node) {
        let callee = last_segment(self.t(func));
        if matches!(
            callee,
            "errorhandler"
                | "exception_handler"
                | "add_exception_handler"
                | "register_error_handler"
        ) {
            let args = field(call, "arguments").map(|a| self.t(a)).unwrap_or("");
            if ["Redis", "redis", "ConnectionError", "Memcache"]
                .iter()
                .any(|w| args.contains(w))
            {
                self.b.facts.store_error_handler = true;
            }
            return;
        }
        if func.kind() != "attribute" || !knowledge::STORE_COMMANDS.contains(&callee) {
            return;
        }
        let Some(object) = field(func, "object") else {
            return;
        };
        let receiver = self.t(object);
        let base = chain_base(object, self.src);
        let is_django_cache = |name: &str| {
            self.b
                .imported
                .get(name)
                .is_some_and(|(module, _)| module.starts_with("django.core.cache"))
        };
        let is_store = self.b.is_store_var(receiver)
            || self.b.is_store_var(base)
            || knowledge::named_like_store(receiver)
            || is_django_cache(receiver)
            || (object.kind() == "subscript" && is_django_cache(base));
        if !is_store {
            return;
        }
        let key = field(call, "arguments")
            .and_then(|a| named_children(a).find(|c| c.kind() != "keyword_argument"))
            .map(|k| self.classify(k))
            .unwrap_or(KeyClass::Unknown);
        let key = match self.b.pipeline_step(receiver, callee, key) {
            PipelineStep::Send(key) => key,
            PipelineStep::Queued => return,
            PipelineStep::ExecuteChain => self.classify(object),
        };
        let function = self.b.current_function();
        let guard = self.b.current_guard();
        self.b.facts.store_calls.push(StoreCall {
            receiver: receiver.to_string(),
            command: callee.to_string(),
            key,
            function,
            guard,
            span: span(call),
        });
    }

    /// django-ratelimit (`@ratelimit(rate=…)`, `is_ratelimited(...)`) and
    /// DRF's `@throttle_classes([...])`: limiters that count in Django's
    /// cache.
    fn django_limiter_use(&mut self, call: Node, func: Node) {
        if func.kind() != "identifier" {
            return;
        }
        let name = self.t(func);
        let Some((module, _)) = self.b.imported.get(name) else {
            return;
        };
        let args: Vec<Node> = field(call, "arguments")
            .map(|a| named_children(a).collect())
            .unwrap_or_default();
        let from_ratelimit =
            module.starts_with("django_ratelimit") || module.starts_with("ratelimit.");
        if from_ratelimit && matches!(name, "ratelimit" | "is_ratelimited") {
            let has_rate = args.iter().any(|a| {
                a.kind() == "keyword_argument"
                    && field(*a, "name").is_some_and(|n| self.t(n) == "rate")
            });
            if has_rate || name == "is_ratelimited" {
                self.b.facts.django.ratelimit_uses.push(span(call));
            }
        } else if module.starts_with("rest_framework")
            && name == "throttle_classes"
            && args
                .first()
                .is_some_and(|l| l.kind() == "list" && named_children(*l).next().is_some())
        {
            self.b.facts.django.throttle_class_uses.push(span(call));
        }
    }

    /// `RATELIMIT_STORAGE_URI = "memory://"`: keep the literal value, so
    /// a configured memory store is not mistaken for a shared one.
    fn note_config_value(&mut self, name: Node, value: Node) {
        let key = unquote(self.t(name));
        if !key.starts_with("RATELIMIT_") {
            return;
        }
        // A value computed at run time is unknown: recorded as such, so it
        // is never mistaken for one of the literal values beside it.
        let literal =
            value.kind() == "string" && !named_children(value).any(|c| c.kind() == "interpolation");
        let value = if literal {
            unquote(self.t(value)).to_string()
        } else {
            "<computed>".to_string()
        };
        self.b
            .facts
            .config_values
            .entry(key.to_string())
            .or_default()
            .push(value);
    }

    /// `RATELIMIT_STORAGE_URI` and friends, wherever a file mentions them
    /// (settings modules, `app.config[...]`, `config.update(...)`).
    fn note_config_name(&mut self, node: Node) {
        let t = self.t(node);
        if let Some(at) = t.find("RATELIMIT_") {
            let name: String = t[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            self.b.facts.config_names.insert(name);
        }
    }

    /// `limiter = RateLimiter()` / `self.limiter = …` → `limiter`.
    fn assigned_name(&self, value: Node) -> Option<&'s str> {
        let parent = value.parent()?;
        if parent.kind() != "assignment" || field(parent, "right") != Some(value) {
            return None;
        }
        let left = field(parent, "left")?;
        matches!(left.kind(), "identifier" | "attribute").then(|| last_segment(self.t(left)))
    }

    /// Names passed to `Depends(...)` / `Security(...)` anywhere under `node`.
    fn dependency_targets(&self, node: Node) -> Vec<String> {
        let src = self.src;
        let mut out = Vec::new();
        visit(node, &is_scope_boundary, &mut |n| {
            if n.kind() != "call" {
                return;
            }
            let callee = field(n, "function")
                .map(|f| last_segment(text(f, src)))
                .unwrap_or("");
            if !matches!(callee, "Depends" | "Security") {
                return;
            }
            if let Some(first) = field(n, "arguments").and_then(|a| named_children(a).next()) {
                if matches!(first.kind(), "identifier" | "attribute") {
                    out.push(last_segment(text(first, src)).to_string());
                }
            }
        });
        out
    }

    fn is_request_decorator(&self, decorator: Node) -> bool {
        let Some(expr) = named_children(decorator).next() else {
            return false;
        };
        let (target, called) = match expr.kind() {
            "call" => (field(expr, "function"), true),
            _ => (Some(expr), false),
        };
        let Some(target) = target else { return false };
        let name = last_segment(self.t(target));
        let qualified = target.kind() == "attribute";
        knowledge::PY_REQUEST_DECORATORS.contains(&name)
            // `@app.get("/")` but not a bare `@get`, `@staticmethod` …
            && (qualified || called || matches!(name, "api_view" | "require_GET" | "require_POST"))
    }

    /// Collect the names a function binds (Python: any assignment makes a
    /// name local for the whole body) and locals initialised with a container.
    fn prescan_function_body(&mut self, body: Node) {
        let src = self.src;
        let mut locals = Vec::new();
        let mut globals = Vec::new();
        let mut ctors = Vec::new();
        visit(body, &is_statement_scan_boundary, &mut |n| match n.kind() {
            "assignment" | "augmented_assignment" => {
                if let Some(left) = field(n, "left") {
                    collect_target_names(left, src, &mut locals);
                    if n.kind() == "assignment" {
                        for (target, value) in assigned_pairs(n) {
                            if target.kind() == "identifier" {
                                ctors.push((text(target, src).to_string(), value, n));
                            }
                        }
                    }
                }
            }
            "for_statement" | "for_in_clause" => {
                if let Some(left) = field(n, "left") {
                    collect_target_names(left, src, &mut locals);
                }
            }
            "as_pattern" => {
                if let Some(alias) = field(n, "alias") {
                    collect_target_names(alias, src, &mut locals);
                }
            }
            "named_expression" => {
                if let Some(name) = field(n, "name") {
                    locals.push(text(name, src).to_string());
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = field(n, "name") {
                    locals.push(text(name, src).to_string());
                }
            }
            "global_statement" => {
                for id in named_children(n) {
                    globals.push(text(id, src).to_string());
                }
            }
            _ => {}
        });
        let ctors: Vec<(String, LocalCtor)> = ctors
            .into_iter()
            .filter_map(|(name, right, assign)| {
                let (constructor, bounded) = self.container_ctor(right)?;
                Some((
                    name,
                    LocalCtor {
                        span: span(assign),
                        constructor,
                        bounded,
                    },
                ))
            })
            .collect();
        if let Some(scope) = self.b.scope_mut() {
            scope.locals.extend(locals);
            for g in globals {
                scope.locals.remove(&g);
                scope.globals.insert(g);
            }
            for (name, ctor) in ctors {
                if !scope.globals.contains(&name) {
                    scope.local_ctors.entry(name).or_insert(ctor);
                }
            }
        }
    }

    // -------------------------------------------------------- expressions

    /// A container named directly: `hits`, `self.hits`, `Limiter.hits`,
    /// `state.hits` (imported module).
    fn container_expr(&mut self, node: Node) -> Option<ContainerRef> {
        match node.kind() {
            "identifier" => match self.b.resolve(self.t(node)) {
                NameRef::Container(c) => Some(c),
                _ => None,
            },
            "attribute" => {
                let object = field(node, "object")?;
                let attr = self.t(field(node, "attribute")?);
                if object.kind() != "identifier" {
                    return None;
                }
                let obj = self.t(object);
                if obj == "self" || obj == "cls" {
                    let class = self.b.current_class()?;
                    return self.b.resolve_attr(&class, attr);
                }
                if self.classes.contains(obj) {
                    return self.b.resolve_attr(obj, attr);
                }
                self.b.resolve_module_member(obj, attr)
            }
            _ => None,
        }
    }

    /// The container entry an expression reads or denotes: `hits[ip]`,
    /// `hits.get(ip, [])`, `len(hits[ip])`, an alias `q` of `hits[ip]`, …
    fn root_of(&mut self, node: Node) -> Option<(ContainerRef, KeyClass)> {
        if !self.b.enter(true) {
            return None;
        }
        let root = self.root_of_node(node);
        self.b.leave(true);
        root
    }

    fn root_of_node(&mut self, node: Node) -> Option<(ContainerRef, KeyClass)> {
        match node.kind() {
            "subscript" => {
                let value = field(node, "value")?;
                if let Some(c) = self.container_expr(value) {
                    let key_node = field(node, "subscript");
                    let key = key_node
                        .map(|k| self.classify(k))
                        .unwrap_or(KeyClass::Unknown);
                    if let Some(k) = key_node {
                        self.b.note_key(self.t(k));
                    }
                    return Some((c, key));
                }
                self.root_of(value)
            }
            "attribute" => self.root_of(field(node, "object")?),
            "call" => {
                let func = field(node, "function")?;
                let args = field(node, "arguments");
                let first_arg =
                    args.and_then(|a| named_children(a).find(|c| c.kind() != "keyword_argument"));
                if func.kind() == "attribute" {
                    let object = field(func, "object")?;
                    let method = self.t(field(func, "attribute")?);
                    if matches!(method, "get" | "setdefault" | "pop") {
                        if let Some(c) = self.container_expr(object) {
                            let key = first_arg
                                .map(|k| self.classify(k))
                                .unwrap_or(KeyClass::Unknown);
                            if let Some(k) = first_arg {
                                self.b.note_key(self.t(k));
                            }
                            return Some((c, key));
                        }
                    }
                    return self.root_of(object);
                }
                let name = self.t(func);
                if matches!(
                    name,
                    "len"
                        | "sum"
                        | "max"
                        | "min"
                        | "list"
                        | "sorted"
                        | "int"
                        | "float"
                        | "tuple"
                        | "deque"
                ) {
                    return self.root_of(first_arg?);
                }
                None
            }
            "identifier" => match self.b.resolve(self.t(node)) {
                NameRef::Alias(c, k) => Some((c, k)),
                _ => None,
            },
            "boolean_operator" | "binary_operator" => {
                let left = field(node, "left")?;
                if let Some(r) = self.root_of(left) {
                    return Some(r);
                }
                self.root_of(field(node, "right")?)
            }
            "parenthesized_expression" | "unary_operator" | "await" | "conditional_expression" => {
                let first = named_children(node).next()?;
                self.root_of(first)
            }
            "list_comprehension" | "generator_expression" | "set_comprehension" => {
                let clause = named_children(node).find(|c| c.kind() == "for_in_clause")?;
                let iterable = field(clause, "right")?;
                if let Some(c) = self.container_expr(iterable) {
                    // `[r for r in log if r[0] == ip]`: the filter picks the client.
                    let key = self.classify(node);
                    return Some((c, key));
                }
                self.root_of(iterable)
            }
            _ => None,
        }
    }

    /// Whether an expression identifies the caller.
    fn classify(&mut self, node: Node) -> KeyClass {
        if is_scope_boundary(node) {
            return KeyClass::Unknown;
        }
        let whole = self.t(node);
        if whole.len() <= MAX_KEY_TEXT {
            if let Some(kind) = key_from_text(whole) {
                return KeyClass::Client(kind);
            }
        }
        if node.kind() == "identifier" {
            return self.b.key_of_name(whole);
        }
        if whole.len() > MAX_KEY_TEXT {
            let keys = self.key_fold(node);
            return keys.found.map_or(keys.key(), KeyClass::Client);
        }
        let mut names = Vec::new();
        let src = self.src;
        // Attribute names (`x.ip`) and keyword names (`f(ip=…)`) are not
        // variables; `Node::parent` is slow, so mark them from the parent.
        let mut not_variables = Vec::new();
        visit(node, &is_scope_boundary, &mut |n| match n.kind() {
            "attribute" => not_variables.extend(field(n, "attribute").map(|a| a.id())),
            "keyword_argument" => not_variables.extend(field(n, "name").map(|a| a.id())),
            "identifier" if !not_variables.contains(&n.id()) => names.push(text(n, src)),
            _ => {}
        });
        combine_keys(names.into_iter().map(|n| self.b.key_of_name(n)))
    }

    /// The keys of a long expression's names (not attribute or keyword
    /// names), and the first client key in its short sub-expressions.
    /// Memoised: the arguments of nested calls are folded once, not once
    /// per enclosing call.
    fn key_fold(&mut self, node: Node) -> KeyFold {
        let src = self.src;
        let b = &self.b;
        let stamp = (b.current_function(), b.key_epoch);
        let mut own = |n: Node, parent: Option<Node>, field_name: Option<&'static str>| {
            let mut keys = KeyFold::default();
            match n.kind() {
                "attribute" | "subscript" | "call" | "string"
                    if n.byte_range().len() <= MAX_KEY_TEXT =>
                {
                    keys.found = key_from_text(text(n, src));
                }
                "identifier" => {
                    let not_variable = matches!(
                        (parent.map(|p| p.kind()), field_name),
                        (Some("attribute"), Some("attribute"))
                            | (Some("keyword_argument"), Some("name"))
                    );
                    if !not_variable {
                        keys.add_key(b.key_of_name(text(n, src)));
                    }
                }
                _ => {}
            }
            keys
        };
        fold(
            node,
            &is_scope_boundary,
            &mut own,
            &|acc, later| acc.merge(later),
            &mut self.key_memo,
            stamp,
        )
    }

    /// Does a stored value look like a count, a time, a window or tokens?
    fn countsy(&mut self, node: Node) -> bool {
        if self.root_of(node).is_some() {
            return true;
        }
        let src = self.src;
        let mut found = false;
        let mut names = Vec::new();
        visit(node, &is_scope_boundary, &mut |n| match n.kind() {
            "integer" | "float" | "binary_operator" => found = true,
            "call" => {
                if let Some(f) = field(n, "function") {
                    if knowledge::TIME_NAMES.contains(&last_segment(text(f, src))) {
                        found = true;
                    }
                }
            }
            "identifier" => names.push(text(n, src)),
            _ => {}
        });
        found || names.into_iter().any(|n| self.b.is_countsy_var(n))
    }

    // --------------------------------------------------------- statements

    fn assignment(&mut self, node: Node) {
        let (Some(left), Some(right)) = (field(node, "left"), field(node, "right")) else {
            return;
        };
        match left.kind() {
            "identifier" => self.note_config_value(left, right),
            "subscript" => {
                if let Some(key) = field(left, "subscript") {
                    self.note_config_value(key, right);
                }
            }
            _ => {}
        }
        match left.kind() {
            "identifier" => {
                let name = self.t(left).to_string();
                let is_global = self.b.scope().is_some_and(|s| s.globals.contains(&name));
                if is_global {
                    if let Some(c) = self.container_expr(left) {
                        // `global hits; hits = {}`: the whole state is reset.
                        self.b
                            .record(c, KeyClass::Unknown, AccessKind::Delete, span(node));
                    }
                    return;
                }
                // `bucket = buckets[ip] = {...}`: the name aliases the inner target.
                if self.is_store_client(right) {
                    self.b.add_store_var(&name);
                    if is_pipeline_call(right, self.src) {
                        self.b.add_pipeline(&name);
                    }
                }
                let source = if right.kind() == "assignment" {
                    field(right, "left").unwrap_or(right)
                } else {
                    right
                };
                let root = self.root_of(source);
                let key = self.classify(right);
                let countsy = self.countsy(right);
                self.b.track_variable(&name, root, key, countsy);
            }
            "pattern_list" | "tuple_pattern" => {
                // `count, start = hits.get(ip, (0, now))`: every name is part of the entry.
                let root = self.root_of(right);
                let mut names = Vec::new();
                collect_target_names(left, self.src, &mut names);
                for name in names {
                    self.b
                        .track_variable(&name, root.clone(), KeyClass::Unknown, root.is_some());
                }
            }
            "subscript" | "attribute" => {
                if let Some((c, key)) = self.root_of(left) {
                    let nested = left.kind() == "attribute"
                        || field(left, "value").is_some_and(|v| self.container_expr(v).is_none());
                    let counts_or_times = nested || self.countsy(right);
                    self.b.record(
                        c,
                        key,
                        AccessKind::Write {
                            counts_or_times,
                            direct: !nested,
                        },
                        span(node),
                    );
                }
            }
            _ => {}
        }
    }

    fn augmented_assignment(&mut self, node: Node) {
        let Some(left) = field(node, "left") else {
            return;
        };
        if let Some((c, key)) = self.root_of(left) {
            let direct = left.kind() == "subscript"
                && field(left, "value").is_some_and(|v| self.container_expr(v).is_some());
            self.b.record(
                c,
                key,
                AccessKind::Write {
                    counts_or_times: true,
                    direct,
                },
                span(node),
            );
        } else if left.kind() == "identifier" {
            let name = self.t(left).to_string();
            self.b.add_countsy_var(name);
        }
    }

    fn call(&mut self, node: Node) {
        let Some(func) = field(node, "function") else {
            return;
        };
        self.limiter_setup(node, func);
        self.django_limiter_use(node, func);
        self.store_call(node, func);
        let callee_text = self.t(func);
        self.b.note_limiter_call(callee_text);
        let args: Vec<Node> = field(node, "arguments")
            .map(|a| {
                named_children(a)
                    .filter(|c| {
                        !matches!(
                            c.kind(),
                            "keyword_argument" | "list_splat" | "dictionary_splat"
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let callee = last_segment(self.t(func)).to_string();
        let arg_keys: Vec<KeyClass> = args.iter().map(|a| self.classify(*a)).collect();
        if callee == "abort" {
            self.b.raise_deny(DenySignal::Weak);
        }
        if callee.starts_with(|c: char| c.is_ascii_uppercase())
            && matches!(func.kind(), "identifier" | "attribute")
        {
            let bound_to = self.assigned_name(node);
            self.b.add_instantiation(&callee, bound_to);
        }
        if matches!(callee.as_str(), "add_middleware" | "Middleware") {
            if let Some(first) = args.first().filter(|a| a.kind() == "identifier") {
                let class = self.t(*first).to_string();
                self.b.add_instantiation(&class, None);
            }
        }
        let receiver = (func.kind() == "attribute")
            .then(|| field(func, "object").map(|o| last_segment(self.t(o))))
            .flatten();
        self.b.add_call(&callee, receiver, arg_keys.clone());
        if matches!(callee.as_str(), "Depends" | "Security") {
            // FastAPI calls the dependency for every request of the route.
            if let Some(dep) = args
                .first()
                .filter(|a| matches!(a.kind(), "identifier" | "attribute"))
            {
                let name = last_segment(self.t(*dep)).to_string();
                self.b.add_call(&name, None, Vec::new());
            }
        }

        if func.kind() != "attribute" {
            return;
        }
        let (Some(object), Some(method)) = (field(func, "object"), field(func, "attribute")) else {
            return;
        };
        let method = self.t(method);
        if let Some(c) = self.container_expr(object) {
            let first_key = arg_keys.first().copied().unwrap_or(KeyClass::Unknown);
            if let Some(first) = args.first() {
                self.b.note_key(self.t(*first));
            }
            match method {
                "setdefault" | "add" => self.b.record(
                    c,
                    first_key,
                    AccessKind::Write {
                        counts_or_times: false,
                        direct: true,
                    },
                    span(node),
                ),
                "append" | "appendleft" | "insert" | "extend" => {
                    let key = combine_keys(arg_keys.iter().copied());
                    self.b.record(
                        c,
                        key,
                        AccessKind::Write {
                            counts_or_times: true,
                            direct: true,
                        },
                        span(node),
                    );
                }
                "pop" | "discard" | "remove" => {
                    self.b.record(c, first_key, AccessKind::Delete, span(node))
                }
                "clear" | "popitem" => {
                    self.b
                        .record(c, KeyClass::Unknown, AccessKind::Delete, span(node))
                }
                _ => {}
            }
        } else if matches!(
            method,
            "append" | "appendleft" | "add" | "extend" | "insert" | "update"
        ) {
            if let Some((c, key)) = self.root_of(object) {
                self.b.record(
                    c,
                    key,
                    AccessKind::Write {
                        counts_or_times: true,
                        direct: false,
                    },
                    span(node),
                );
            }
        }
    }

    fn comparison(&mut self, node: Node) {
        let mut cursor = node.walk();
        let ops: Vec<String> = node
            .children_by_field_name("operators", &mut cursor)
            .map(|o| self.t(o).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let operands: Vec<Node> = named_children(node).collect();
        if ops
            .iter()
            .any(|o| matches!(o.as_str(), "<" | ">" | "<=" | ">="))
        {
            let mut seen: Vec<ContainerRef> = Vec::new();
            for operand in &operands {
                let mut candidates = Vec::new();
                visit(*operand, &is_scope_boundary, &mut |n| {
                    if matches!(n.kind(), "subscript" | "call" | "identifier" | "attribute") {
                        candidates.push(n);
                    }
                });
                for cand in candidates {
                    if let Some((c, key)) = self.root_of(cand) {
                        if !seen.contains(&c) {
                            seen.push(c.clone());
                            if !comparison_guards_nothing(node, self.src) {
                                self.b.record(c, key, AccessKind::Compare, span(node));
                            }
                        }
                    }
                }
            }
        }
        if ops.iter().any(|o| o == "in" || o == "not in") && operands.len() == 2 {
            if let Some(c) = self.container_expr(operands[1]) {
                let key = self.classify(operands[0]);
                self.b.note_key(self.t(operands[0]));
                self.b.record(c, key, AccessKind::Membership, span(node));
            }
        }
    }

    fn delete(&mut self, node: Node) {
        let targets: Vec<Node> = named_children(node)
            .flat_map(|n| {
                if n.kind() == "expression_list" {
                    named_children(n).collect()
                } else {
                    vec![n]
                }
            })
            .collect();
        for t in targets {
            if t.kind() != "subscript" {
                continue;
            }
            let Some(value) = field(t, "value") else {
                continue;
            };
            if let Some(c) = self.container_expr(value) {
                let key = field(t, "subscript")
                    .map(|k| self.classify(k))
                    .unwrap_or(KeyClass::Unknown);
                self.b.record(c, key, AccessKind::Delete, span(node));
            }
        }
    }

    fn return_statement(&mut self, node: Node) {
        if let Some(value) = named_children(node).next() {
            if matches!(
                value.kind(),
                "false" | "true" | "comparison_operator" | "not_operator"
            ) {
                self.b.raise_deny(DenySignal::Weak);
            }
        }
    }
}

/// `a = x` → [(a, x)]; `a, b = x, y` → [(a, x), (b, y)].
fn assigned_pairs(assignment: Node) -> Vec<(Node, Node)> {
    let (Some(left), Some(right)) = (field(assignment, "left"), field(assignment, "right")) else {
        return Vec::new();
    };
    let is_tuple = |n: Node| {
        matches!(
            n.kind(),
            "pattern_list" | "tuple_pattern" | "expression_list" | "tuple"
        )
    };
    if is_tuple(left) && is_tuple(right) {
        let targets: Vec<Node> = named_children(left).collect();
        let values: Vec<Node> = named_children(right).collect();
        if targets.len() == values.len() {
            return targets.into_iter().zip(values).collect();
        }
        return Vec::new();
    }
    vec![(left, right)]
}

/// `r.pipeline()` / `r.multi()` (any transaction flag).
fn is_pipeline_call(value: Node, src: &str) -> bool {
    value.kind() == "call"
        && field(value, "function")
            .is_some_and(|f| matches!(last_segment(text(f, src)), "pipeline" | "multi"))
}

/// Does an `except` clause catch errors a store client raises?
fn catches_store_errors(clause: Node, src: &str) -> bool {
    let header = text(clause, src).split(':').next().unwrap_or("");
    let caught = header.trim_start_matches("except").trim();
    caught.is_empty()
        || [
            "Exception",
            "Redis",
            "redis",
            "ConnectionError",
            "TimeoutError",
            "OSError",
            "Memcache",
            "CacheError",
        ]
        .iter()
        .any(|w| caught.contains(w))
}

fn answers_429(handler: &str) -> bool {
    handler.contains("429")
        || handler.contains("TOO_MANY_REQUESTS")
        || handler.contains("TooManyRequests")
}

/// The first identifier of a call/attribute chain: `r` in `r.pipeline().incr`.
fn chain_base<'s>(mut node: Node, src: &'s str) -> &'s str {
    loop {
        let next = match node.kind() {
            "attribute" => field(node, "object"),
            "call" => field(node, "function"),
            "subscript" => field(node, "value"),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return text(node, src),
        }
    }
}

/// `d["key"]` for a dict literal with string keys.
fn dict_get<'t>(dict: Node<'t>, key: &str, src: &str) -> Option<Node<'t>> {
    if dict.kind() != "dictionary" {
        return None;
    }
    named_children(dict)
        .filter(|p| p.kind() == "pair")
        .find(|p| {
            field(*p, "key").is_some_and(|k| k.kind() == "string" && unquote(text(k, src)) == key)
        })
        .and_then(|p| field(p, "value"))
}

/// Where a Django cache backend keeps its data.
fn cache_backend(path: &str) -> CacheBackend {
    let p = path.to_ascii_lowercase();
    if p.contains("locmem") {
        CacheBackend::LocalMemory
    } else if p.contains("redis")
        || p.contains("memcache")
        || p.contains("pylibmc")
        || p.contains("backends.db.")
    {
        CacheBackend::Shared
    } else {
        CacheBackend::Other
    }
}

/// A value's text for messages and option checks, shortened.
fn short_value(node: Node, src: &str) -> String {
    let t = text(node, src);
    if t.len() <= 80 {
        t.to_string()
    } else {
        format!(
            "{}…",
            &t[..t.char_indices().nth(77).map(|(i, _)| i).unwrap_or(t.len())]
        )
    }
}

fn collect_target_names(node: Node, src: &str, out: &mut Vec<String>) {
    match node.kind() {
        "identifier" => out.push(text(node, src).to_string()),
        "pattern_list" | "tuple_pattern" | "list_pattern" | "expression_list" | "tuple"
        | "list" => {
            for c in named_children(node) {
                collect_target_names(c, src, out);
            }
        }
        _ => {}
    }
}
