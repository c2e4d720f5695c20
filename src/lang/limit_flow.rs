//! Where rate limits come from at run time (for RATE009): a small,
//! flow-sensitive pass over each function of a Python or JS/TS file that
//! follows values read from a model's or service's response, or from the
//! request, through local assignments, conversions and same-file function
//! returns, to the places that apply a limit: limiter options, AWS API
//! Gateway usage-plan throttles, limiter attributes and the comparison in a
//! hand-rolled check. A clamp (`max`/`min`/`Math.max`/`clamp`) or an `if`
//! that compares the value with a bound stops the flow: precision first.
//!
//! Both grammars are handled by one walker: their node kinds are disjoint
//! where it matters (`call` vs `call_expression`, `attribute` vs
//! `member_expression`).

use super::syntax::{
    enclosing_class_name, field, is_function_kind as is_function, last_segment, named_children,
    span, text, unquote, unwrap_expression as unwrap,
};
use crate::facts::{DynamicLimit, LimitSource, ZeroLimit};
use crate::knowledge::is_limiter_name;
use crate::source::Span;
use std::collections::HashMap;
use tree_sitter::Node;

/// Deeper expressions are not followed (machine-generated code).
const MAX_DEPTH: usize = 200;

#[derive(Debug, Clone)]
struct Taint {
    kind: LimitSource,
    span: Span,
}

/// What the pass found in one file.
#[derive(Default)]
pub struct LimitFlows {
    pub dynamic: Vec<DynamicLimit>,
    pub zero: Vec<ZeroLimit>,
}

pub fn analyse(root: Node, src: &str, python: bool) -> LimitFlows {
    let mut functions = Vec::new();
    let mut limiter_classes = Vec::new();
    collect_functions(root, src, &mut functions, &mut limiter_classes, 0);
    let mut a = Analyser {
        src,
        python,
        summaries: HashMap::new(),
        out: LimitFlows::default(),
        recording: false,
        depth: 0,
        limiter_function: false,
    };
    // Function summaries ("returns a runtime value with no clamp"), twice so
    // that one helper calling another is followed, then a recording pass.
    // Only functions that can hold a source (for summaries) or a sink (for
    // findings) are walked: big bundles pass the file's prefilter on a word
    // somewhere, and most of their functions have neither.
    let sources = marker_offsets(src, SOURCE_MARKERS);
    let sinks = marker_offsets(src, SINK_MARKERS);
    let has = |offsets: &[usize], n: Node| {
        let i = offsets.partition_point(|&o| o < n.start_byte());
        i < offsets.len() && offsets[i] < n.end_byte()
    };
    for _ in 0..2 {
        for &(name, node) in &functions {
            let Some(name) = name else { continue };
            let calls_summarised = !a.summaries.is_empty() && {
                let body = text(node, src);
                a.summaries.keys().any(|k| body.contains(k.as_str()))
            };
            if !has(&sources, node) && !calls_summarised {
                continue;
            }
            match a.function(node, HashMap::new()) {
                Some(t) => {
                    a.summaries.insert(name.to_string(), t);
                }
                None => {
                    a.summaries.remove(name);
                }
            }
        }
    }
    a.recording = true;
    // Module level: start-up code, where reading configuration is fine; only
    // the sinks and the functions handed to them are looked at.
    a.block(root, &mut Env::new(false));
    let in_limiter_class = |n: Node| {
        limiter_classes
            .iter()
            .any(|&(start, end)| start <= n.start_byte() && n.end_byte() <= end)
    };
    for &(_, node) in &functions {
        if has(&sinks, node) || in_limiter_class(node) {
            a.function(node, HashMap::new());
        }
    }
    a.out.dynamic.sort_by_key(|d| d.span);
    a.out.dynamic.dedup_by_key(|d| d.span);
    a.out.zero.sort_by_key(|z| z.span);
    a.out.zero.dedup_by_key(|z| z.span);
    a.out
}

/// Words where a limit is applied (a limiter's name or option, a usage
/// plan, a 429 check): the file prefilter and the per-function filter.
pub const SINK_MARKERS: &[&str] = &[
    "ateLimit",
    "atelimit",
    "imiter",
    "hrottl",
    "sagePlan",
    "sage_plan",
    "lowDown",
    ".limit(",
    "RATELIMIT",
    "points",
    "429",
    "TOO_MANY",
];

/// Words of run-time sources: parsed responses, model SDKs, request data.
const SOURCE_MARKERS: &[&str] = &[
    ".json(",
    "loads",
    "JSON.parse",
    "completions",
    "messages",
    "responses",
    "invoke_model",
    "converse",
    "enerate",
    "axios",
    "got(",
    "request",
    "req.",
    "req)",
    "ctx.",
    "searchParams",
    "c.req",
];

/// Sorted start offsets of every occurrence of the markers.
fn marker_offsets(src: &str, markers: &[&str]) -> Vec<usize> {
    let mut out: Vec<usize> = markers
        .iter()
        .flat_map(|m| src.match_indices(m).map(|(i, _)| i))
        .collect();
    out.sort_unstable();
    out
}

/// Every function node in the file with the name callers use for it.
/// Also collects the byte ranges of classes named like a limiter (their
/// methods set `self.limit`).
fn collect_functions<'t>(
    node: Node<'t>,
    src: &'t str,
    out: &mut Vec<(Option<&'t str>, Node<'t>)>,
    limiter_classes: &mut Vec<(usize, usize)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for child in named_children(node) {
        let kind = child.kind();
        if is_function(kind) {
            let name = field(child, "name").map(|n| text(n, src)).or_else(|| {
                // `const limitFor = async (req) => …`
                (node.kind() == "variable_declarator")
                    .then(|| field(node, "name").map(|n| text(n, src)))
                    .flatten()
            });
            out.push((name, child));
        } else if matches!(kind, "class_definition" | "class_declaration" | "class")
            && field(child, "name").is_some_and(|n| is_limiter_name(text(n, src)))
        {
            limiter_classes.push((child.start_byte(), child.end_byte()));
        }
        collect_functions(child, src, out, limiter_classes, depth + 1);
    }
}

struct Env {
    vars: HashMap<String, Taint>,
    /// Sources count here (inside a function: per request); module level
    /// runs once at start-up.
    runtime: bool,
    /// Tainted values returned so far.
    returned: Option<Taint>,
}

impl Env {
    fn new(runtime: bool) -> Self {
        Env {
            vars: HashMap::new(),
            runtime,
            returned: None,
        }
    }
}

struct Analyser<'s> {
    src: &'s str,
    python: bool,
    summaries: HashMap<String, Taint>,
    out: LimitFlows,
    /// Only the last pass records findings.
    recording: bool,
    depth: usize,
    /// The function being analysed answers 429 or is named like a limiter
    /// (a limit compared there is a rate limit, not a page size).
    limiter_function: bool,
}

impl<'s> Analyser<'s> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    /// Analyse a function body; returns what it returns when that is a
    /// runtime value with no clamp.
    fn function(&mut self, node: Node, captured: HashMap<String, Taint>) -> Option<Taint> {
        let name = field(node, "name").map(|x| self.t(x)).unwrap_or("");
        let body_text = self.t(node);
        let limiter = is_limiter_name(name)
            || body_text.contains("429")
            || body_text.contains("TOO_MANY_REQUESTS")
            || body_text.contains("RateLimitExceeded");
        let outer = std::mem::replace(&mut self.limiter_function, limiter);
        let result = self.function_body(node, captured);
        self.limiter_function = outer;
        result
    }

    fn function_body(&mut self, node: Node, captured: HashMap<String, Taint>) -> Option<Taint> {
        let mut env = Env::new(true);
        env.vars = captured;
        let body = field(node, "body")?;
        if matches!(body.kind(), "block" | "statement_block") {
            self.block(body, &mut env);
            env.returned
        } else {
            // Lambda / arrow expression body.
            self.statement(body, &mut env);
            self.eval(body, &env)
        }
    }

    /// Statements in source order; nested functions are analysed on their own.
    fn block(&mut self, node: Node, env: &mut Env) {
        for child in named_children(node) {
            self.statement(child, env);
        }
    }

    fn statement(&mut self, node: Node, env: &mut Env) {
        if self.depth > MAX_DEPTH || super::budget::tick() {
            return;
        }
        self.depth += 1;
        self.statement_inner(node, env);
        self.depth -= 1;
    }

    fn statement_inner(&mut self, node: Node, env: &mut Env) {
        let kind = node.kind();
        if is_function(kind) {
            return;
        }
        match kind {
            "assignment" | "augmented_assignment" | "named_expression" => {
                let (left, right) = if kind == "named_expression" {
                    (field(node, "name"), field(node, "value"))
                } else {
                    (field(node, "left"), field(node, "right"))
                };
                if let Some(right) = right {
                    self.statement(right, env);
                }
                if let (Some(left), Some(right)) = (left, right) {
                    self.assign(left, right, env, kind == "augmented_assignment");
                }
            }
            "variable_declarator" => {
                if let Some(value) = field(node, "value") {
                    self.statement(value, env);
                    if let Some(name) = field(node, "name") {
                        self.assign(name, value, env, false);
                    }
                }
            }
            "assignment_expression" | "augmented_assignment_expression" => {
                if let Some(right) = field(node, "right") {
                    self.statement(right, env);
                    if let Some(left) = field(node, "left") {
                        self.assign(left, right, env, kind != "assignment_expression");
                    }
                }
            }
            "if_statement" | "elif_clause" | "while_statement" => {
                if let Some(cond) = field(node, "condition") {
                    self.statement(cond, env);
                    self.bound_by_condition(cond, env);
                }
                for child in named_children(node) {
                    if Some(child) != field(node, "condition") {
                        self.statement(child, env);
                    }
                }
            }
            "assert_statement" => {
                for child in named_children(node) {
                    self.bound_by_condition(child, env);
                }
            }
            "return_statement" => {
                for child in named_children(node) {
                    self.statement(child, env);
                    if env.returned.is_none() {
                        env.returned = self.eval(child, env);
                    }
                }
            }
            "call" | "call_expression" | "new_expression" => {
                for child in named_children(node) {
                    self.statement(child, env);
                }
                self.call_sink(node, env);
            }
            "comparison_operator" | "binary_expression" => {
                for child in named_children(node) {
                    self.statement(child, env);
                }
                self.check_sink(node, env);
            }
            "string" | "template_string" => {
                if self.python {
                    self.zero_rate_string(node);
                }
            }
            _ => {
                for child in named_children(node) {
                    self.statement(child, env);
                }
            }
        }
    }

    /// `x = value`: `x` now carries the value's taint (or loses it).
    fn assign(&mut self, left: Node, right: Node, env: &mut Env, augmented: bool) {
        let taint = self.eval(right, env);
        match left.kind() {
            "identifier" => {
                let name = self.t(left).to_string();
                match taint {
                    Some(t) => {
                        env.vars.insert(name, t);
                    }
                    None if !augmented => {
                        env.vars.remove(&name);
                    }
                    None => {}
                }
            }
            // `const { limit } = await res.json()`, `a, b = …`
            "object_pattern" | "array_pattern" | "pattern_list" | "tuple_pattern"
            | "list_pattern" => {
                let mut names = Vec::new();
                pattern_names(left, self.src, &mut names);
                for name in names {
                    match &taint {
                        Some(t) => {
                            env.vars.insert(name.to_string(), t.clone());
                        }
                        None => {
                            env.vars.remove(name);
                        }
                    }
                }
            }
            "attribute" | "member_expression" | "subscript" | "subscript_expression" => {
                if let Some(t) = taint {
                    self.attribute_sink(left, right, t, env);
                }
            }
            _ => {}
        }
    }

    /// An `if`/`while`/`assert` that compares a tracked value with a bound
    /// (`if limit < 1`, `if not 1 <= n <= 1000`, `if (!limit)`) clamps it
    /// from here on: precision first, the bound's direction is not checked.
    fn bound_by_condition(&mut self, cond: Node, env: &mut Env) {
        let mut bounded = Vec::new();
        self.find_bounds(cond, env, &mut bounded, 0);
        for name in bounded {
            env.vars.remove(&name);
        }
    }

    fn find_bounds(&self, node: Node, env: &Env, out: &mut Vec<String>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node.kind() {
            "comparison_operator" | "binary_expression" => {
                let operands: Vec<Node> = named_children(node).collect();
                let has_bound = operands.iter().any(|o| self.is_bound(*o));
                if has_bound && is_ordering(node, self.src) {
                    for o in &operands {
                        if let Some(name) = self.tracked_name(*o, env) {
                            out.push(name);
                        }
                    }
                }
            }
            // `if not limit` / `if (!limit)`: a zero is caught.
            "not_operator" | "unary_expression" => {
                if let Some(arg) = field(node, "argument") {
                    if let Some(name) = self.tracked_name(arg, env) {
                        out.push(name);
                    }
                }
            }
            _ => {}
        }
        for child in named_children(node) {
            self.find_bounds(child, env, out, depth + 1);
        }
    }

    /// The tracked variable an operand is (or converts): `limit`,
    /// `int(limit)`, `Number(limit)`.
    fn tracked_name(&self, node: Node, env: &Env) -> Option<String> {
        let node = unwrap(node);
        match node.kind() {
            "identifier" => {
                let name = self.t(node);
                env.vars.contains_key(name).then(|| name.to_string())
            }
            "call" | "call_expression" => {
                let callee = field(node, "function")?;
                if !is_conversion(last_segment(self.t(callee))) {
                    return None;
                }
                let first = named_children(field(node, "arguments")?).next()?;
                self.tracked_name(first, env)
            }
            _ => None,
        }
    }

    /// A number literal or a constant-looking name (`MIN_LIMIT`,
    /// `settings.MAX_RPS`): a bound, not a count.
    fn is_bound(&self, node: Node) -> bool {
        let node = unwrap(node);
        match node.kind() {
            "integer" | "float" | "number" => true,
            "unary_operator" | "unary_expression" => field(node, "argument")
                .or_else(|| named_children(node).next())
                .is_some_and(|a| self.is_bound(a)),
            "identifier" | "attribute" | "member_expression" => {
                let last = last_segment(self.t(node));
                last.len() > 1
                    && last.chars().any(|c| c.is_ascii_uppercase())
                    && !last.chars().any(|c| c.is_ascii_lowercase())
            }
            _ => false,
        }
    }

    /// The taint an expression carries, if any.
    fn eval(&self, node: Node, env: &Env) -> Option<Taint> {
        self.eval_at(node, env, 0)
    }

    fn eval_at(&self, node: Node, env: &Env, depth: usize) -> Option<Taint> {
        if depth > MAX_DEPTH {
            return None;
        }
        let any_child = |n: Node| named_children(n).find_map(|c| self.eval_at(c, env, depth + 1));
        match node.kind() {
            "identifier" | "shorthand_property_identifier" => env.vars.get(self.t(node)).cloned(),
            "call" | "call_expression" | "new_expression" => self.eval_call(node, env, depth),
            "attribute" | "member_expression" | "subscript" | "subscript_expression" => {
                if env.runtime {
                    if let Some(t) = request_data(node, self.src) {
                        return Some(t);
                    }
                }
                let base = field(node, "object").or_else(|| field(node, "value"))?;
                self.eval_at(base, env, depth + 1)
            }
            "await"
            | "await_expression"
            | "parenthesized_expression"
            | "as_expression"
            | "non_null_expression"
            | "satisfies_expression"
            | "type_assertion"
            | "unary_operator"
            | "unary_expression"
            | "expression_statement" => any_child(node),
            "binary_operator" | "boolean_operator" => any_child(node),
            "binary_expression" => {
                if is_comparison_expr(node, self.src) {
                    None
                } else {
                    any_child(node)
                }
            }
            "conditional_expression" | "ternary_expression" => {
                // `x if x > 0 else 1` / `x > 0 ? x : 1`: a guarded value.
                let cond = if node.kind() == "ternary_expression" {
                    field(node, "condition")
                } else {
                    named_children(node).nth(1)
                };
                if let Some(cond) = cond {
                    let mut bounded = Vec::new();
                    self.find_bounds(cond, env, &mut bounded, 0);
                    if !bounded.is_empty() {
                        return None;
                    }
                }
                named_children(node)
                    .filter(|c| Some(*c) != cond)
                    .find_map(|c| self.eval_at(c, env, depth + 1))
            }
            "string"
            | "template_string"
            | "interpolation"
            | "template_substitution"
            | "concatenated_string"
            | "list"
            | "tuple"
            | "array" => any_child(node),
            _ => None,
        }
    }

    fn eval_call(&self, call: Node, env: &Env, depth: usize) -> Option<Taint> {
        let callee = field(call, "function").or_else(|| field(call, "constructor"))?;
        let callee_text = self.t(callee);
        let last = last_segment(callee_text);
        let args = field(call, "arguments");
        if is_clamp(last, callee_text) {
            return None;
        }
        let first_arg = || args.and_then(|a| named_children(a).next());
        // `json.loads(answer.content)`: the model, not the parser, is the source.
        if matches!(last, "loads" | "parse") {
            if let Some(t) = first_arg().and_then(|a| self.eval_at(a, env, depth + 1)) {
                return Some(t);
            }
        }
        if env.runtime {
            if let Some(kind) = self.source_call(call, callee, callee_text, args) {
                return Some(Taint {
                    kind,
                    span: span(call),
                });
            }
            if let Some(t) = request_data(call, self.src) {
                return Some(t);
            }
        }
        // A same-file helper that returns a runtime value unclamped.
        let plain = callee_text
            .strip_prefix("self.")
            .or_else(|| callee_text.strip_prefix("this."))
            .unwrap_or(callee_text);
        if !plain.contains('.') {
            if let Some(t) = self.summaries.get(plain) {
                return Some(t.clone());
            }
        }
        if is_conversion(last) {
            return first_arg().and_then(|a| self.eval_at(a, env, depth + 1));
        }
        // A method of a tainted value: `data.get("limit")`, `s.trim()`.
        if matches!(callee.kind(), "attribute" | "member_expression") {
            let object = field(callee, "object")?;
            return self.eval_at(object, env, depth + 1);
        }
        None
    }

    /// A call whose result is a model's or a service's answer.
    fn source_call(
        &self,
        call: Node,
        callee: Node,
        callee_text: &str,
        args: Option<Node>,
    ) -> Option<LimitSource> {
        let last = last_segment(callee_text);
        let arg_count = args.map(|a| named_children(a).count()).unwrap_or(0);
        let first_arg_text = args
            .and_then(|a| named_children(a).next())
            .map(|a| self.t(a))
            .unwrap_or("");
        let squashed: String = callee_text.chars().filter(|c| !c.is_whitespace()).collect();
        if is_model_call(&squashed, self.t(call)) {
            return Some(LimitSource::ModelResponse);
        }
        if last == "json"
            && arg_count == 0
            && matches!(callee.kind(), "attribute" | "member_expression")
        {
            let object = field(callee, "object").map(|o| self.t(o)).unwrap_or("");
            let object = object.trim_start_matches("await ").trim();
            return Some(
                if matches!(object, "request" | "req" | "c.req" | "ctx.request") {
                    LimitSource::RequestData
                } else {
                    LimitSource::ServiceResponse
                },
            );
        }
        let parses = matches!(
            squashed.as_str(),
            "json.loads" | "orjson.loads" | "ujson.loads" | "simplejson.loads" | "JSON.parse"
        );
        if parses && arg_count > 0 && !reads_configuration(first_arg_text) {
            return Some(LimitSource::ServiceResponse);
        }
        if squashed == "axios" || squashed.starts_with("axios.") || squashed == "got" {
            return Some(LimitSource::ServiceResponse);
        }
        None
    }

    // ---- sinks -------------------------------------------------------------

    fn call_sink(&mut self, call: Node, env: &Env) {
        let Some(callee) = field(call, "function").or_else(|| field(call, "constructor")) else {
            return;
        };
        let callee_text = self.t(callee);
        let last = last_segment(callee_text);
        let Some(args) = field(call, "arguments") else {
            return;
        };
        // AWS API Gateway usage plans.
        if matches!(
            last,
            "update_usage_plan"
                | "updateUsagePlan"
                | "create_usage_plan"
                | "createUsagePlan"
                | "UpdateUsagePlanCommand"
                | "CreateUsagePlanCommand"
        ) {
            self.usage_plan(args, last, env);
            return;
        }
        let first = named_children(args).next();
        // flask-limiter / slowapi: `@limiter.limit("…")`, `limiter.limit(callable)`.
        // (In JS, `ratelimit.limit(id)` is Upstash's check, keyed by its argument.)
        if self.python && matches!(last, "limit" | "shared_limit") {
            if let Some(receiver) = field(callee, "object") {
                if is_limiter_name(last_segment(self.t(receiver))) {
                    if let Some(value) = first.filter(|f| f.kind() != "keyword_argument") {
                        let what = format!("the limit given to `{}`", self.t(callee));
                        self.option_value(value, &what, env);
                    }
                }
            }
            return;
        }
        let registers_limiter =
            last == "register" && first.is_some_and(|f| is_limiter_name(self.t(f)));
        let limiter_call = is_limiter_name(last)
            || registers_limiter
            || (last == "forRoot" && callee_text.contains("Throttler"))
            || matches!(last, "Limiter" | "RateLimiter")
            || callee_text.starts_with("RateLimiter")
            || (last == "ratelimit" || last == "rateLimit");
        if !limiter_call {
            return;
        }
        for arg in named_children(args) {
            self.limiter_options(arg, callee_text, env, 0);
        }
    }

    /// Options of a limiter construction: keyword arguments, an object
    /// literal, or an array of them (`ThrottlerModule.forRoot([{…}])`).
    fn limiter_options(&mut self, node: Node, callee: &str, env: &Env, depth: usize) {
        if depth > 6 {
            return;
        }
        match node.kind() {
            "keyword_argument" | "pair" => {
                let (Some(key), Some(value)) = (
                    field(node, "name").or_else(|| field(node, "key")),
                    field(node, "value"),
                ) else {
                    return;
                };
                let key = unquote(self.t(key));
                if LIMIT_OPTIONS.contains(&key) {
                    let what = format!("the `{key}` option of `{callee}`");
                    self.zero_option(node, value, &what);
                    self.option_value(value, &what, env);
                } else if matches!(value.kind(), "object" | "array" | "list") {
                    // `ThrottlerModule.forRoot({ throttlers: [{ limit: 0 }] })`
                    self.limiter_options(value, callee, env, depth + 1);
                }
            }
            "object" | "array" | "list" | "argument_list" => {
                for child in named_children(node) {
                    self.limiter_options(child, callee, env, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// A literal `0` (or `"0/minute"`) where a limit goes.
    fn zero_option(&mut self, option: Node, value: Node, what: &str) {
        if !self.recording {
            return;
        }
        let v = self.t(value).trim();
        let zero = matches!(value.kind(), "integer" | "number")
            && v.trim_start_matches('0').is_empty()
            && !v.is_empty();
        if zero {
            self.out.zero.push(ZeroLimit {
                span: span(value),
                text: short(self.t(option)),
                what: what.to_string(),
            });
        }
    }

    /// A limit value: a runtime value, or a function (inline or same-file)
    /// that returns one per request.
    fn option_value(&mut self, value: Node, what: &str, env: &Env) {
        let value = unwrap(value);
        let taint = if is_function(value.kind()) {
            self.function(value, env.vars.clone())
        } else if let Some(t) = (value.kind() == "identifier")
            .then(|| self.summaries.get(self.t(value)).cloned())
            .flatten()
        {
            Some(t)
        } else {
            self.eval(value, env)
        };
        if let Some(t) = taint {
            self.record(value, what, t);
        }
    }

    fn usage_plan(&mut self, args: Node, callee: &str, env: &Env) {
        // patchOperations=[{"op": "replace", "path": "/throttle/rateLimit", "value": …}]
        let mut operations = Vec::new();
        find_dicts(args, &mut operations, 0);
        for op in operations {
            let mut path = None;
            let mut value = None;
            let mut limit_keys = Vec::new();
            for pair in named_children(op) {
                let (Some(k), Some(v)) = (field(pair, "key"), field(pair, "value")) else {
                    continue;
                };
                let k = unquote(self.t(k));
                match k {
                    "path" => path = Some(unquote(self.t(v)).to_string()),
                    "value" => value = Some(v),
                    "rateLimit" | "burstLimit" | "limit" => limit_keys.push((k.to_string(), v)),
                    _ => {}
                }
            }
            let mut targets = limit_keys;
            if let (Some(p), Some(v)) = (&path, value) {
                if p.contains("throttle") || p.contains("quota") {
                    targets.push((p.rsplit('/').next().unwrap_or(p).to_string(), v));
                }
            }
            for (key, v) in targets {
                let what = format!("the usage plan's `{key}` in `{callee}`");
                let literal = unquote(self.t(v)).trim();
                if self.recording
                    && !literal.is_empty()
                    && literal.trim_start_matches('0').is_empty()
                    && !literal.contains('.')
                {
                    self.out.zero.push(ZeroLimit {
                        span: span(v),
                        text: format!("{key}: {literal}"),
                        what: what.clone(),
                    });
                }
                if let Some(t) = self.eval(v, env) {
                    self.record(v, &what, t);
                }
            }
        }
    }

    /// `limiter.points = n`, `app.config["RATELIMIT_DEFAULT"] = f"{n}/minute"`.
    fn attribute_sink(&mut self, target: Node, value: Node, taint: Taint, _env: &Env) {
        let target_text = self.t(target);
        let (object, key) = match target.kind() {
            "attribute" | "member_expression" => {
                let obj = field(target, "object").map(|o| self.t(o)).unwrap_or("");
                let prop = field(target, "attribute")
                    .or_else(|| field(target, "property"))
                    .map(|p| self.t(p))
                    .unwrap_or("");
                (obj, prop)
            }
            _ => {
                let obj = field(target, "value")
                    .or_else(|| field(target, "object"))
                    .map(|o| self.t(o))
                    .unwrap_or("");
                let key = field(target, "subscript")
                    .or_else(|| field(target, "index"))
                    .map(|k| unquote(self.t(k)))
                    .unwrap_or("");
                (obj, key)
            }
        };
        let config = key.starts_with("RATELIMIT_")
            && (key.contains("DEFAULT") || key.contains("APPLICATION"));
        let limiter_object = if matches!(object, "self" | "this") {
            enclosing_class_name(target, self.src).is_some_and(is_limiter_name)
        } else {
            is_limiter_name(last_segment(object))
        };
        let limiter_attr = (LIMIT_OPTIONS.contains(&key) || is_limit_name(key)) && limiter_object;
        if config || limiter_attr {
            self.record(value, &format!("`{target_text}`"), taint);
        }
    }

    /// `if count >= limit:` where `limit` came from a response or the
    /// request, in a function that answers 429 or is named like a limiter.
    fn check_sink(&mut self, node: Node, env: &Env) {
        if !self.recording || !is_ordering(node, self.src) {
            return;
        }
        let operands: Vec<Node> = named_children(node).collect();
        if operands.iter().any(|o| self.is_bound(*o)) {
            return;
        }
        if !self.limiter_function {
            return;
        }
        for o in operands {
            let name_text = self.t(o);
            if !is_limit_name(name_text) {
                continue;
            }
            if let Some(t) = self.eval(o, env) {
                self.record(o, &format!("the limit `{name_text}` in this check"), t);
            }
        }
    }

    fn record(&mut self, at: Node, what: &str, taint: Taint) {
        if !self.recording {
            return;
        }
        self.out.dynamic.push(DynamicLimit {
            span: span(at),
            value: short(self.t(at)),
            what: what.to_string(),
            source: taint.kind,
            source_span: taint.span,
        });
    }

    /// `"0/minute"`, `"0 per hour"` in a Python string (flask-limiter,
    /// slowapi, limits, django-ratelimit, DRF rates).
    fn zero_rate_string(&mut self, node: Node) {
        if !self.recording {
            return;
        }
        let value = unquote(self.t(node));
        if value.len() > 60 || !value.starts_with('0') {
            return;
        }
        if value.split([';', ',']).any(is_zero_rate) {
            self.out.zero.push(ZeroLimit {
                span: span(node),
                text: format!("\"{value}\""),
                what: "this rate string".to_string(),
            });
        }
    }
}

/// Option names that hold "how many requests": express-rate-limit `max` /
/// `limit`, rate-limiter-flexible `points`, fastapi-limiter `times`,
/// flask-limiter `default_limits`, django-ratelimit `rate`.
const LIMIT_OPTIONS: &[&str] = &[
    "max",
    "limit",
    "points",
    "times",
    "rate",
    "default_limits",
    "application_limits",
    "limit_value",
];

/// `0/minute`, `0 per hour`, `0/5 seconds`.
fn is_zero_rate(rate: &str) -> bool {
    let rate = rate.trim().to_ascii_lowercase();
    let digits = rate.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || !rate[..digits].chars().all(|c| c == '0') {
        return false;
    }
    let rest = rate[digits..].trim_start();
    let rest = if let Some(r) = rest.strip_prefix('/') {
        r
    } else if let Some(r) = rest.strip_prefix("per ") {
        r
    } else {
        return false;
    };
    let unit: String = rest.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    matches!(
        unit.as_str(),
        "s" | "sec"
            | "second"
            | "seconds"
            | "m"
            | "min"
            | "minute"
            | "minutes"
            | "h"
            | "hour"
            | "hours"
            | "d"
            | "day"
            | "days"
            | "month"
            | "months"
            | "year"
            | "years"
    )
}

fn is_clamp(last: &str, callee: &str) -> bool {
    let l = last.to_ascii_lowercase();
    matches!(l.as_str(), "max" | "min" | "clip" | "constrain")
        || l.starts_with("clamp")
        || l.starts_with("bound")
        || callee == "Math.max"
        || callee == "Math.min"
}

fn is_conversion(last: &str) -> bool {
    matches!(
        last,
        "int"
            | "float"
            | "str"
            | "round"
            | "Decimal"
            | "Number"
            | "parseInt"
            | "parseFloat"
            | "String"
            | "floor"
            | "ceil"
            | "trunc"
            | "BigInt"
    )
}

/// LLM SDK calls: OpenAI, Anthropic, Bedrock, Gemini, Mistral, the
/// Vercel AI SDK, LangChain models.
fn is_model_call(callee: &str, call_text: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "completions.create",
        "completions.parse",
        "ChatCompletion.create",
        "Completion.create",
        "responses.create",
        "responses.parse",
        "messages.create",
        "messages.parse",
        "invoke_model",
        "converse",
        "generate_content",
        "generateContent",
        "chat.complete",
    ];
    if SUFFIXES.iter().any(|s| callee.ends_with(s)) {
        return true;
    }
    if matches!(callee, "generateText" | "generateObject") {
        return true;
    }
    // Bedrock (JS SDK v3): `client.send(new InvokeModelCommand(…))`.
    callee.ends_with(".send")
        && (call_text.contains("InvokeModelCommand") || call_text.contains("ConverseCommand"))
}

/// `json.loads(open(…).read())`, `JSON.parse(fs.readFileSync(…))`,
/// `json.loads(os.environ[…])`: configuration, read once.
fn reads_configuration(arg: &str) -> bool {
    [
        "open(",
        "read_text",
        "readFileSync",
        "readFile",
        "environ",
        "getenv",
        "process.env",
    ]
    .iter()
    .any(|m| arg.contains(m))
}

/// Request data as the source of a limit: query, body, headers.
fn request_data(node: Node, src: &str) -> Option<Taint> {
    let t: String = text(node, src)
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(60)
        .collect();
    const PREFIXES: &[&str] = &[
        "request.args",
        "request.form",
        "request.values",
        "request.json",
        "request.get_json",
        "request.data",
        "request.GET",
        "request.POST",
        "request.query_params",
        "request.headers",
        "request.query",
        "request.body",
        "request.params",
        "req.query",
        "req.body",
        "req.params",
        "req.headers",
        "req.header(",
        "req.get(",
        "ctx.query",
        "ctx.request.query",
        "ctx.request.body",
        "ctx.params",
        "ctx.headers",
        "ctx.get(",
        "c.req.query",
        "c.req.param",
        "c.req.header",
        "request.nextUrl.searchParams",
        "searchParams.get(",
    ];
    PREFIXES.iter().any(|p| t.starts_with(p)).then(|| Taint {
        kind: LimitSource::RequestData,
        span: span(node),
    })
}

/// Names that hold a limit: `limit`, `max_requests`, `quota`, `rpm`.
fn is_limit_name(text: &str) -> bool {
    let last = last_segment(text).trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    let l = last.to_ascii_lowercase();
    [
        "limit",
        "max",
        "quota",
        "allow",
        "capacity",
        "threshold",
        "budget",
        "rpm",
        "rps",
        "qps",
        "burst",
        "points",
    ]
    .iter()
    .any(|w| l.contains(w))
}

fn is_ordering(node: Node, src: &str) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .filter(|c| !c.is_named())
        .any(|c| matches!(text(c, src), "<" | "<=" | ">" | ">="));
    found
}

fn is_comparison_expr(node: Node, src: &str) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .filter(|c| !c.is_named())
        .any(|c| {
            matches!(
                text(c, src),
                "<" | "<=" | ">" | ">=" | "==" | "===" | "!=" | "!==" | "instanceof" | "in"
            )
        });
    found
}

fn pattern_names<'s>(node: Node, src: &'s str, out: &mut Vec<&'s str>) {
    for child in named_children(node) {
        match child.kind() {
            "identifier" | "shorthand_property_identifier_pattern" => out.push(text(child, src)),
            "pair_pattern" => {
                if let Some(v) = field(child, "value") {
                    if v.kind() == "identifier" {
                        out.push(text(v, src));
                    } else {
                        pattern_names(v, src, out);
                    }
                }
            }
            _ => pattern_names(child, src, out),
        }
    }
}

/// Dict / object literals under a usage-plan call's arguments.
fn find_dicts<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>, depth: usize) {
    if depth > 6 {
        return;
    }
    for child in named_children(node) {
        if matches!(child.kind(), "dictionary" | "object") {
            out.push(child);
        }
        find_dicts(child, out, depth + 1);
    }
}

fn short(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 60 {
        let cut: String = one_line.chars().take(57).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rates() {
        for yes in [
            "0/minute",
            "0 per hour",
            "00/second",
            "0/5 minutes",
            " 0/day",
        ] {
            assert!(is_zero_rate(yes), "{yes}");
        }
        for no in [
            "10/minute",
            "0",
            "0.5/minute",
            "0/banana",
            "100 per day",
            "01:00",
        ] {
            assert!(!is_zero_rate(no), "{no}");
        }
    }
}
