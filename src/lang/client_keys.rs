//! Client keys for RATE003: a pass over a Python or JS/TS file that
//! classifies key expressions finer than `ClientKeyKind` (the peer address,
//! the leftmost or whole `X-Forwarded-For`, rightmost-entry parsing,
//! identity) and follows them through local assignments and same-file
//! helper returns to the places a limiter may key on them: subscripts and
//! entry/store methods (judged against the file's `accesses` and
//! `store_calls` by the rule), library key options (`key_func`,
//! `keyGenerator`, `id`, `key`) and `consume(key)`. It also records proxy
//! trust settings (`ProxyFix`, `trust proxy`, `trustProxy`, Koa's
//! `app.proxy`, `NUM_PROXIES`, `RATELIMIT_IP_META_KEY`) and DRF throttles
//! keyed by `get_ident`.
//!
//! One walker for both grammars, as in `limit_flow`: their node kinds are
//! disjoint where it matters.

use super::syntax::{field, is_function_kind, last_segment, named_children, span, text, unquote};
use crate::facts::{
    ClientKey, ClientKeyUse, KeyArg, KeyForm, KeySite, ParamKeyUse, ProxySetting, ProxyTrust,
};
use crate::knowledge;
use crate::source::Span;
use std::collections::{HashMap, HashSet};
use tree_sitter::Node;

/// Deeper syntax is not followed (machine-generated code).
const MAX_DEPTH: usize = 200;
/// Longer expressions are not classified as keys.
const MAX_KEY_TEXT: usize = 400;

#[derive(Default)]
pub struct ClientKeyFacts {
    pub uses: Vec<ClientKeyUse>,
    pub proxy: Vec<ProxySetting>,
    pub drf_refs: Vec<(String, Span)>,
    pub drf_classes: Vec<String>,
    pub param_uses: Vec<ParamKeyUse>,
    pub key_args: Vec<KeyArg>,
}

/// Whether the file can hold anything this pass records.
pub fn worth_analysing(src: &str) -> bool {
    [
        "remote",
        "REMOTE",
        "client.host",
        "orwarded",
        "FORWARDED",
        "access_route",
        ".ip",
        "ip }",
        "get_ipaddr",
        "Throttle",
        "ProxyFix",
        "ProxyHeaders",
        "trust proxy",
        "trustProxy",
        "proxy =",
        "proxy:",
        "roxy_headers",
        "forwarded_allow_ips",
        "PROXIES",
        "IP_META_KEY",
        "ratelimit(",
        "is_ratelimited(",
    ]
    .iter()
    .any(|m| src.contains(m))
}

pub fn analyse(root: Node, src: &str, python: bool) -> ClientKeyFacts {
    let mut functions = HashMap::new();
    collect_functions(root, src, &mut functions, 0);
    let mut a = Analyser {
        src,
        python,
        functions,
        returns_memo: HashMap::new(),
        in_progress: HashSet::new(),
        scopes: vec![HashMap::new()],
        collectors: Vec::new(),
        params: Vec::new(),
        recording: true,
        depth: 0,
        out: ClientKeyFacts::default(),
    };
    a.walk(root);
    a.out
}

/// Same-file named functions (the first definition of a name wins).
fn collect_functions<'t>(
    node: Node<'t>,
    src: &str,
    out: &mut HashMap<String, Node<'t>>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match node.kind() {
        "function_definition" | "function_declaration" | "method_definition" => {
            if let Some(name) = field(node, "name") {
                out.entry(text(name, src).to_string()).or_insert(node);
            }
        }
        "variable_declarator" => {
            if let (Some(name), Some(value)) = (field(node, "name"), field(node, "value")) {
                if name.kind() == "identifier" && is_function_kind(value.kind()) {
                    out.entry(text(name, src).to_string()).or_insert(value);
                }
            }
        }
        _ => {}
    }
    for c in named_children(node) {
        collect_functions(c, src, out, depth + 1);
    }
}

struct Analyser<'t, 's> {
    src: &'s str,
    python: bool,
    functions: HashMap<String, Node<'t>>,
    returns_memo: HashMap<usize, Option<ClientKey>>,
    in_progress: HashSet<usize>,
    /// Variables holding client keys, innermost function last.
    scopes: Vec<HashMap<String, ClientKey>>,
    /// What each function being walked returns.
    collectors: Vec<Option<ClientKey>>,
    /// Each function being walked: its name and parameters (without
    /// `self`/`cls`) by position.
    params: Vec<(Option<String>, HashMap<String, usize>)>,
    /// Off while a helper is walked only for what it returns.
    recording: bool,
    depth: usize,
    out: ClientKeyFacts,
}

/// Which of two classifications describes a combined key: identity wins
/// (a per-user key is fine), then the ambiguous forms and safe parsing
/// (precision first), then the client-written forms, then the peer.
fn rank(form: KeyForm) -> u8 {
    match form {
        KeyForm::PeerTrusting => 1,
        KeyForm::PeerSocket => 2,
        KeyForm::ForwardedList
        | KeyForm::ForwardedWhole
        | KeyForm::ForwardedLeftmost
        | KeyForm::AccessRoute
        | KeyForm::ClientHeader => 3,
        KeyForm::ForwardedSafe => 4,
        KeyForm::Ambiguous => 5,
        KeyForm::Identity => 6,
    }
}

fn merge(a: Option<ClientKey>, b: Option<ClientKey>) -> Option<ClientKey> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if rank(b.form) > rank(a.form) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// One line, at most 80 characters: how a key's text appears in messages.
pub(crate) fn shorten(s: &str) -> String {
    let collapsed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 80 {
        collapsed.chars().take(77).collect::<String>() + "…"
    } else {
        collapsed
    }
}

/// What a request header (or a WSGI/Django `META` key) holds.
fn header_form(name: &str) -> Option<KeyForm> {
    let n = name.to_ascii_lowercase().replace('_', "-");
    let n = n.strip_prefix("http-").unwrap_or(&n);
    match n {
        "x-forwarded-for" => Some(KeyForm::ForwardedWhole),
        "remote-addr" => Some(KeyForm::PeerSocket),
        "x-real-ip"
        | "cf-connecting-ip"
        | "true-client-ip"
        | "x-client-ip"
        | "forwarded"
        | "x-cluster-client-ip"
        | "fastly-client-ip"
        | "fly-client-ip"
        | "x-vercel-forwarded-for"
        | "x-envoy-external-address"
        | "x-azure-clientip" => Some(KeyForm::Ambiguous),
        _ if [
            "authorization",
            "api-key",
            "apikey",
            "token",
            "x-user",
            "session",
            "cookie",
        ]
        .iter()
        .any(|w| n.contains(w)) =>
        {
            Some(KeyForm::Identity)
        }
        _ => None,
    }
}

/// `request.headers`, `request.META`, `environ`, …: a header mapping.
fn is_header_mapping(receiver: &str) -> bool {
    matches!(
        last_segment(receiver),
        "headers" | "META" | "environ" | "scope_headers"
    )
}

/// Receivers whose `get(name)` / `header(name)` reads a request header.
fn is_request_object(receiver: &str) -> bool {
    matches!(
        receiver,
        "req" | "request" | "ctx" | "ctx.request" | "c.req" | "context.req"
    )
}

/// Known key functions of limiter libraries, by name.
fn known_key_function(name: &str) -> Option<KeyForm> {
    match name {
        "get_remote_address" => Some(KeyForm::PeerSocket),
        // slowapi: the whole `X_FORWARDED_FOR` header; flask-limiter 1.x:
        // `access_route[0]`. Client-written either way.
        "get_ipaddr" => Some(KeyForm::ForwardedWhole),
        "get_remote_address_cloudflare" => Some(KeyForm::Ambiguous),
        _ => None,
    }
}

/// Calls that keep what their argument identifies.
fn is_wrapper(name: &str) -> bool {
    matches!(
        name,
        "str"
            | "String"
            | "repr"
            | "hash"
            | "ip_address"
            | "ip_network"
            | "ipKeyGenerator"
            | "encodeURIComponent"
            | "md5"
            | "sha1"
            | "sha256"
            | "createHash"
            | "normalize_ip"
            | "normalizeIp"
            | "normalizeIP"
    )
}

/// An index into an entry list: the first entry, one counted from the
/// right, or something else.
#[derive(PartialEq)]
enum Index {
    First,
    FromRight,
    Other,
}

/// Methods that read or update an entry keyed by their first argument.
const ENTRY_METHODS: &[&str] = &[
    "get",
    "set",
    "has",
    "setdefault",
    "pop",
    "delete",
    "add",
    "incr",
    "incrby",
    "incrbyfloat",
    "incrBy",
    "decr",
    "zadd",
    "zAdd",
    "zcard",
    "zCard",
    "zcount",
    "zCount",
    "zremrangebyscore",
    "zRemRangeByScore",
    "expire",
    "pexpire",
    "pExpire",
    "hincrby",
    "hIncrBy",
    "setex",
    "setEx",
    "ttl",
    "pttl",
    "exists",
];

/// Limiter calls keyed by their first argument.
const CONSUME_METHODS: &[&str] = &["consume", "penalty", "limit", "hit"];

/// Library options that choose the key.
const KEY_OPTIONS: &[&str] = &["key_func", "keyGenerator", "id", "key"];

impl<'t, 's> Analyser<'t, 's> {
    fn t(&self, node: Node) -> &'s str {
        text(node, self.src)
    }

    fn key(&self, form: KeyForm, node: Node<'t>, header: Option<Span>) -> ClientKey {
        ClientKey {
            form,
            text: shorten(self.t(node)),
            span: span(node),
            header,
        }
    }

    fn lookup(&self, name: &str) -> Option<ClientKey> {
        self.scopes.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn bind(&mut self, name: &str, key: Option<ClientKey>) {
        let Some(key) = key else { return };
        let old = self.lookup(name);
        // Reassigned on one path (`if xff: ip = xff.split(",")[0]`): the
        // variable may hold either.
        let merged = merge(Some(key), old);
        if let (Some(scope), Some(k)) = (self.scopes.last_mut(), merged) {
            scope.insert(name.to_string(), k);
        }
    }

    // ------------------------------------------------------------ walking

    fn walk(&mut self, node: Node<'t>) {
        if self.depth > MAX_DEPTH || super::budget::tick() {
            return;
        }
        self.depth += 1;
        self.visit(node);
        self.depth -= 1;
    }

    fn visit(&mut self, node: Node<'t>) {
        if is_function_kind(node.kind()) {
            self.walk_function(node);
            return;
        }
        match node.kind() {
            "assignment" => {
                if let Some(right) = field(node, "right") {
                    self.walk(right);
                }
                let left = field(node, "left");
                if let Some(l) = left.filter(|l| l.kind() != "identifier") {
                    self.walk(l);
                }
                self.python_assignment(node, left);
                if let (Some(left), Some(right)) = (left, field(node, "right")) {
                    if left.kind() == "identifier" {
                        let k = self.classify(right);
                        self.bind(self.t(left), k);
                    }
                }
                return;
            }
            "variable_declarator" => {
                let value = field(node, "value");
                if let Some(v) = value {
                    self.walk(v);
                }
                if let (Some(name), Some(value)) = (field(node, "name"), value) {
                    if name.kind() == "identifier" {
                        let k = self.classify(value);
                        self.bind(self.t(name), k);
                    } else if name.kind() == "object_pattern"
                        && is_request_object(self.t(value))
                        && !self.python
                    {
                        // `const { ip } = req`
                        for p in named_children(name) {
                            if p.kind() == "shorthand_property_identifier_pattern"
                                && self.t(p) == "ip"
                            {
                                let k = self.key(KeyForm::PeerTrusting, p, None);
                                self.bind(
                                    "ip",
                                    Some(ClientKey {
                                        text: format!("{}.ip", self.t(value)),
                                        ..k
                                    }),
                                );
                            }
                        }
                    }
                }
                return;
            }
            "assignment_expression" => {
                if let Some(right) = field(node, "right") {
                    self.walk(right);
                }
                if let Some(l) = field(node, "left").filter(|l| l.kind() != "identifier") {
                    self.walk(l);
                }
                if let (Some(left), Some(right)) = (field(node, "left"), field(node, "right")) {
                    if left.kind() == "identifier" {
                        let k = self.classify(right);
                        self.bind(self.t(left), k);
                    } else if left.kind() == "member_expression" && self.recording {
                        self.koa_proxy(node, left, right);
                    }
                }
                return;
            }
            "return_statement" => {
                if let Some(value) = named_children(node).next() {
                    let k = self.classify(value);
                    if let Some(slot) = self.collectors.last_mut() {
                        *slot = merge(slot.take(), k);
                    }
                }
            }
            "call" | "call_expression" | "new_expression" if self.recording => {
                self.check_call(node);
            }
            "subscript" | "subscript_expression" if self.recording => {
                self.check_subscript(node);
            }
            "pair" if self.recording => self.check_pair(node),
            "keyword_argument" if self.recording => {
                if let Some(name) = field(node, "name") {
                    if self.t(name) == "forwarded_allow_ips" || self.t(name) == "proxy_headers" {
                        self.proxy(ProxyTrust::Unclear, node);
                    }
                }
            }
            "identifier"
                if self.recording && self.python && self.t(node) == "ProxyHeadersMiddleware" =>
            {
                self.proxy(ProxyTrust::Configured, node);
            }
            "class_definition" if self.recording => self.drf_subclass(node),
            _ => {}
        }
        for c in named_children(node) {
            self.walk(c);
        }
    }

    /// Walk a function in its own scope; returns what it returns.
    fn walk_function(&mut self, node: Node<'t>) -> Option<ClientKey> {
        self.scopes.push(HashMap::new());
        self.collectors.push(None);
        let name = field(node, "name").map(|n| self.t(n).to_string());
        let params = self.param_names(node);
        self.params.push((name, params));
        let body = field(node, "body");
        match body {
            // An expression body (arrow function, lambda) is the result.
            Some(b) if !matches!(b.kind(), "statement_block" | "block") => {
                self.walk(b);
                let k = self.classify(b);
                if let Some(slot) = self.collectors.last_mut() {
                    *slot = merge(slot.take(), k);
                }
            }
            Some(b) => self.walk(b),
            None => {}
        }
        self.scopes.pop();
        self.params.pop();
        self.collectors.pop().flatten()
    }

    fn param_names(&self, func: Node<'t>) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        let list: Vec<Node> = match (field(func, "parameter"), field(func, "parameters")) {
            (Some(single), _) => vec![single],
            (None, Some(ps)) => named_children(ps).collect(),
            _ => return out,
        };
        let mut index = 0;
        for p in list {
            let name = match p.kind() {
                "identifier" => Some(p),
                "typed_parameter" => named_children(p).find(|c| c.kind() == "identifier"),
                "default_parameter" | "typed_default_parameter" => field(p, "name"),
                "required_parameter" | "optional_parameter" => field(p, "pattern"),
                "assignment_pattern" => field(p, "left"),
                "object_pattern" | "array_pattern" => None,
                _ => continue,
            };
            let name = name.filter(|n| n.kind() == "identifier").map(|n| self.t(n));
            if index == 0 && self.python && matches!(name, Some("self" | "cls")) {
                continue;
            }
            if let Some(n) = name {
                out.insert(n.to_string(), index);
            }
            index += 1;
        }
        out
    }

    /// The parameter of the current named function a key is built from
    /// (`key`, `f"rl:{key}"`), unless it was reassigned.
    fn param_of(&self, node: Node<'t>) -> Option<usize> {
        match node.kind() {
            "identifier" => {
                let name = self.t(node);
                if self.scopes.last().is_some_and(|s| s.contains_key(name)) {
                    return None;
                }
                self.params.last()?.1.get(name).copied()
            }
            "string"
            | "template_string"
            | "interpolation"
            | "template_substitution"
            | "binary_operator"
            | "binary_expression"
            | "parenthesized_expression" => named_children(node).find_map(|c| self.param_of(c)),
            _ => None,
        }
    }

    /// What a same-file function returns, walked on its own (no sites
    /// recorded); memoised, recursion cut.
    fn returns_of(&mut self, node: Node<'t>) -> Option<ClientKey> {
        if let Some(k) = self.returns_memo.get(&node.id()) {
            return k.clone();
        }
        if !self.in_progress.insert(node.id()) || self.depth > MAX_DEPTH {
            return None;
        }
        let saved_scopes = std::mem::replace(&mut self.scopes, vec![HashMap::new()]);
        let saved_recording = std::mem::replace(&mut self.recording, false);
        let k = self.walk_function(node);
        self.scopes = saved_scopes;
        self.recording = saved_recording;
        self.in_progress.remove(&node.id());
        self.returns_memo.insert(node.id(), k.clone());
        k
    }

    // ------------------------------------------------------- classifying

    fn classify(&mut self, node: Node<'t>) -> Option<ClientKey> {
        if self.depth > MAX_DEPTH || node.byte_range().len() > MAX_KEY_TEXT {
            return None;
        }
        self.depth += 1;
        let k = self.classify_inner(node);
        self.depth -= 1;
        k
    }

    fn classify_inner(&mut self, node: Node<'t>) -> Option<ClientKey> {
        match node.kind() {
            "identifier" => {
                let name = self.t(node);
                if let Some(k) = self.lookup(name) {
                    return Some(k);
                }
                self.identity_by_name(node)
            }
            "parenthesized_expression"
            | "await"
            | "await_expression"
            | "as_expression"
            | "non_null_expression"
            | "satisfies_expression"
            | "expression_statement" => {
                let inner = named_children(node).next()?;
                self.classify(inner)
            }
            "attribute" | "member_expression" => self.classify_member(node),
            "subscript" | "subscript_expression" => self.classify_subscript(node),
            "call" | "call_expression" => self.classify_call(node),
            // `a if cond else b` / `cond ? a : b`: the condition is not the value.
            "conditional_expression" => {
                let parts: Vec<Node> = named_children(node).collect();
                let a = parts.first().and_then(|n| self.classify(*n));
                let b = parts.get(2).and_then(|n| self.classify(*n));
                merge(a, b)
            }
            "ternary_expression" => {
                let a = field(node, "consequence").and_then(|n| self.classify(n));
                let b = field(node, "alternative").and_then(|n| self.classify(n));
                merge(a, b)
            }
            "string"
            | "template_string"
            | "concatenated_string"
            | "list"
            | "tuple"
            | "array"
            | "binary_operator"
            | "binary_expression"
            | "boolean_operator"
            | "interpolation"
            | "template_substitution"
            | "expression_list" => {
                let mut result = None;
                for c in named_children(node) {
                    if c.kind() == "comparison_operator" {
                        continue;
                    }
                    let k = self.classify(c);
                    result = merge(result, k);
                }
                result
            }
            _ => None,
        }
    }

    fn identity_by_name(&self, node: Node<'t>) -> Option<ClientKey> {
        let t = self.t(node);
        (knowledge::is_client_like_variable(t)
            && super::builder::key_from_text(t) == Some(crate::facts::ClientKeyKind::Identity))
        .then(|| self.key(KeyForm::Identity, node, None))
    }

    fn classify_member(&mut self, node: Node<'t>) -> Option<ClientKey> {
        let norm: String = self
            .t(node)
            .replace("?.", ".")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if norm.ends_with(".remote_addr")
            || norm.ends_with(".client.host")
            || norm.ends_with(".remoteAddress")
        {
            return Some(self.key(KeyForm::PeerSocket, node, None));
        }
        if self.python && norm.ends_with(".access_route") {
            return Some(self.key(KeyForm::AccessRoute, node, Some(span(node))));
        }
        if !self.python {
            if let Some(object) = norm.strip_suffix(".ip") {
                if is_request_object(object) || object == "req.raw" || object == "request.raw" {
                    return Some(self.key(KeyForm::PeerTrusting, node, None));
                }
            }
        }
        if let Some(name) = known_key_function(last_segment(&norm)) {
            return Some(self.key(name, node, None));
        }
        let k = super::builder::key_from_text(&norm);
        if k == Some(crate::facts::ClientKeyKind::Identity) {
            return Some(self.key(KeyForm::Identity, node, None));
        }
        // `ip.value`, `entry.ip`: not followed.
        None
    }

    fn index_of(&self, idx: Node<'t>) -> Index {
        let t: String = self.t(idx).chars().filter(|c| !c.is_whitespace()).collect();
        if t == "0" {
            Index::First
        } else if t.starts_with('-') || t.starts_with("len(") || t.contains(".length-") {
            Index::FromRight
        } else {
            Index::Other
        }
    }

    fn classify_subscript(&mut self, node: Node<'t>) -> Option<ClientKey> {
        let (object, index) = if self.python {
            (field(node, "value")?, field(node, "subscript")?)
        } else {
            (field(node, "object")?, field(node, "index")?)
        };
        let object_text = self.t(object);
        if is_header_mapping(object_text) {
            if matches!(index.kind(), "string") {
                let form = header_form(unquote(self.t(index)))?;
                return Some(self.key(form, node, Some(span(node))));
            }
            return None;
        }
        let base = self.classify(object)?;
        let form = match base.form {
            KeyForm::ForwardedList | KeyForm::AccessRoute => match self.index_of(index) {
                Index::First if base.form == KeyForm::AccessRoute => KeyForm::AccessRoute,
                Index::First => KeyForm::ForwardedLeftmost,
                Index::FromRight => KeyForm::ForwardedSafe,
                Index::Other => KeyForm::Ambiguous,
            },
            // A character of the raw header: not a sensible key.
            KeyForm::ForwardedWhole => KeyForm::Ambiguous,
            _ => return Some(base),
        };
        Some(self.key(form, node, base.header))
    }

    fn classify_call(&mut self, node: Node<'t>) -> Option<ClientKey> {
        let callee = field(node, "function")?;
        let args = field(node, "arguments");
        let first_arg = args.and_then(|a| {
            named_children(a).find(|c| !matches!(c.kind(), "keyword_argument" | "comment"))
        });
        match callee.kind() {
            "identifier" => {
                let name = self.t(callee);
                if let Some(form) = known_key_function(name) {
                    return Some(self.key(form, node, None));
                }
                if is_wrapper(name) {
                    return first_arg.and_then(|a| self.classify(a));
                }
                if let Some(f) = self.functions.get(name).copied() {
                    return self.returns_of(f);
                }
                self.identity_by_name(callee)
            }
            "attribute" | "member_expression" => {
                let object = field(callee, "object")?;
                let method_node =
                    field(callee, "attribute").or_else(|| field(callee, "property"))?;
                let method = self.t(method_node);
                let receiver = self.t(object).replace("?.", ".");
                // A header read: `request.headers.get("X-Forwarded-For")`,
                // `req.get('x-forwarded-for')`, `c.req.header('…')`.
                let reads_header = matches!(
                    method,
                    "get" | "header" | "getHeader" | "get_header" | "getheader"
                ) && (is_header_mapping(&receiver)
                    || (is_request_object(&receiver) && method != "getheader"));
                if reads_header {
                    let name = first_arg.filter(|a| a.kind() == "string")?;
                    let form = header_form(unquote(self.t(name)))?;
                    return Some(self.key(form, node, Some(span(node))));
                }
                if matches!(receiver.as_str(), "self" | "this") {
                    if let Some(f) = self.functions.get(method).copied() {
                        return self.returns_of(f);
                    }
                }
                if let Some(form) = known_key_function(method) {
                    return Some(self.key(form, node, None));
                }
                if is_wrapper(method) {
                    return first_arg.and_then(|a| self.classify(a));
                }
                // `"{}:{}".format(ip, path)`, `":".join([ip, path])`.
                if matches!(object.kind(), "string") && matches!(method, "format" | "join") {
                    let mut result = None;
                    for a in args.into_iter().flat_map(named_children) {
                        let k = self.classify(a);
                        result = merge(result, k);
                    }
                    return result;
                }
                let base = self.classify(object)?;
                let arg_index = first_arg.map(|a| self.index_of(a));
                let form = match (base.form, method) {
                    (KeyForm::ForwardedWhole, "split" | "rsplit") => KeyForm::ForwardedList,
                    (KeyForm::ForwardedList, "shift") => KeyForm::ForwardedLeftmost,
                    (KeyForm::ForwardedList, "pop" | "reverse" | "slice") => {
                        if method == "slice" && arg_index != Some(Index::FromRight) {
                            KeyForm::Ambiguous
                        } else {
                            KeyForm::ForwardedSafe
                        }
                    }
                    (KeyForm::ForwardedList, "at") => match arg_index {
                        Some(Index::First) => KeyForm::ForwardedLeftmost,
                        Some(Index::FromRight) => KeyForm::ForwardedSafe,
                        _ => KeyForm::Ambiguous,
                    },
                    // `strip()`, `trim()`, `lower()`, `map(…)`, `filter(…)`.
                    _ => return Some(base),
                };
                Some(self.key(form, node, base.header))
            }
            _ => None,
        }
    }

    /// The key a function value produces: a lambda/arrow's result, a
    /// same-file function's returns, a library's key function by name.
    fn classify_function_value(&mut self, value: Node<'t>, option: &str) -> Option<ClientKey> {
        if is_function_kind(value.kind()) {
            return self.returns_of(value);
        }
        match value.kind() {
            "identifier" | "attribute" | "member_expression" => {
                let name = last_segment(self.t(value));
                if let Some(form) = known_key_function(name) {
                    return Some(self.key(form, value, None));
                }
                if value.kind() == "identifier" {
                    if let Some(f) = self.functions.get(name).copied() {
                        return self.returns_of(f);
                    }
                }
                None
            }
            // django-ratelimit's `key="ip"` / `key="header:x-forwarded-for"`.
            "string" if option == "key" && self.python => {
                let v = unquote(self.t(value));
                let form = match v {
                    "ip" => {
                        return Some(ClientKey {
                            text: "key=\"ip\"".to_string(),
                            ..self.key(KeyForm::PeerSocket, value, None)
                        })
                    }
                    "user" => KeyForm::Identity,
                    _ => header_form(v.strip_prefix("header:")?)?,
                };
                Some(self.key(form, value, None))
            }
            _ => None,
        }
    }

    // -------------------------------------------------------------- sites

    /// Record a key site; keyed by a parameter, record that instead.
    fn record_site(&mut self, key_node: Node<'t>, site: KeySite, at: Node<'t>) {
        let k = self.classify(key_node);
        if k.is_none() {
            let function = self.params.last().and_then(|(n, _)| n.clone());
            if let (Some(function), Some(param)) = (function, self.param_of(key_node)) {
                self.out.param_uses.push(ParamKeyUse {
                    function,
                    param,
                    site,
                    span: span(at),
                });
            }
            return;
        }
        self.record(k, site, at);
    }

    fn record(&mut self, key: Option<ClientKey>, site: KeySite, at: Node<'t>) {
        let Some(key) = key else { return };
        if matches!(
            key.form,
            KeyForm::Identity | KeyForm::Ambiguous | KeyForm::ForwardedSafe
        ) {
            return;
        }
        self.out.uses.push(ClientKeyUse {
            key,
            site,
            span: span(at),
        });
    }

    fn check_subscript(&mut self, node: Node<'t>) {
        let (object, index) = if self.python {
            (field(node, "value"), field(node, "subscript"))
        } else {
            (field(node, "object"), field(node, "index"))
        };
        let (Some(object), Some(index)) = (object, index) else {
            return;
        };
        if is_header_mapping(self.t(object)) || index.kind() == "string" {
            return;
        }
        self.record_site(index, KeySite::Entry { method: None }, node);
    }

    fn check_call(&mut self, node: Node<'t>) {
        let callee = field(node, "function").or_else(|| field(node, "constructor"));
        let Some(callee) = callee else { return };
        let args = field(node, "arguments");
        let callee_text = self.t(callee);
        let name = last_segment(callee_text);
        // Key options of any call; the rule keeps those of limiter setups.
        for a in args.into_iter().flat_map(named_children) {
            match a.kind() {
                "keyword_argument" => {
                    let (Some(n), Some(v)) = (field(a, "name"), field(a, "value")) else {
                        continue;
                    };
                    let option = self.t(n);
                    if KEY_OPTIONS.contains(&option) {
                        let k = self.classify_function_value(v, option);
                        self.record(k, KeySite::Option(option.to_string()), a);
                    }
                    if option == "x_for" && name == "ProxyFix" {
                        // handled below
                    }
                }
                "object" => {
                    for p in named_children(a) {
                        let key_name = match p.kind() {
                            "pair" => field(p, "key").map(|k| unquote(self.t(k))),
                            "method_definition" => field(p, "name").map(|k| self.t(k)),
                            _ => None,
                        };
                        let Some(option) = key_name.filter(|k| KEY_OPTIONS.contains(k)) else {
                            continue;
                        };
                        let k = if p.kind() == "method_definition" {
                            self.returns_of(p)
                        } else {
                            match field(p, "value") {
                                Some(v) => self.classify_function_value(v, option),
                                None => None,
                            }
                        };
                        self.record(k, KeySite::Option(option.to_string()), p);
                    }
                }
                _ => {}
            }
        }
        if self.python && name == "Limiter" {
            if let Some(first) = args.and_then(|a| named_children(a).next()) {
                if first.kind() != "keyword_argument" {
                    let k = self.classify_function_value(first, "key_func");
                    self.record(k, KeySite::Option("key_func".to_string()), first);
                }
            }
        }
        let first_arg = args.and_then(|a| named_children(a).next());
        if let Some(obj) = field(callee, "object") {
            if let Some(first) = first_arg {
                if (ENTRY_METHODS.contains(&name) || CONSUME_METHODS.contains(&name))
                    && !is_header_mapping(self.t(obj))
                    && !is_request_object(self.t(obj))
                {
                    {
                        let site = if CONSUME_METHODS.contains(&name) {
                            KeySite::Consume {
                                receiver: last_segment(self.t(obj)).to_string(),
                            }
                        } else {
                            KeySite::Entry {
                                method: Some(name.to_string()),
                            }
                        };
                        self.record_site(first, site, node);
                    }
                }
            }
        }
        // Client keys handed to a function: followed into its parameter.
        if !is_header_mapping(callee_text) && !is_request_object(callee_text) {
            let positional = args
                .into_iter()
                .flat_map(named_children)
                .filter(|a| !matches!(a.kind(), "keyword_argument" | "comment"));
            for (index, a) in positional.enumerate() {
                if !matches!(
                    a.kind(),
                    "identifier"
                        | "attribute"
                        | "member_expression"
                        | "subscript"
                        | "subscript_expression"
                        | "call"
                        | "call_expression"
                        | "string"
                        | "template_string"
                        | "binary_operator"
                        | "binary_expression"
                        | "boolean_operator"
                ) {
                    continue;
                }
                if let Some(key) = self.classify(a) {
                    if key.form.is_spoofable()
                        || matches!(key.form, KeyForm::PeerSocket | KeyForm::PeerTrusting)
                    {
                        self.out.key_args.push(KeyArg {
                            callee: name.to_string(),
                            index,
                            key,
                        });
                    }
                }
            }
        }
        self.proxy_call(node, callee_text, name, args);
    }

    // -------------------------------------------------------------- proxy

    fn proxy(&mut self, trust: ProxyTrust, node: Node<'t>) {
        self.out.proxy.push(ProxySetting {
            trust,
            text: shorten(self.t(node)),
            span: span(node),
        });
    }

    /// The trust a value of Express's `trust proxy` or Fastify's
    /// `trustProxy` gives. `None`: nothing is trusted.
    fn trust_value(&self, value: Node<'t>, fastify: bool) -> Option<ProxyTrust> {
        let t = self.t(value).trim();
        Some(match value.kind() {
            "true" => ProxyTrust::All,
            "false" => return None,
            "number" if t == "0" => return None,
            // Fastify ≥ 5.12 trusts nothing for a number; earlier, a hop
            // count: unclear.
            "number" if fastify => ProxyTrust::Unclear,
            "number" => ProxyTrust::Configured,
            "string" => {
                let v = unquote(t).trim();
                // Express parses a numeric string as an address, and throws
                // on `'true'`: unclear what was meant.
                if v.is_empty()
                    || v.chars().all(|c| c.is_ascii_digit())
                    || v == "true"
                    || v == "false"
                {
                    ProxyTrust::Unclear
                } else {
                    ProxyTrust::Configured
                }
            }
            "array" | "arrow_function" | "function_expression" | "function" => {
                ProxyTrust::Configured
            }
            _ => ProxyTrust::Unclear,
        })
    }

    fn proxy_call(
        &mut self,
        node: Node<'t>,
        callee_text: &str,
        name: &str,
        args: Option<Node<'t>>,
    ) {
        let args: Vec<Node> = args.into_iter().flat_map(named_children).collect();
        if self.python {
            if name == "ProxyFix" {
                let zero = args.iter().any(|a| {
                    a.kind() == "keyword_argument"
                        && field(*a, "name").is_some_and(|n| self.t(n) == "x_for")
                        && field(*a, "value").is_some_and(|v| self.t(v) == "0")
                });
                if !zero {
                    self.proxy(ProxyTrust::Configured, node);
                }
            }
            return;
        }
        let first_is = |s: &str| {
            args.first()
                .is_some_and(|a| a.kind() == "string" && unquote(self.t(*a)) == s)
        };
        match name {
            "set" if first_is("trust proxy") => {
                if let Some(trust) = args.get(1).and_then(|v| self.trust_value(*v, false)) {
                    self.proxy(trust, node);
                }
            }
            "enable" if first_is("trust proxy") => self.proxy(ProxyTrust::All, node),
            _ => {}
        }
        // `new Koa({ proxy: true, maxIpsCount: 1 })`
        if name == "Koa" || callee_text == "Koa" {
            for obj in args.iter().filter(|a| a.kind() == "object") {
                for p in named_children(*obj).filter(|p| p.kind() == "pair") {
                    let (Some(k), Some(v)) = (field(p, "key"), field(p, "value")) else {
                        continue;
                    };
                    match (self.t(k), v.kind()) {
                        ("proxy", "true") => self.proxy(ProxyTrust::All, p),
                        ("proxy", "false") => {}
                        ("proxy", _) | ("proxyIpHeader", _) => self.proxy(ProxyTrust::Unclear, p),
                        ("maxIpsCount", _) if self.t(v) != "0" => {
                            self.proxy(ProxyTrust::Configured, p)
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// `trustProxy: …` (Fastify, `FastifyAdapter`), Python dict entries
    /// `"NUM_PROXIES": n` / `"DEFAULT_THROTTLE_CLASSES": [...]`.
    fn check_pair(&mut self, node: Node<'t>) {
        let (Some(k), Some(v)) = (field(node, "key"), field(node, "value")) else {
            return;
        };
        let key = unquote(self.t(k));
        match key {
            "trustProxy" if !self.python => {
                if let Some(trust) = self.trust_value(v, true) {
                    self.proxy(trust, node);
                }
            }
            "NUM_PROXIES" if self.python && v.kind() != "none" => {
                self.proxy(ProxyTrust::Configured, node)
            }
            "RATELIMIT_IP_META_KEY" if self.python => self.proxy(ProxyTrust::Configured, node),
            "DEFAULT_THROTTLE_CLASSES" if self.python => self.drf_refs(v),
            _ => {}
        }
    }

    /// `app.proxy = true`, `app.maxIpsCount = 1` (Koa).
    fn koa_proxy(&mut self, node: Node<'t>, left: Node<'t>, right: Node<'t>) {
        let Some(prop) = field(left, "property") else {
            return;
        };
        match (self.t(prop), right.kind()) {
            ("proxy", "true") => self.proxy(ProxyTrust::All, node),
            ("proxy", "false") => {}
            ("proxy", _) | ("proxyIpHeader", _) => self.proxy(ProxyTrust::Unclear, node),
            ("maxIpsCount", _) if self.t(right) != "0" => self.proxy(ProxyTrust::Configured, node),
            _ => {}
        }
    }

    /// Python assignments: `RATELIMIT_IP_META_KEY = …`,
    /// `throttle_classes = [...]`.
    fn python_assignment(&mut self, node: Node<'t>, left: Option<Node<'t>>) {
        if !self.recording || !self.python {
            return;
        }
        let Some(left) = left else { return };
        let l = self.t(left);
        if l.ends_with("RATELIMIT_IP_META_KEY")
            || l.contains("'RATELIMIT_IP_META_KEY'")
            || l.contains("\"RATELIMIT_IP_META_KEY\"")
        {
            self.proxy(ProxyTrust::Configured, node);
        }
        if l.contains("NUM_PROXIES") && field(node, "right").is_some_and(|r| r.kind() != "none") {
            self.proxy(ProxyTrust::Configured, node);
        }
        if last_segment(l) == "throttle_classes" {
            if let Some(right) = field(node, "right") {
                self.drf_refs(right);
            }
        }
    }

    fn drf_refs(&mut self, list: Node<'t>) {
        if !matches!(list.kind(), "list" | "tuple") {
            return;
        }
        for e in named_children(list) {
            let t = unquote(self.t(e));
            let name = t.rsplit('.').next().unwrap_or(t).to_string();
            if name.ends_with("Throttle") {
                self.out.drf_refs.push((name, span(e)));
            }
        }
    }

    /// `class BurstRateThrottle(UserRateThrottle): scope = "burst"` keeps
    /// `get_ident` unless it overrides it or `get_cache_key`.
    fn drf_subclass(&mut self, node: Node<'t>) {
        if !self.python {
            return;
        }
        let Some(name) = field(node, "name") else {
            return;
        };
        let Some(bases) = field(node, "superclasses") else {
            return;
        };
        let inherits = named_children(bases).any(|b| {
            matches!(
                last_segment(self.t(b)),
                "AnonRateThrottle" | "UserRateThrottle" | "ScopedRateThrottle"
            ) || self
                .out
                .drf_classes
                .iter()
                .any(|c| c == last_segment(self.t(b)))
        });
        if !inherits {
            return;
        }
        let overrides = field(node, "body").is_some_and(|body| {
            named_children(body).any(|m| {
                let def = if m.kind() == "decorated_definition" {
                    field(m, "definition")
                } else {
                    Some(m)
                };
                def.filter(|d| d.kind() == "function_definition")
                    .and_then(|d| field(d, "name"))
                    .is_some_and(|n| matches!(self.t(n), "get_ident" | "get_cache_key"))
            })
        });
        if !overrides {
            self.out.drf_classes.push(self.t(name).to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{parse, Lang};

    fn keys(lang: Lang, src: &str) -> Vec<(KeyForm, String, KeySite)> {
        let tree = parse(lang, src).unwrap();
        analyse(tree.root_node(), src, lang.is_python())
            .uses
            .into_iter()
            .map(|u| (u.key.form, u.key.text, u.site))
            .collect()
    }

    #[test]
    fn leftmost_forwarded_through_a_helper() {
        let src = r#"
def client_ip():
    return request.headers.get("X-Forwarded-For", request.remote_addr).split(",")[0]

def view():
    key = f"rl:{client_ip()}"
    r.incr(key)
"#;
        let found = keys(Lang::Python, src);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, KeyForm::ForwardedLeftmost);
        assert!(found[0].1.ends_with(".split(\",\")[0]"), "{}", found[0].1);
    }

    #[test]
    fn rightmost_and_identity_are_not_recorded() {
        let src = "const ip = req.headers['x-forwarded-for'].split(',').pop();\nhits.set(ip, 1);\nconst u = req.user?.id ?? req.ip;\nhits.set(u, 1);\n";
        assert!(keys(Lang::JavaScript, src).is_empty());
    }

    #[test]
    fn key_generator_and_default_forms() {
        let src =
            "rateLimit({ keyGenerator: (req) => req.headers['x-forwarded-for'] || req.ip });\n";
        let found = keys(Lang::JavaScript, src);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, KeyForm::ForwardedWhole);
        assert_eq!(found[0].2, KeySite::Option("keyGenerator".into()));
    }
}
