//! JavaScript / TypeScript / JSX / TSX fact extraction (one walker for all
//! four grammars: their node kinds agree on everything used here).
//!
//! Same two passes as Python: a pre-scan for imports, module-level and class
//! containers, then a walk in source order with lexical scopes.

use super::builder::{
    combine_keys, key_from_text, Builder, KeyFold, LocalCtor, NameRef, PipelineStep, MAX_KEY_TEXT,
};
use super::syntax::{
    call_arguments, children, comparison_guards_nothing, field, fold, last_segment, named_children,
    parent, span, text, unquote, visit, FoldMemo,
};
use crate::facts::*;
use crate::knowledge;
use crate::source::Span;
use std::collections::HashSet;
use std::path::Path;
use tree_sitter::{Node, Tree};

pub fn extract(path: &Path, lang: super::Lang, src: &str, tree: &Tree) -> FileFacts {
    let mut x = JsExtractor {
        src,
        b: Builder::default(),
        classes: HashSet::new(),
        key_memo: FoldMemo::new(MAX_KEY_TEXT),
        rejection_target: None,
        countsy_memo: FoldMemo::new(MAX_KEY_TEXT),
    };
    x.b.facts.path = path.to_path_buf();
    x.b.facts.lang = Some(lang);
    let p = path.to_string_lossy().replace('\\', "/");
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    if (p.contains("app/") && stem == "route")
        || p.contains("pages/api/")
        || stem == "middleware" && p.contains("next")
    {
        x.b.facts.frameworks.insert(Framework::NextJs);
    }
    let root = tree.root_node();
    x.prescan(root);
    x.walk(root, None);
    x.settle_insurance(root);
    super::add_flow_facts(&mut x.b.facts, root, src, false);
    super::add_client_keys(&mut x.b.facts, root, src, false);
    if super::routes_js::worth_analysing(src, path) {
        let mut facts = x.b.facts;
        super::routes_js::analyse(root, src, path, &mut facts);
        return facts;
    }
    x.b.facts
}

struct JsExtractor<'s> {
    src: &'s str,
    b: Builder,
    classes: HashSet<String>,
    /// Key folds of long expressions (see `key_fold`).
    key_memo: FoldMemo<(Option<usize>, u64), KeyFold>,
    /// The statement a 429 met below the node being walked answers with,
    /// if any (see `Builder::add_rejection`); kept by `walk` from the top down.
    rejection_target: Option<Span>,
    /// `countsy` answers for long expressions.
    countsy_memo: FoldMemo<(Option<usize>, u64), bool>,
}

fn is_function(n: Node) -> bool {
    matches!(
        n.kind(),
        "function_declaration"
            | "generator_function_declaration"
            | "function_expression"
            | "function"
            | "generator_function"
            | "arrow_function"
            | "method_definition"
    )
}

fn is_scope_boundary(n: Node) -> bool {
    is_function(n) || matches!(n.kind(), "class_declaration" | "class")
}

/// Pre-scans look for declarations, imports and `this.x = …` statements, so
/// they need not descend into expressions (see the Python extractor).
fn is_expression_or_declarator(n: Node) -> bool {
    matches!(
        n.kind(),
        "variable_declarator"
            | "assignment_expression"
            | "augmented_assignment_expression"
            | "call_expression"
            | "new_expression"
            | "binary_expression"
            | "unary_expression"
            | "update_expression"
            | "member_expression"
            | "subscript_expression"
            | "object"
            | "array"
            | "string"
            | "template_string"
            | "parenthesized_expression"
            | "await_expression"
            | "ternary_expression"
            | "jsx_element"
            | "jsx_self_closing_element"
    )
}

fn is_statement_scan_boundary(n: Node) -> bool {
    is_scope_boundary(n) || is_expression_or_declarator(n)
}

/// TypeScript wrappers and parentheses that do not change the value.
fn unwrap(mut n: Node) -> Node {
    while matches!(
        n.kind(),
        "parenthesized_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
            | "type_assertion"
            | "await_expression"
    ) {
        match named_children(n).next() {
            Some(inner) => n = inner,
            None => break,
        }
    }
    n
}

impl<'s> JsExtractor<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    // ---------------------------------------------------------------- pass 1

    fn prescan(&mut self, root: Node) {
        let src = self.src;
        let mut imports = Vec::new();
        let mut requires = Vec::new();
        // `import` is a statement; `require(...)` sits in a declaration's
        // value, which the statement scan still sees (without descending).
        let stop = |n: Node| is_function(n) || is_expression_or_declarator(n);
        visit(root, &stop, &mut |n| match n.kind() {
            "import_statement" => imports.push(n),
            "variable_declarator" => {
                let value = field(n, "value").map(unwrap);
                let is_require = |v: &Node| {
                    v.kind() == "call_expression"
                        && field(*v, "function").is_some_and(|f| text(f, src) == "require")
                };
                if let Some(call) = value.filter(is_require) {
                    requires.push(call)
                }
            }
            _ => {}
        });
        (self.b.facts.syntax_errors, self.b.facts.first_syntax_error) =
            super::count_syntax_errors(root);
        for i in imports {
            self.import(i);
        }
        for r in requires {
            self.require(r);
        }
        for stmt in named_children(root) {
            self.prescan_statement(stmt);
        }
    }

    fn note_framework(&mut self, module: &str) {
        if matches!(
            module,
            "morgan"
                | "pino-http"
                | "express-winston"
                | "koa-logger"
                | "koa-pino-logger"
                | "@fastify/request-context"
        ) {
            self.b.facts.access_logging = true;
        }
        for (m, fw) in knowledge::JS_FRAMEWORK_MODULES {
            if *m == module {
                self.b.facts.frameworks.insert(*fw);
            }
        }
    }

    fn import(&mut self, node: Node) {
        let Some(source) = field(node, "source") else {
            return;
        };
        let module = unquote(self.t(source)).to_string();
        self.note_framework(&module);
        let Some(clause) = named_children(node).find(|c| c.kind() == "import_clause") else {
            return;
        };
        for part in named_children(clause) {
            match part.kind() {
                "identifier" => {
                    let local = self.t(part);
                    self.b.add_import(local, &module, None);
                }
                "namespace_import" => {
                    if let Some(id) = named_children(part).find(|c| c.kind() == "identifier") {
                        let local = self.t(id);
                        self.b.add_import(local, &module, None);
                    }
                }
                "named_imports" => {
                    for spec in named_children(part).filter(|s| s.kind() == "import_specifier") {
                        let Some(name) = field(spec, "name") else {
                            continue;
                        };
                        let local = field(spec, "alias").unwrap_or(name);
                        let (local, name) = (self.t(local), self.t(name));
                        self.b.add_import(local, &module, Some(name));
                    }
                }
                _ => {}
            }
        }
    }

    /// `const x = require('m')`, `const { a, b: c } = require('./m')`.
    fn require(&mut self, call: Node) {
        let Some(arg) = field(call, "arguments").and_then(|a| named_children(a).next()) else {
            return;
        };
        if arg.kind() != "string" {
            return;
        }
        let module = unquote(self.t(arg)).to_string();
        self.note_framework(&module);
        let Some(decl) = call.parent().filter(|p| p.kind() == "variable_declarator") else {
            return;
        };
        let Some(name) = field(decl, "name") else {
            return;
        };
        match name.kind() {
            "identifier" => {
                let local = self.t(name);
                self.b.add_import(local, &module, None);
            }
            "object_pattern" => {
                for p in named_children(name) {
                    match p.kind() {
                        "shorthand_property_identifier_pattern" => {
                            let n = self.t(p);
                            self.b.add_import(n, &module, Some(n));
                        }
                        "pair_pattern" => {
                            if let (Some(k), Some(v)) = (field(p, "key"), field(p, "value")) {
                                let (local, member) = (self.t(v), self.t(k));
                                self.b.add_import(local, &module, Some(member));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn prescan_statement(&mut self, stmt: Node) {
        match stmt.kind() {
            "export_statement" => {
                if let Some(decl) = field(stmt, "declaration") {
                    self.prescan_statement(decl);
                }
            }
            "lexical_declaration" | "variable_declaration" => {
                for d in named_children(stmt).filter(|d| d.kind() == "variable_declarator") {
                    let (Some(name), Some(value)) = (field(d, "name"), field(d, "value")) else {
                        continue;
                    };
                    if name.kind() != "identifier" {
                        continue;
                    }
                    if self.is_store_client(value) {
                        let store = self.t(name).to_string();
                        self.b.add_store_var(&store);
                    }
                    if let Some((ctor, bounded)) = self.container_ctor(value) {
                        let name = self.t(name).to_string();
                        let idx = self.b.add_container(Container {
                            name: name.clone(),
                            scope: ContainerScope::Module,
                            constructor: ctor,
                            bounded,
                            span: span(stmt),
                        });
                        self.b.module_containers.insert(name, idx);
                    }
                }
            }
            "class_declaration" => self.prescan_class(stmt),
            _ => {}
        }
    }

    fn prescan_class(&mut self, class: Node) {
        let Some(name) = field(class, "name").map(|n| self.t(n).to_string()) else {
            return;
        };
        self.classes.insert(name.clone());
        let Some(body) = field(class, "body") else {
            return;
        };
        for member in named_children(body) {
            match member.kind() {
                "field_definition" | "public_field_definition" => {
                    let prop = field(member, "property").or_else(|| field(member, "name"));
                    let (Some(prop), Some(value)) = (prop, field(member, "value")) else {
                        continue;
                    };
                    let Some((ctor, bounded)) = self.container_ctor(value) else {
                        continue;
                    };
                    let attr = self.t(prop).trim_start_matches('#').to_string();
                    let is_static = children(member).any(|c| c.kind() == "static");
                    let (display, scope) = if is_static {
                        (
                            format!("{name}.{attr}"),
                            ContainerScope::ClassAttr {
                                class: name.clone(),
                            },
                        )
                    } else {
                        (
                            format!("this.{attr}"),
                            ContainerScope::InstanceAttr {
                                class: name.clone(),
                            },
                        )
                    };
                    let idx = self.b.add_container(Container {
                        name: display,
                        scope,
                        constructor: ctor,
                        bounded,
                        span: span(member),
                    });
                    let key = (name.clone(), attr);
                    if is_static {
                        self.b.class_attrs.insert(key, idx);
                    } else {
                        self.b.instance_attrs.insert(key, idx);
                    }
                }
                "method_definition" => {
                    if let Some(body) = field(member, "body") {
                        self.prescan_this_attrs(&name, body);
                    }
                }
                _ => {}
            }
        }
        // NestJS creates one instance of every provider/middleware/guard.
        let decorated = children(class)
            .any(|c| c.kind() == "decorator" && self.t(c).contains("Injectable"))
            || class
                .prev_named_sibling()
                .is_some_and(|p| p.kind() == "decorator" && self.t(p).contains("Injectable"));
        if decorated {
            self.b.facts.instantiations.push(Instantiation {
                class: name,
                function: None,
                bound_to: None,
            });
        }
    }

    fn prescan_this_attrs(&mut self, class: &str, body: Node) {
        let src = self.src;
        let mut found = Vec::new();
        visit(
            body,
            &|n| is_scope_boundary(n) && n.kind() != "arrow_function",
            &mut |n| {
                if n.kind() != "assignment_expression" {
                    return;
                }
                let (Some(left), Some(right)) = (field(n, "left"), field(n, "right")) else {
                    return;
                };
                if left.kind() == "member_expression"
                    && field(left, "object").is_some_and(|o| o.kind() == "this")
                {
                    if let Some(prop) = field(left, "property") {
                        found.push((
                            text(prop, src).trim_start_matches('#').to_string(),
                            right,
                            n,
                        ));
                    }
                }
            },
        );
        for (attr, right, assign) in found {
            let key = (class.to_string(), attr.clone());
            if self.b.instance_attrs.contains_key(&key) {
                continue;
            }
            if let Some((ctor, bounded)) = self.container_ctor(right) {
                let idx = self.b.add_container(Container {
                    name: format!("this.{attr}"),
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

    /// `new Map()`, `{}`, `[]`, `new LRUCache({...})`, `Object.create(null)`.
    fn container_ctor(&self, node: Node) -> Option<(String, bool)> {
        let node = unwrap(node);
        let shown = |t: &str, fallback: &str| {
            if t.len() <= 48 && !t.contains('\n') {
                t.to_string()
            } else {
                fallback.to_string()
            }
        };
        match node.kind() {
            "object" => Some((shown(self.t(node), "{…}"), false)),
            "array" => Some((shown(self.t(node), "[…]"), false)),
            "new_expression" => {
                let ctor = field(node, "constructor")?;
                let name = last_segment(self.t(ctor));
                let known = knowledge::container_ctor(knowledge::JS_CONTAINER_CTORS, name)?;
                if matches!(name, "Array" | "Object") {
                    return None;
                }
                Some((
                    shown(self.t(node), &format!("new {name}(…)")),
                    known.bounded,
                ))
            }
            "call_expression" => {
                let f = self.t(field(node, "function")?);
                (f == "Object.create").then(|| ("Object.create(null)".to_string(), false))
            }
            _ => None,
        }
    }

    fn param_names(&self, func: Node) -> Vec<String> {
        if let Some(single) = field(func, "parameter") {
            return vec![self.t(single).to_string()];
        }
        let Some(params) = field(func, "parameters") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in named_children(params) {
            let target = match p.kind() {
                "required_parameter" | "optional_parameter" => field(p, "pattern"),
                "assignment_pattern" => field(p, "left"),
                "identifier" | "object_pattern" | "array_pattern" => Some(p),
                _ => None,
            };
            match target {
                Some(t) if t.kind() == "identifier" => out.push(self.t(t).to_string()),
                Some(_) => out.push(String::from("{…}")),
                None => {}
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
        if is_function(node) {
            return self.function(node, class);
        }
        match node.kind() {
            "class_declaration" | "class" => {
                let name = field(node, "name").map(|n| self.t(n).to_string());
                if let Some(body) = field(node, "body") {
                    for member in named_children(body) {
                        self.walk(member, name.as_deref());
                    }
                }
                return;
            }
            "field_definition" | "public_field_definition" => {
                if let Some(value) = field(node, "value") {
                    self.walk(value, class);
                }
                return;
            }
            "variable_declarator" => self.declarator(node),
            "assignment_expression" => self.assignment(node),
            "augmented_assignment_expression" => {
                if let Some(left) = field(node, "left") {
                    self.write_through(left, node, true);
                }
            }
            "update_expression" => {
                if let Some(arg) = field(node, "argument") {
                    self.write_through(arg, node, true);
                }
            }
            "call_expression" => {
                // async-mutex / async-lock: `mutex.runExclusive(…)`, `lock.acquire(…)`.
                let callee = field(node, "function").map(|f| self.t(f)).unwrap_or("");
                if callee.ends_with(".runExclusive") || callee.ends_with(".acquire") {
                    self.b.note_lock();
                }
                self.call(node)
            }
            "await_expression" => self.b.note_await(node.start_byte()),
            "try_statement" => return self.try_statement(node),
            "shorthand_property_identifier" if self.t(node) == "insuranceLimiter" => {
                self.b
                    .facts
                    .insurance_names
                    .insert("insuranceLimiter".to_string());
            }
            "pair" => {
                // `insuranceLimiter: memoryLimiter`: that variable is a fallback.
                let key = field(node, "key").map(|k| unquote(self.t(k)));
                if key == Some("insuranceLimiter") {
                    if let Some(v) = field(node, "value").filter(|v| v.kind() == "identifier") {
                        let name = self.t(v).to_string();
                        self.b.facts.insurance_names.insert(name);
                    }
                }
            }
            "new_expression" => {
                if let Some(ctor) = field(node, "constructor") {
                    self.limiter_setup(node, ctor);
                }
                if let Some(ctor) = field(node, "constructor").filter(|c| c.kind() == "identifier")
                {
                    let class = self.t(ctor).to_string();
                    let bound_to = self.assigned_name(node);
                    self.b.add_instantiation(&class, bound_to);
                }
            }
            "binary_expression" => self.binary(node),
            "unary_expression" => self.unary(node),
            "return_statement" => {
                if let Some(v) = named_children(node).next().map(unwrap) {
                    let is_compare = v.kind() == "binary_expression"
                        && field(v, "operator")
                            .is_some_and(|o| matches!(self.t(o), "<" | ">" | "<=" | ">="));
                    if matches!(v.kind(), "false" | "true") || is_compare {
                        self.b.raise_deny(DenySignal::Weak);
                    }
                }
            }
            "throw_statement" => {
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
            "number" => match self.t(node).parse::<u32>() {
                Ok(429) => {
                    self.b.raise_deny(DenySignal::Strong);
                    self.b.add_rejection(self.rejection_target, self.src);
                }
                Ok(400..=499) => self.b.raise_deny(DenySignal::Weak),
                _ => {}
            },
            "identifier" | "property_identifier" if self.t(node).contains("TOO_MANY_REQUESTS") => {
                self.b.raise_deny(DenySignal::Strong);
                self.b.add_rejection(self.rejection_target, self.src);
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

    /// Where a 429 below `node` answers, given `outer`, where one at `node`
    /// would: the nearest statement above it, unless a comparison, a
    /// `case`, a block or a function comes first. Worked out once per node
    /// as the walk descends; climbing from each 429 with `Node::parent`
    /// (which searches down from the root) was cubic in the nesting depth.
    fn rejection_target_below(&self, node: Node, outer: Option<Span>) -> Option<Span> {
        match node.kind() {
            "binary_expression"
                if field(node, "operator")
                    .is_some_and(|o| matches!(self.t(o), "==" | "===" | "!=" | "!==")) =>
            {
                None
            }
            "switch_case" => None,
            "return_statement"
            | "throw_statement"
            | "expression_statement"
            | "lexical_declaration"
            | "variable_declaration" => Some(span(node)),
            kind if is_scope_boundary(node) || kind == "statement_block" => None,
            _ => outer,
        }
    }

    /// `try { … } catch { … }`: a JS `catch` catches everything; it fails
    /// closed if it answers 429.
    fn try_statement(&mut self, node: Node) {
        let handler = field(node, "handler");
        let guard = handler.map(|h| {
            if answers_429(self.t(h)) {
                Guard::FailClosed
            } else {
                Guard::Handled
            }
        });
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

    /// A client for a shared store: `createClient(...)`, `new Redis(...)`
    /// (ioredis, @upstash/redis), `Redis.fromEnv()`, `client.multi()`.
    fn is_store_client(&self, value: Node) -> bool {
        let value = unwrap(value);
        let callee = match value.kind() {
            "new_expression" => field(value, "constructor"),
            "call_expression" => field(value, "function"),
            _ => None,
        };
        let Some(callee) = callee else { return false };
        let text = self.t(callee);
        let name = last_segment(text);
        if matches!(name, "pipeline" | "multi") {
            let object = field(callee, "object").map(|o| self.t(o)).unwrap_or("");
            return self.b.is_store_var(object) || knowledge::named_like_store(object);
        }
        let root = text.split('.').next().unwrap_or(text);
        knowledge::STORE_CLIENT_CONSTRUCTORS.contains(&name)
            && self.b.imported.get(root).is_some_and(|(module, _)| {
                knowledge::STORE_CLIENT_MODULES.contains(&module.as_str())
            })
    }

    /// `await client.incr(key)` on a store client, with the error handling
    /// around it: a `try` in this function or a `.catch(...)` on the promise.
    fn store_call(&mut self, call: Node, func: Node) {
        if func.kind() != "member_expression" {
            return;
        }
        let Some(command) = field(func, "property").map(|p| self.t(p)) else {
            return;
        };
        if !knowledge::STORE_COMMANDS.contains(&command) {
            return;
        }
        let Some(object) = field(func, "object").map(unwrap) else {
            return;
        };
        let receiver = self.t(object);
        let mut base = object;
        while let Some(next) = match base.kind() {
            "member_expression" => field(base, "object"),
            "call_expression" => field(base, "function"),
            _ => None,
        } {
            base = unwrap(next);
        }
        let is_store = self.b.is_store_var(receiver)
            || self.b.is_store_var(self.t(base))
            || knowledge::named_like_store(receiver);
        if !is_store {
            return;
        }
        // A promise chain's `.catch(h)` / `.then(ok, h)` handles the error.
        let mut guard = self.b.current_guard();
        let mut current = call;
        while let Some(member) = parent(current).filter(|p| p.kind() == "member_expression") {
            let Some(chained) = member.parent().filter(|p| p.kind() == "call_expression") else {
                break;
            };
            let method = field(member, "property").map(|p| self.t(p)).unwrap_or("");
            let args: Vec<Node> = field(chained, "arguments")
                .map(|a| named_children(a).collect())
                .unwrap_or_default();
            let handler = match method {
                "catch" => args.first(),
                "then" => args.get(1),
                _ => None,
            };
            if let Some(h) = handler {
                guard = if answers_429(self.t(*h)) {
                    Guard::FailClosed
                } else {
                    Guard::Handled
                };
            }
            current = chained;
        }
        let key = field(call, "arguments")
            .and_then(|a| named_children(a).next())
            .map(|k| self.classify(k))
            .unwrap_or(KeyClass::Unknown);
        let key = match self.b.pipeline_step(receiver, command, key) {
            PipelineStep::Send(key) => key,
            PipelineStep::Queued => return,
            PipelineStep::ExecuteChain => self.classify(object),
        };
        let function = self.b.current_function();
        self.b.facts.store_calls.push(StoreCall {
            receiver: receiver.to_string(),
            command: command.to_string(),
            key,
            function,
            guard,
            span: span(call),
        });
    }

    /// `limiter.consume(key)`: find what handles its rejection.
    fn consume_site(&mut self, call: Node, func: Node) {
        let Some(receiver) =
            field(func, "object").map(|o| last_segment(self.t(unwrap(o))).to_string())
        else {
            return;
        };
        let src = self.src;
        let mut handlers: Vec<Node> = Vec::new();
        // Promise chains: `.catch(h)`, `.then(ok, h)`.
        let mut current = call;
        while let Some(member) = parent(current).filter(|p| p.kind() == "member_expression") {
            let Some(chained) = member.parent().filter(|p| p.kind() == "call_expression") else {
                break;
            };
            let method = field(member, "property")
                .map(|p| text(p, src))
                .unwrap_or("");
            let args: Vec<Node> = field(chained, "arguments")
                .map(|a| named_children(a).collect())
                .unwrap_or_default();
            match method {
                "catch" => handlers.extend(args.first()),
                "then" => handlers.extend(args.get(1)),
                "finally" => {}
                _ => break,
            }
            current = chained;
        }
        // `try { await limiter.consume(ip) } catch (e) { … }`
        let mut node = call;
        while let Some(parent) = parent(node) {
            if is_function(parent) {
                break;
            }
            if parent.kind() == "try_statement" && field(parent, "body") == Some(node) {
                handlers.extend(field(parent, "handler").and_then(|h| field(h, "body")));
                break;
            }
            node = parent;
        }
        if handlers.is_empty() {
            return;
        }
        let texts: Vec<&str> = handlers.iter().map(|h| text(*h, src)).collect();
        let answers_429 = texts
            .iter()
            .any(|t| t.contains("429") || t.contains("TOO_MANY_REQUESTS") || t.contains("TooMany")); // Reading `msBeforeNext` for a Retry-After header does not tell a
                                                                                                     // store `Error` from a limit; a type test with another way out does
                                                                                                     // (`instanceof`, `typeof …`, `next(err)`, a 503/500).
        let tells_errors_apart = texts.iter().any(|t| {
            t.contains("instanceof")
                || t.contains("typeof")
                || t.contains("next(")
                || t.contains("503")
                || t.contains("500")
        });
        self.b.facts.consume_sites.push(ConsumeSite {
            receiver,
            answers_429,
            tells_errors_apart,
            span: span(call),
        });
    }

    /// A memory limiter stored in a variable is not a request limiter when
    /// its only uses are another limiter's `insuranceLimiter` or a
    /// `RateLimiterQueue` (which paces our own outgoing calls).
    fn settle_insurance(&mut self, root: Node) {
        let src = self.src;
        for i in 0..self.b.facts.limiter_setups.len() {
            let Some(name) = self.b.facts.limiter_setups[i].bound_to.clone() else {
                continue;
            };
            if !self.b.facts.limiter_setups[i].callee.contains("Memory") {
                continue;
            }
            let (mut other, mut fallback) = (0usize, 0usize);
            visit(root, &|_| false, &mut |n| {
                if n.kind() != "identifier" || text(n, src) != name {
                    return;
                }
                let parent = n.parent();
                let is_decl = parent.is_some_and(|p| {
                    p.kind() == "variable_declarator" && field(p, "name") == Some(n)
                });
                let is_insurance = parent.is_some_and(|p| {
                    p.kind() == "pair"
                        && field(p, "key")
                            .is_some_and(|k| unquote(text(k, src)) == "insuranceLimiter")
                });
                let is_queued = parent
                    .filter(|p| p.kind() == "arguments")
                    .and_then(|p| p.parent())
                    .is_some_and(|c| {
                        c.kind() == "new_expression"
                            && field(c, "constructor")
                                .is_some_and(|k| text(k, src) == "RateLimiterQueue")
                    });
                if is_insurance || is_queued {
                    fallback += 1;
                } else if !is_decl {
                    other += 1;
                }
            });
            let shorthand =
                name == "insuranceLimiter" && self.b.facts.insurance_names.contains(&name);
            if (fallback > 0 || shorthand) && other == 0 {
                self.b.facts.limiter_setups[i].insurance = true;
            }
        }
    }

    /// A known limiter library's setup: `rateLimit({...})`,
    /// `new RateLimiterMemory({...})`, `fastify.register(rateLimit, {...})`,
    /// `ThrottlerModule.forRoot(...)`. `call` is a call or `new` expression.
    fn limiter_setup(&mut self, call: Node, callee: Node) {
        let args: Vec<Node> = call_arguments(call);
        let (object, name) = match callee.kind() {
            "identifier" => (None, self.t(callee)),
            // `require('express-rate-limit')({...})`
            "call_expression"
                if field(callee, "function").is_some_and(|f| self.t(f) == "require") =>
            {
                let module = field(callee, "arguments").and_then(|a| named_children(a).next());
                let Some(library) = module
                    .and_then(|m| knowledge::limiter_library(false, unquote(self.t(m)), None))
                else {
                    return;
                };
                return self.record_limiter_setup(call, callee, library, args.first().copied());
            }
            "member_expression" => match (
                field(callee, "object").map(unwrap),
                field(callee, "property"),
            ) {
                (Some(o), Some(p)) if o.kind() == "identifier" => (Some(self.t(o)), self.t(p)),
                (Some(_), Some(p)) => (None, self.t(p)),
                _ => return,
            },
            _ => return,
        };
        let (library, options_arg) = if name == "register" && callee.kind() == "member_expression" {
            // `fastify.register(plugin, opts)`: the plugin names the library.
            let Some(plugin) = args.first().map(|a| unwrap(*a)) else {
                return;
            };
            let library = match plugin.kind() {
                "identifier" => self.b.limiter_library_for(false, None, self.t(plugin)),
                "call_expression"
                    if field(plugin, "function")
                        .is_some_and(|f| self.t(f) == "require" || f.kind() == "import") =>
                {
                    field(plugin, "arguments")
                        .and_then(|a| named_children(a).next())
                        .and_then(|m| knowledge::limiter_library(false, unquote(self.t(m)), None))
                }
                _ => None,
            };
            (library, args.get(1).copied())
        } else {
            (
                self.b.limiter_library_for(false, object, name),
                args.first().copied(),
            )
        };
        let Some(library) = library else { return };
        let form = knowledge::LIMITER_LIBRARIES[library].form;
        if form == knowledge::SetupForm::NestForRoot && name == "forRootAsync" {
            return self.nest_for_root_async(call, callee, library, options_arg);
        }
        if (form == knowledge::SetupForm::FastifyPlugin) != (name == "register")
            || (form == knowledge::SetupForm::NestForRoot && name != "forRoot")
        {
            return;
        }
        self.record_limiter_setup(call, callee, library, options_arg);
    }

    /// `ThrottlerModule.forRootAsync({ useFactory: () => [...] })`: the
    /// options are what the factory returns, when that is a literal (an
    /// arrow's expression body, or a body that is one `return`). A factory
    /// defined elsewhere, `useClass` or `useExisting`: options unknown.
    fn nest_for_root_async(
        &mut self,
        call: Node,
        callee: Node,
        library: usize,
        options_arg: Option<Node>,
    ) {
        let factory = options_arg
            .map(unwrap)
            .filter(|o| o.kind() == "object")
            .and_then(|o| {
                named_children(o).find(|p| {
                    p.kind() == "pair"
                        && field(*p, "key").is_some_and(|k| unquote(self.t(k)) == "useFactory")
                })
            })
            .and_then(|p| field(p, "value"))
            .map(unwrap);
        let returned = factory
            .filter(|f| {
                matches!(
                    f.kind(),
                    "arrow_function" | "function_expression" | "function"
                )
            })
            .and_then(|f| field(f, "body"))
            .and_then(|body| {
                if body.kind() != "statement_block" {
                    return Some(body);
                }
                let mut statements = named_children(body).filter(|s| s.kind() != "comment");
                match (statements.next(), statements.next()) {
                    (Some(only), None) if only.kind() == "return_statement" => {
                        named_children(only).next()
                    }
                    _ => None,
                }
            })
            .map(unwrap)
            .filter(|r| matches!(r.kind(), "object" | "array"));
        match returned {
            Some(options) => self.record_limiter_setup(call, callee, library, Some(options)),
            None => {
                self.record_limiter_setup(call, callee, library, None);
                if let Some(setup) = self.b.facts.limiter_setups.last_mut() {
                    setup.options_unknown = true;
                }
            }
        }
    }

    fn record_limiter_setup(
        &mut self,
        call: Node,
        callee: Node,
        library: usize,
        options_arg: Option<Node>,
    ) {
        let callee_text = if call.kind() == "new_expression" {
            format!("new {}", self.t(callee))
        } else {
            self.t(callee).to_string()
        };
        let mut setup = LimiterSetup {
            library,
            callee: callee_text,
            options: Vec::new(),
            options_unknown: false,
            string_arg: None,
            first_arg: None,
            array_form: false,
            insurance: call
                .parent()
                .filter(|p| p.kind() == "pair")
                .and_then(|p| field(p, "key"))
                .is_some_and(|k| unquote(self.t(k)) == "insuranceLimiter"),
            bound_to: self.assigned_name(call).map(str::to_string),
            span: span(call),
        };
        match options_arg.map(unwrap) {
            None => {}
            Some(o) if o.kind() == "object" => {
                for prop in named_children(o) {
                    match prop.kind() {
                        "pair" => {
                            if let (Some(k), Some(v)) = (field(prop, "key"), field(prop, "value")) {
                                let value = self.t(v);
                                let shown = if value.len() <= 80 {
                                    value.to_string()
                                } else {
                                    "…".to_string()
                                };
                                setup.options.push((unquote(self.t(k)).to_string(), shown));
                            }
                        }
                        "shorthand_property_identifier" | "method_definition" => {
                            let key = field(prop, "name")
                                .map(|n| self.t(n))
                                .unwrap_or(self.t(prop));
                            setup.options.push((key.to_string(), key.to_string()));
                        }
                        "comment" => {}
                        _ => setup.options_unknown = true,
                    }
                }
            }
            Some(a) if a.kind() == "array" => setup.array_form = true,
            Some(_) => setup.options_unknown = true,
        }
        self.b.facts.limiter_setups.push(setup);
    }

    /// `const limiter = new RateLimiter()` / `this.limiter = …` → `limiter`;
    /// `export default new X()` and `module.exports = new X()` → `None`.
    fn assigned_name(&self, value: Node) -> Option<&'s str> {
        let parent = value.parent()?;
        let target = match parent.kind() {
            "variable_declarator" if field(parent, "value") == Some(value) => {
                field(parent, "name")?
            }
            "assignment_expression" if field(parent, "right") == Some(value) => {
                field(parent, "left")?
            }
            // Class fields: `private limiter = new RateLimiterRedis(…)`.
            "field_definition" | "public_field_definition"
                if field(parent, "value") == Some(value) =>
            {
                let prop = field(parent, "property").or_else(|| field(parent, "name"))?;
                return Some(self.t(prop).trim_start_matches('#'));
            }
            _ => return None,
        };
        let name = last_segment(self.t(target));
        (matches!(target.kind(), "identifier" | "member_expression") && name != "exports")
            .then_some(name)
    }

    fn function_name(&self, func: Node) -> String {
        if let Some(n) = field(func, "name") {
            return self.t(n).to_string();
        }
        let parent = func.parent();
        match parent.map(|p| (p.kind(), p)) {
            Some(("variable_declarator", p)) => field(p, "name").map(|n| self.t(n).to_string()),
            Some(("pair", p)) => field(p, "key").map(|n| self.t(n).to_string()),
            Some(("assignment_expression", p)) => {
                field(p, "left").map(|n| last_segment(self.t(n)).to_string())
            }
            Some(("field_definition" | "public_field_definition", p)) => field(p, "property")
                .or_else(|| field(p, "name"))
                .map(|n| self.t(n).to_string()),
            _ => None,
        }
        .unwrap_or_else(|| "<anonymous>".to_string())
    }

    fn function(&mut self, func: Node, class: Option<&str>) {
        let name = self.function_name(func);
        let params = self.param_names(func);
        let exported = func
            .parent()
            .is_some_and(|p| p.kind() == "export_statement")
            || func
                .parent()
                .and_then(|p| p.parent())
                .and_then(|p| p.parent())
                .is_some_and(|p| p.kind() == "export_statement");
        let route_callback = func
            .parent()
            .filter(|p| p.kind() == "arguments")
            .and_then(|args| {
                let call = args.parent()?;
                let callee = field(call, "function")?;
                let method = field(callee, "property")?;
                let first = named_children(args).next()?;
                // `app.get('/x', …)`, `app.use('*', …)` (Hono's wildcard)
                let path_like = matches!(first.kind(), "string" | "template_string")
                    && (unquote(self.t(first)).starts_with('/') || unquote(self.t(first)) == "*");
                Some(knowledge::JS_REGISTRATION_METHODS.contains(&self.t(method)) && path_like)
            })
            .unwrap_or(false);
        let request_context = params
            .iter()
            .any(|p| knowledge::JS_REQUEST_PARAMS.contains(&p.as_str()))
            || (exported && knowledge::JS_HTTP_METHOD_EXPORTS.contains(&name.as_str()))
            || route_callback
            || (class.is_some() && matches!(name.as_str(), "canActivate" | "intercept"))
            // Hono handlers and middleware take the context as `c`.
            || (params.first().is_some_and(|p| p == "c")
                && self.b.facts.frameworks.contains(&Framework::Hono));
        let function = Function {
            name,
            class: class.map(str::to_string),
            span: field(func, "name").map(span).unwrap_or_else(|| {
                let s = span(func);
                crate::source::Span::new(s.start, s.start)
            }),
            params,
            request_context,
            deny: DenySignal::None,
            calls: Vec::new(),
            parent: self.b.current_function(),
            inline: func.parent().is_some_and(|p| p.kind() == "arguments"),
            calls_limiter: false,
            answers_rate_limit_429: false,
            is_async: self.t(func).starts_with("async"),
            awaits: Vec::new(),
            locks: false,
        };
        let class = class.map(str::to_string).or_else(|| self.b.current_class());
        self.b.open_function(function, class);
        if let Some(body) = field(func, "body") {
            self.prescan_function_body(body);
            if body.kind() == "statement_block" {
                for stmt in named_children(body) {
                    self.walk(stmt, None);
                }
            } else {
                self.walk(body, None);
            }
        }
        self.b.close_function();
    }

    fn prescan_function_body(&mut self, body: Node) {
        let src = self.src;
        let mut locals = Vec::new();
        let mut ctors = Vec::new();
        visit(body, &is_statement_scan_boundary, &mut |n| match n.kind() {
            "variable_declarator" => {
                if let Some(name) = field(n, "name") {
                    collect_pattern_names(name, src, &mut locals);
                    if name.kind() == "identifier" {
                        if let Some(value) = field(n, "value") {
                            ctors.push((text(name, src).to_string(), value, n));
                        }
                    }
                }
            }
            "function_declaration" | "class_declaration" => {
                if let Some(name) = field(n, "name") {
                    locals.push(text(name, src).to_string());
                }
            }
            _ => {}
        });
        let ctors: Vec<(String, LocalCtor)> = ctors
            .into_iter()
            .filter_map(|(name, value, decl)| {
                let (constructor, bounded) = self.container_ctor(value)?;
                let stmt = decl.parent().unwrap_or(decl);
                Some((
                    name,
                    LocalCtor {
                        span: span(stmt),
                        constructor,
                        bounded,
                    },
                ))
            })
            .collect();
        if let Some(scope) = self.b.scope_mut() {
            scope.locals.extend(locals);
            for (name, ctor) in ctors {
                scope.local_ctors.entry(name).or_insert(ctor);
            }
        }
    }

    // -------------------------------------------------------- expressions

    fn container_expr(&mut self, node: Node) -> Option<ContainerRef> {
        let node = unwrap(node);
        match node.kind() {
            "identifier" => match self.b.resolve(self.t(node)) {
                NameRef::Container(c) => Some(c),
                _ => None,
            },
            "member_expression" => {
                let object = unwrap(field(node, "object")?);
                let prop = self.t(field(node, "property")?).trim_start_matches('#');
                match object.kind() {
                    "this" => {
                        let class = self.b.current_class()?;
                        self.b.resolve_attr(&class, prop)
                    }
                    "identifier" => {
                        let obj = self.t(object);
                        if self.classes.contains(obj) {
                            return self.b.resolve_attr(obj, prop);
                        }
                        self.b.resolve_module_member(obj, prop)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn root_of(&mut self, node: Node) -> Option<(ContainerRef, KeyClass)> {
        if !self.b.enter(true) {
            return None;
        }
        let root = self.root_of_node(node);
        self.b.leave(true);
        root
    }

    fn root_of_node(&mut self, node: Node) -> Option<(ContainerRef, KeyClass)> {
        let node = unwrap(node);
        match node.kind() {
            "subscript_expression" => {
                let object = field(node, "object")?;
                if let Some(c) = self.container_expr(object) {
                    let key_node = field(node, "index");
                    let key = key_node
                        .map(|k| self.classify(k))
                        .unwrap_or(KeyClass::Unknown);
                    if let Some(k) = key_node {
                        self.b.note_key(self.t(k));
                    }
                    return Some((c, key));
                }
                self.root_of(object)
            }
            "member_expression" => {
                if self.container_expr(node).is_some() {
                    return None;
                }
                self.root_of(field(node, "object")?)
            }
            "call_expression" => {
                let func = unwrap(field(node, "function")?);
                let first_arg = field(node, "arguments").and_then(|a| named_children(a).next());
                if func.kind() != "member_expression" {
                    return None;
                }
                let object = field(func, "object")?;
                let method = self.t(field(func, "property")?);
                if let Some(c) = self.container_expr(object) {
                    if matches!(method, "get" | "peek") {
                        let key = first_arg
                            .map(|k| self.classify(k))
                            .unwrap_or(KeyClass::Unknown);
                        if let Some(k) = first_arg {
                            self.b.note_key(self.t(k));
                        }
                        return Some((c, key));
                    }
                    if matches!(
                        method,
                        "filter" | "find" | "findLast" | "findIndex" | "some" | "every" | "reduce"
                    ) {
                        // `log.filter(r => r.ip === req.ip)`: the callback picks the client.
                        let key = self.classify(field(node, "arguments")?);
                        return Some((c, key));
                    }
                    return None;
                }
                self.root_of(object)
            }
            "identifier" => match self.b.resolve(self.t(node)) {
                NameRef::Alias(c, k) => Some((c, k)),
                _ => None,
            },
            "binary_expression" => {
                let left = field(node, "left")?;
                if let Some(r) = self.root_of(left) {
                    return Some(r);
                }
                self.root_of(field(node, "right")?)
            }
            "ternary_expression" => self.root_of(field(node, "alternative")?),
            _ => None,
        }
    }

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
        let node = unwrap(node);
        if node.kind() == "identifier" {
            return self.b.key_of_name(self.t(node));
        }
        if whole.len() > MAX_KEY_TEXT {
            let keys = self.key_fold(node);
            return keys.found.map_or(keys.key(), KeyClass::Client);
        }
        let mut names = Vec::new();
        let src = self.src;
        visit(node, &is_scope_boundary, &mut |n| {
            if n.kind() == "identifier" {
                names.push(text(n, src));
            }
        });
        combine_keys(names.into_iter().map(|n| self.b.key_of_name(n)))
    }

    /// The keys of a long expression's names, and the first client key in
    /// its short sub-expressions. Memoised: the arguments of nested calls
    /// are folded once, not once per enclosing call.
    fn key_fold(&mut self, node: Node) -> KeyFold {
        let src = self.src;
        let b = &self.b;
        let stamp = (b.current_function(), b.key_epoch);
        let mut own = |n: Node, _: Option<Node>, _: Option<&'static str>| {
            let mut keys = KeyFold::default();
            match n.kind() {
                "member_expression"
                | "subscript_expression"
                | "call_expression"
                | "string"
                | "template_string"
                    if n.byte_range().len() <= MAX_KEY_TEXT =>
                {
                    keys.found = key_from_text(text(n, src));
                }
                "identifier" => keys.add_key(b.key_of_name(text(n, src))),
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

    /// Whether a value holds a count or a time: a number, arithmetic, a
    /// clock call, a variable known to, or an entry of a container.
    /// Memoised like `key_fold`: `hits.set(ip, hits.set(ip, …))` asks this
    /// of every level's value, which contains all the deeper levels.
    fn countsy(&mut self, node: Node) -> bool {
        if self.root_of(node).is_some() {
            return true;
        }
        let src = self.src;
        let b = &self.b;
        let stamp = (b.current_function(), b.countsy_epoch);
        let mut own = |n: Node, _: Option<Node>, _: Option<&'static str>| match n.kind() {
            "number" | "update_expression" => true,
            "binary_expression" => {
                field(n, "operator").is_some_and(|o| matches!(text(o, src), "+" | "-" | "*" | "/"))
            }
            "call_expression" => field(n, "function")
                .is_some_and(|f| knowledge::TIME_NAMES.contains(&last_segment(text(f, src)))),
            "new_expression" => field(n, "constructor").is_some_and(|c| text(c, src) == "Date"),
            "identifier" | "shorthand_property_identifier" => b.is_countsy_var(text(n, src)),
            _ => false,
        };
        fold(
            node,
            &is_scope_boundary,
            &mut own,
            &|acc, later| *acc |= later,
            &mut self.countsy_memo,
            stamp,
        )
    }

    // --------------------------------------------------------- statements

    fn track_variable(&mut self, name: &str, value: Node) {
        if self.is_store_client(value) {
            self.b.add_store_var(name);
            let callee = match unwrap(value).kind() {
                "call_expression" => {
                    field(unwrap(value), "function").map(|f| last_segment(self.t(f)))
                }
                _ => None,
            };
            if matches!(callee, Some("multi" | "pipeline")) {
                self.b.add_pipeline(name);
            }
        }
        let root = self.root_of(value);
        let key = self.classify(value);
        let countsy = self.countsy(value);
        self.b.track_variable(name, root, key, countsy);
    }

    fn declarator(&mut self, node: Node) {
        let (Some(name), Some(value)) = (field(node, "name"), field(node, "value")) else {
            return;
        };
        if self.b.scope().is_none() {
            return;
        }
        if name.kind() == "identifier" {
            let name = self.t(name).to_string();
            self.track_variable(&name, value);
        } else if matches!(name.kind(), "object_pattern" | "array_pattern") {
            // `const { count, start } = hits.get(ip) ?? {...}`
            let root = self.root_of(value);
            let mut names = Vec::new();
            collect_pattern_names(name, self.src, &mut names);
            for n in names {
                self.b
                    .track_variable(&n, root.clone(), KeyClass::Unknown, root.is_some());
            }
        }
    }

    fn assignment(&mut self, node: Node) {
        let (Some(left), Some(right)) = (field(node, "left"), field(node, "right")) else {
            return;
        };
        let left = unwrap(left);
        match left.kind() {
            "identifier" => {
                if let Some(c) = self.container_expr(left) {
                    if self.container_ctor(right).is_some() {
                        // `hits = new Map()`: the whole state is reset.
                        self.b
                            .record(c, KeyClass::Unknown, AccessKind::Delete, span(node));
                    }
                    return;
                }
                let name = self.t(left).to_string();
                self.track_variable(&name, right);
            }
            "subscript_expression" | "member_expression" => {
                let counts = self.countsy(right);
                self.write_through(left, node, counts);
            }
            _ => {}
        }
    }

    /// Record a write through `target` (`hits[ip]`, `entry.count`, …).
    fn write_through(&mut self, target: Node, stmt: Node, counts: bool) {
        let target = unwrap(target);
        if let Some((c, key)) = self.root_of(target) {
            let nested = target.kind() == "member_expression"
                || field(target, "object").is_some_and(|o| self.container_expr(o).is_none());
            self.b.record(
                c,
                key,
                AccessKind::Write {
                    counts_or_times: counts || nested,
                    direct: !nested,
                },
                span(stmt),
            );
        }
    }

    fn call(&mut self, node: Node) {
        let Some(func) = field(node, "function").map(unwrap) else {
            return;
        };
        self.limiter_setup(node, func);
        let callee_text = self.t(func);
        self.b.note_limiter_call(callee_text);
        if func.kind() == "member_expression"
            && field(func, "property").is_some_and(|p| self.t(p) == "consume")
        {
            self.consume_site(node, func);
        }
        self.store_call(node, func);
        let args: Vec<Node> = field(node, "arguments")
            .map(|a| {
                named_children(a)
                    .filter(|c| c.kind() != "spread_element")
                    .collect()
            })
            .unwrap_or_default();
        let callee = last_segment(self.t(func)).to_string();
        let arg_keys: Vec<KeyClass> = args.iter().map(|a| self.classify(*a)).collect();
        let receiver = (func.kind() == "member_expression")
            .then(|| field(func, "object").map(|o| last_segment(self.t(unwrap(o)))))
            .flatten();
        self.b.add_call(&callee, receiver, arg_keys.clone());
        if func.kind() != "member_expression" {
            return;
        }
        let (Some(object), Some(method)) = (field(func, "object"), field(func, "property")) else {
            return;
        };
        let method = self.t(method);
        let first_key = arg_keys.first().copied().unwrap_or(KeyClass::Unknown);
        if let Some(c) = self.container_expr(object) {
            if let Some(first) = args.first() {
                self.b.note_key(self.t(*first));
            }
            match method {
                "set" => {
                    let counts = args.get(1).is_some_and(|v| self.countsy(*v));
                    self.b.record(
                        c,
                        first_key,
                        AccessKind::Write {
                            counts_or_times: counts,
                            direct: true,
                        },
                        span(node),
                    );
                }
                "add" => self.b.record(
                    c,
                    first_key,
                    AccessKind::Write {
                        counts_or_times: false,
                        direct: true,
                    },
                    span(node),
                ),
                "push" | "unshift" => {
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
                "delete" => self.b.record(c, first_key, AccessKind::Delete, span(node)),
                "clear" => self
                    .b
                    .record(c, KeyClass::Unknown, AccessKind::Delete, span(node)),
                "has" => self
                    .b
                    .record(c, first_key, AccessKind::Membership, span(node)),
                _ => {}
            }
        } else if matches!(method, "push" | "unshift" | "add" | "set" | "splice") {
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

    fn binary(&mut self, node: Node) {
        let Some(op) = field(node, "operator").map(|o| self.t(o)) else {
            return;
        };
        let (Some(left), Some(right)) = (field(node, "left"), field(node, "right")) else {
            return;
        };
        match op {
            "<" | ">" | "<=" | ">=" => {
                let mut seen: Vec<ContainerRef> = Vec::new();
                for operand in [left, right] {
                    let mut candidates = Vec::new();
                    visit(operand, &is_scope_boundary, &mut |n| {
                        if matches!(
                            n.kind(),
                            "subscript_expression"
                                | "call_expression"
                                | "identifier"
                                | "member_expression"
                        ) {
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
            "in" => {
                if let Some(c) = self.container_expr(right) {
                    let key = self.classify(left);
                    self.b.note_key(self.t(left));
                    self.b.record(c, key, AccessKind::Membership, span(node));
                }
            }
            _ => {}
        }
    }

    fn unary(&mut self, node: Node) {
        if field(node, "operator").is_none_or(|o| self.t(o) != "delete") {
            return;
        }
        let Some(arg) = field(node, "argument").map(unwrap) else {
            return;
        };
        if arg.kind() != "subscript_expression" {
            return;
        }
        let Some(object) = field(arg, "object") else {
            return;
        };
        if let Some(c) = self.container_expr(object) {
            let key = field(arg, "index")
                .map(|k| self.classify(k))
                .unwrap_or(KeyClass::Unknown);
            self.b.record(c, key, AccessKind::Delete, span(node));
        }
    }
}

fn answers_429(handler: &str) -> bool {
    handler.contains("429") || handler.contains("TOO_MANY_REQUESTS") || handler.contains("TooMany")
}

fn collect_pattern_names(node: Node, src: &str, out: &mut Vec<String>) {
    match node.kind() {
        "identifier" | "shorthand_property_identifier_pattern" => {
            out.push(text(node, src).to_string())
        }
        _ => {
            for c in named_children(node) {
                collect_pattern_names(c, src, out);
            }
        }
    }
}
