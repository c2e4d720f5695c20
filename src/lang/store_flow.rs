//! The store model for RATE004–RATE006: every command a function sends to
//! a Redis / Memcached / Django cache client, in source order, with its key
//! as written, its options (`ex`, `nx`, `EX`, `NX`, a timeout), whether it
//! runs inside an `if`, and the round trip it travels in: commands queued
//! on one pipeline or MULTI block share a step; a MULTI (or a redis-py
//! `pipeline()`, transactional by default) is atomic.
//!
//! One walker for both grammars, as in `limit_flow`. Only functions are
//! analysed: module-level code runs once at start-up.

use super::builder::key_from_text;
use super::syntax::{
    enclosing_class_name, field, is_function_kind as is_function, last_segment, named_children,
    span, text, unwrap_expression as unwrap,
};
use crate::facts::{StoreClient, StoreOp};
use crate::knowledge;
use std::collections::HashMap;
use tree_sitter::Node;

const MAX_DEPTH: usize = 200;
/// See `FunctionWalk::arg_text`.
const MAX_ARG_TEXT: usize = 2000;

/// Store commands that read the count a limiter decides on.
pub const READS: &[&str] = &[
    "get", "zcard", "zcount", "hget", "hgetall", "hmget", "llen", "lrange", "scard", "mget",
];
/// Commands that add to a count, a window or a list.
pub const COUNTING_WRITES: &[&str] = &[
    "incr",
    "incrby",
    "incrbyfloat",
    "decr",
    "decrby",
    "hincrby",
    "zadd",
    "rpush",
    "lpush",
    "sadd",
];
/// Commands that give a key its expiry.
pub const TTL_COMMANDS: &[&str] = &[
    "expire",
    "pexpire",
    "expireat",
    "pexpireat",
    "setex",
    "psetex",
    "getex",
    "touch",
];
/// Commands whose effect the analysis cannot see (a Lua script, WATCH).
const OPAQUE: &[&str] = &[
    "eval",
    "evalsha",
    "eval_ro",
    "evalsha_ro",
    "fcall",
    "watch",
    "transaction",
    "register_script",
    "script_load",
    "scriptload",
    "definecommand",
];

pub fn analyse(root: Node, src: &str, python: bool) -> Vec<StoreOp> {
    let mut clients = ClientNames::default();
    clients.collect(root, src, 0);
    if clients.names.is_empty() && !src.contains("redis") && !src.contains("Redis") {
        return Vec::new();
    }
    let mut functions = Vec::new();
    collect_functions(root, &mut functions, 0);
    let mut out = Vec::new();
    for (index, function) in functions.into_iter().enumerate() {
        let named = field(function, "name").is_some_and(|n| is_limiterish(text(n, src)))
            || enclosing_class_name(function, src).is_some_and(is_limiterish);
        let mut w = FunctionWalk {
            src,
            python,
            clients: &clients,
            function: index,
            locals: HashMap::new(),
            pipelines: HashMap::new(),
            step: 0,
            conditional: 0,
            guard_ttl: 0,
            chain_steps: HashMap::new(),
            ops: Vec::new(),
            depth: 0,
            limiter_context: named || {
                let body = text(function, src);
                body.contains("429") || body.contains("TOO_MANY_REQUESTS")
            },
            named_limiter: named,
        };
        if let Some(body) = field(function, "body") {
            w.walk(body);
        }
        let opaque = w.ops.iter().any(|o| OPAQUE.contains(&o.command.as_str()));
        for mut op in w.ops {
            op.opaque_function = opaque;
            out.push(op);
        }
    }
    out
}

fn collect_functions<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for child in named_children(node) {
        if is_function(child.kind()) {
            out.push(child);
        }
        collect_functions(child, out, depth + 1);
    }
}

/// Names bound to a store client anywhere in the file (`r = redis.Redis()`,
/// `self.redis = …`, `const client = createClient()`), and Django's cache.
#[derive(Default)]
struct ClientNames {
    names: HashMap<String, StoreClient>,
}

impl ClientNames {
    fn collect(&mut self, node: Node, src: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (target, value) = match node.kind() {
            "assignment" => (field(node, "left"), field(node, "right")),
            "variable_declarator" => (field(node, "name"), field(node, "value")),
            "assignment_expression" => (field(node, "left"), field(node, "right")),
            "public_field_definition" | "field_definition" => (
                field(node, "name").or_else(|| field(node, "property")),
                field(node, "value"),
            ),
            _ => (None, None),
        };
        if let (Some(target), Some(value)) = (target, value) {
            // `rl_cache = caches["ratelimit"]`
            let django_alias = value.kind() == "subscript"
                && text(value, src).starts_with("caches[")
                && src.contains("django.core.cache");
            let client =
                client_constructor(value, src).or(django_alias.then_some(StoreClient::DjangoCache));
            if let Some(client) = client {
                let name = squash(text(target, src));
                let name = name
                    .strip_prefix("this.")
                    .map(str::to_string)
                    .unwrap_or(name);
                self.names.insert(name, client);
            }
        }
        // `from .redis_client import r`, `const { client } = require('./redis')`:
        // a project module that exports its client.
        let project_redis_module = |module: &str| {
            let m = module.trim_matches(['\'', '"', '`']);
            let lower = m.to_ascii_lowercase();
            (lower.contains("redis") || lower.contains("valkey"))
                && (m.starts_with('.')
                    || m.starts_with("@/")
                    || m.starts_with("~/")
                    || (m.contains('.')
                        && !m.starts_with("redis")
                        && !m.starts_with("django_redis")
                        && !m.contains('/')))
        };
        if node.kind() == "import_from_statement" {
            if let Some(module) = field(node, "module_name") {
                if project_redis_module(text(module, src)) {
                    for name in named_children(node).skip(1) {
                        let local = field(name, "alias").unwrap_or(name);
                        self.names
                            .insert(text(local, src).to_string(), StoreClient::Redis);
                    }
                }
            }
        }
        if node.kind() == "import_statement" || node.kind() == "variable_declarator" {
            let t = text(node, src);
            let module = t
                .split(['\'', '"'])
                .nth(1)
                .filter(|_| node.kind() == "import_statement" || t.contains("require("));
            if module.is_some_and(|m| {
                project_redis_module(m)
                    && (m.starts_with('.') || m.starts_with("@/") || m.starts_with("~/"))
            }) {
                let head = t.split(['=']).next().unwrap_or("");
                let head = head
                    .strip_prefix("import")
                    .unwrap_or(head)
                    .split(" from")
                    .next()
                    .unwrap_or(head);
                for id in identifiers(head) {
                    if !matches!(id, "const" | "let" | "var" | "as" | "type" | "default") {
                        self.names.insert(id.to_string(), StoreClient::Redis);
                    }
                }
            }
        }
        if node.kind() == "import_from_statement" && text(node, src).contains("django.core.cache") {
            self.names.insert("cache".into(), StoreClient::DjangoCache);
            self.names.insert("caches".into(), StoreClient::DjangoCache);
        }
        for child in named_children(node) {
            self.collect(child, src, depth + 1);
        }
    }

    fn client_of(&self, receiver: &str) -> Option<StoreClient> {
        let r = squash(receiver);
        let r = r.strip_prefix("this.").unwrap_or(&r);
        if let Some(c) = self.names.get(r) {
            return Some(*c);
        }
        // `caches["ratelimit"]`
        if r.starts_with("caches[") && self.names.get("caches") == Some(&StoreClient::DjangoCache) {
            return Some(StoreClient::DjangoCache);
        }
        let last = r.rsplit('.').next().unwrap_or(r);
        if let Some(c) = self.names.get(last) {
            return Some(*c);
        }
        if knowledge::named_like_store(r) {
            let lower = r.to_ascii_lowercase();
            return Some(if lower.contains("memcache") {
                StoreClient::Memcached
            } else {
                StoreClient::Redis
            });
        }
        None
    }
}

/// `redis.Redis(...)`, `Redis.from_url(...)`, `new Redis()`,
/// `createClient()`, `Redis.fromEnv()`, `pymemcache.Client(...)`.
fn client_constructor(value: Node, src: &str) -> Option<StoreClient> {
    let mut value = value;
    while matches!(
        value.kind(),
        "await" | "await_expression" | "parenthesized_expression"
    ) {
        value = named_children(value).next()?;
    }
    let callee = match value.kind() {
        "call" | "call_expression" => field(value, "function")?,
        "new_expression" => field(value, "constructor")?,
        _ => return None,
    };
    let callee_text = text(callee, src);
    let last = last_segment(callee_text);
    // `createClient(...).connect()`
    if matches!(last, "connect") && callee.kind() == "member_expression" {
        return field(callee, "object").and_then(|o| client_constructor(o, src));
    }
    let lower = callee_text.to_ascii_lowercase();
    if lower.contains("memcache")
        || matches!(last, "HashClient" | "PooledClient")
        || (last == "Client" && src.contains("pymemcache"))
    {
        return Some(StoreClient::Memcached);
    }
    // `client = get_redis()`, `redis_client()`: a project helper's client.
    if matches!(value.kind(), "call" | "call_expression") && knowledge::named_like_store(last) {
        return Some(StoreClient::Redis);
    }
    let redis_ctor = matches!(
        last,
        "Redis"
            | "StrictRedis"
            | "from_url"
            | "RedisCluster"
            | "createClient"
            | "createCluster"
            | "fromEnv"
            | "get_redis_connection"
            | "IORedis"
            | "Valkey"
    );
    (redis_ctor
        && (lower.contains("redis")
            || matches!(
                last,
                "createClient" | "createCluster" | "fromEnv" | "IORedis"
            )
            || lower.contains("valkey")))
    .then_some(StoreClient::Redis)
}

/// A pipeline or MULTI block variable.
struct Pipeline {
    client: StoreClient,
    atomic: bool,
    step: usize,
}

struct FunctionWalk<'a, 's> {
    src: &'s str,
    python: bool,
    clients: &'a ClientNames,
    function: usize,
    /// Local name → the expression it was assigned (for key resolution).
    locals: HashMap<String, String>,
    pipelines: HashMap<String, Pipeline>,
    step: usize,
    /// Depth of enclosing `if`s / ternaries / short-circuits.
    conditional: usize,
    /// Of those, how many test a TTL (`if r.ttl(k) == -1`).
    guard_ttl: usize,
    /// Chained pipelines (`r.pipeline().incr(k).expire(k).execute()`): the
    /// `pipeline()` call's position → the step its links share.
    chain_steps: HashMap<usize, usize>,
    ops: Vec<StoreOp>,
    depth: usize,
    /// The function is named like a limiter or answers 429.
    limiter_context: bool,
    /// The function or its class is named like a limiter.
    named_limiter: bool,
}

impl<'a, 's> FunctionWalk<'a, 's> {
    fn t(&self, n: Node) -> &'s str {
        text(n, self.src)
    }

    fn walk(&mut self, node: Node) {
        if self.depth > MAX_DEPTH || is_function(node.kind()) || super::budget::tick() {
            return;
        }
        self.depth += 1;
        self.walk_inner(node);
        self.depth -= 1;
    }

    fn walk_inner(&mut self, node: Node) {
        match node.kind() {
            "if_statement" | "elif_clause" | "conditional_expression" | "ternary_expression" => {
                let cond = field(node, "condition");
                if let Some(c) = cond {
                    self.walk(c);
                }
                let ttl_guard =
                    cond.is_some_and(|c| self.t(c).to_ascii_lowercase().contains("ttl"));
                self.conditional += 1;
                self.guard_ttl += usize::from(ttl_guard);
                for child in named_children(node) {
                    if Some(child) != cond {
                        self.walk(child);
                    }
                }
                self.conditional -= 1;
                self.guard_ttl -= usize::from(ttl_guard);
            }
            // `count == 1 and r.expire(k, 60)`: the right side is conditional.
            "boolean_operator" | "binary_expression" if is_short_circuit(node, self.src) => {
                let mut children = named_children(node);
                if let Some(left) = children.next() {
                    self.walk(left);
                }
                self.conditional += 1;
                for right in children {
                    self.walk(right);
                }
                self.conditional -= 1;
            }
            "assignment" | "variable_declarator" | "assignment_expression" => {
                let (left, right) = if node.kind() == "variable_declarator" {
                    (field(node, "name"), field(node, "value"))
                } else {
                    (field(node, "left"), field(node, "right"))
                };
                if let Some(r) = right {
                    self.walk(r);
                }
                if let (Some(l), Some(r)) = (left, right) {
                    let name = self.t(l).to_string();
                    if let Some(p) = self.pipeline_of(r) {
                        self.pipelines.insert(name.clone(), p);
                    } else if let Some((client, atomic, root)) = self.chain_pipeline(unwrap(r)) {
                        // `const tx = redis.multi().incr(key)`: more commands
                        // are queued on `tx`; all travel in the chain's step.
                        let step = self.chain_steps.get(&root).copied().unwrap_or(0);
                        self.pipelines.insert(
                            name.clone(),
                            Pipeline {
                                client,
                                atomic,
                                step,
                            },
                        );
                    }
                    self.locals.insert(name.clone(), self.t(r).to_string());
                    // The result of a store read: `count = r.get(key)`.
                    if let Some(op) = self.ops.last_mut() {
                        if op.span.end <= r.end_byte()
                            && op.span.start >= r.start_byte()
                            && op.result_var.is_none()
                        {
                            op.result_var = Some(name);
                        }
                    }
                }
            }
            // `with r.pipeline() as pipe:`
            "as_pattern" => {
                let kids: Vec<Node> = named_children(node).collect();
                if let (Some(value), Some(alias)) = (kids.first(), kids.last()) {
                    self.walk(*value);
                    if let Some(p) = self.pipeline_of(*value) {
                        self.pipelines.insert(self.t(*alias).to_string(), p);
                    }
                }
            }
            "call" | "call_expression" => {
                // Arguments and receivers first: `r.set(k, r.get(k) + 1)`.
                for child in named_children(node) {
                    self.walk(child);
                }
                self.command(node);
            }
            _ => {
                for child in named_children(node) {
                    self.walk(child);
                }
            }
        }
    }

    /// An argument's text, cut at `MAX_ARG_TEXT` bytes: what is read from
    /// it (key words, `EX`, `+ 1`) is near the start, and nested store
    /// calls (`incr(incr(…))`) would otherwise cost each level the text of
    /// all the levels below it.
    fn arg_text(&self, arg: Node) -> &'s str {
        let text = self.t(arg);
        let mut end = text.len().min(MAX_ARG_TEXT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    /// The key text with the locals it is built from, a few levels deep:
    /// `key = f"rl:{ip}"`, `ip = request.headers.get(…)`.
    fn resolve(&self, key: &str) -> String {
        let mut resolved = key.to_string();
        let mut frontier = key.to_string();
        for _ in 0..3 {
            let mut next = String::new();
            for id in identifiers(&frontier) {
                if let Some(value) = self.locals.get(id) {
                    next.push(' ');
                    next.push_str(value);
                }
            }
            if next.is_empty() || resolved.len() > 2000 {
                break;
            }
            resolved.push_str(&next);
            frontier = next;
        }
        resolved
    }

    /// `r.pipeline()`, `r.pipeline(transaction=False)`, `client.multi()`.
    fn pipeline_of(&self, value: Node) -> Option<Pipeline> {
        let mut value = value;
        while matches!(
            value.kind(),
            "await" | "await_expression" | "parenthesized_expression"
        ) {
            value = named_children(value).next()?;
        }
        if !matches!(value.kind(), "call" | "call_expression") {
            return None;
        }
        let callee = field(value, "function")?;
        let method = last_segment(self.t(callee));
        let object = field(callee, "object")?;
        let client = self.clients.client_of(self.t(object))?;
        let args = field(value, "arguments")
            .map(|a| squash(self.t(a)))
            .unwrap_or_default();
        let atomic = match method {
            "multi" => true,
            // redis-py: transactional unless `transaction=False`; ioredis and
            // Upstash pipelines are not transactions.
            // (`RedisCluster.pipeline()` defaults to no transaction.)
            "pipeline" => {
                let cluster = self.t(object).to_ascii_lowercase().contains("cluster");
                self.python
                    && !args.contains("transaction=False")
                    && (!cluster || args.contains("transaction=True"))
            }
            _ => return None,
        };
        Some(Pipeline {
            client,
            atomic,
            step: 0,
        })
    }

    fn command(&mut self, call: Node) {
        let Some(callee) = field(call, "function").map(unwrap) else {
            return;
        };
        if !matches!(callee.kind(), "attribute" | "member_expression") {
            return;
        }
        let Some(object) = field(callee, "object") else {
            return;
        };
        // The property node, not the callee's text: TypeScript's
        // `p.exec<[number]>()` carries type arguments.
        let method = field(callee, "property")
            .or_else(|| field(callee, "attribute"))
            .map(|m| self.t(m))
            .unwrap_or_else(|| last_segment(self.t(callee)));
        let command = method.to_ascii_lowercase();
        let receiver = squash(self.t(object));
        // Where does this command travel?
        let (client, step, in_pipeline, in_transaction) =
            if let Some(p) = self.pipelines.get_mut(&receiver) {
                if matches!(command.as_str(), "execute" | "exec" | "execaspipeline") {
                    if p.step == 0 {
                        self.step += 1;
                        p.step = self.step;
                    }
                    // Commands queued on it travel now; node-redis
                    // `execAsPipeline()` sends them without MULTI/EXEC.
                    let step = p.step;
                    let atomic = p.atomic && command != "execaspipeline";
                    for op in self
                        .ops
                        .iter_mut()
                        .filter(|o| o.pipeline.as_deref() == Some(receiver.as_str()))
                    {
                        if op.step == 0 {
                            op.step = step;
                            op.in_transaction = atomic;
                        }
                    }
                    return;
                }
                (p.client, 0, true, p.atomic)
            } else if let Some((client, atomic, root)) = self.chain_pipeline(object) {
                // `r.pipeline().incr(k).expire(k, 60).execute()`: one step.
                let next = self.step + 1;
                let step = *self.chain_steps.entry(root).or_insert(next);
                self.step = self.step.max(step);
                let as_pipeline = outermost_chain(call, self.src).contains(".execAsPipeline(");
                (client, step, true, atomic && !as_pipeline)
            } else if let Some(client) = self.clients.client_of(&receiver) {
                (client, 0, false, false)
            } else {
                return;
            };
        if !(READS.contains(&command.as_str())
            || COUNTING_WRITES.contains(&command.as_str())
            || TTL_COMMANDS.contains(&command.as_str())
            || OPAQUE.contains(&command.as_str())
            || matches!(
                command.as_str(),
                "set"
                    | "hset"
                    | "add"
                    | "setnx"
                    | "ttl"
                    | "pttl"
                    | "zremrangebyscore"
                    | "delete"
                    | "del"
            ))
        {
            return;
        }
        let args: Vec<Node> = field(call, "arguments")
            .map(|a| named_children(a).collect())
            .unwrap_or_default();
        let positional: Vec<Node> = args
            .iter()
            .copied()
            .filter(|a| a.kind() != "keyword_argument")
            .collect();
        let key_node = positional.first().copied();
        let key = key_node
            .map(|k| squash(self.arg_text(k)))
            .unwrap_or_default();
        let resolved = self.resolve(&key);
        let per_client = key_from_text(&resolved).is_some()
            || key_from_text(&key).is_some()
            || identifiers(&resolved).any(knowledge::is_client_like_variable);
        let all_args = args
            .iter()
            .map(|a| squash(self.arg_text(*a)))
            .collect::<Vec<_>>()
            .join(",");
        let lower_args = all_args.to_ascii_lowercase();
        let nx = lower_args.contains("nx=true")
            || lower_args.contains("\"nx\"")
            || lower_args.contains("'nx'")
            || lower_args.contains("nx:true");
        let django = client == StoreClient::DjangoCache;
        let keeps_ttl = lower_args.contains("keepttl");
        let sets_ttl = match command.as_str() {
            c if TTL_COMMANDS.contains(&c) => true,
            "set" | "add" if django => true, // default timeout applies
            "set" => {
                lower_args.contains("ex=")
                    || lower_args.contains("px=")
                    || lower_args.contains("exat=")
                    || lower_args.contains("keepttl")
                    || lower_args.contains("ex:")
                    || lower_args.contains("px:")
                    || lower_args.contains("'ex'")
                    || lower_args.contains("\"ex\"")
                    || lower_args.contains("'px'")
                    || lower_args.contains("\"px\"")
                    || lower_args.contains("expire=")
            }
            _ => false,
        };
        // The value a SET stores: the count read before, plus one?
        let values: Vec<String> = args
            .iter()
            .skip(1)
            .map(|v| squash(&self.resolve(self.arg_text(*v))))
            .collect();
        let value_counts = values.iter().any(|t| t.contains("+1") || t.contains("+=1"));
        let value_from_read = values.iter().any(|t| {
            identifiers(t).any(|id| self.ops.iter().any(|o| o.result_var.as_deref() == Some(id)))
        });
        let step = match step {
            0 if !in_pipeline => {
                self.step += 1;
                self.step
            }
            s => s,
        };
        let key_limiterish = is_limiterish(&key) || is_limiterish(&resolved);
        // `f"rl:{ip}:{int(time.time() // 60)}"`, `strftime('%H%M')`: the key
        // names its window, so an expiry refresh cannot stretch it.
        let time_bucketed = crate::model::tables::CLOCK_READS
            .iter()
            .any(|m| resolved.contains(m));
        self.ops.push(StoreOp {
            function: self.function,
            client,
            command,
            key,
            per_client,
            step,
            pipeline: in_pipeline.then(|| receiver.clone()),
            in_transaction,
            conditional: self.conditional > 0,
            guard_reads_ttl: self.guard_ttl > 0,
            nx,
            sets_ttl,
            value_counts,
            value_from_read,
            keeps_ttl,
            named_limiter: self.named_limiter,
            limiter_context: self.limiter_context || is_limiterish(&resolved),
            limiter_key: key_limiterish,
            time_bucketed,
            result_var: None,
            opaque_function: false,
            span: if matches!(object.kind(), "call" | "call_expression") {
                let method = field(callee, "property")
                    .or_else(|| field(callee, "attribute"))
                    .unwrap_or(callee);
                crate::source::Span::new(method.start_byte(), call.end_byte())
            } else {
                span(call)
            },
        });
    }

    /// The receiver is itself a `pipeline()` / `multi()` chain.
    fn chain_pipeline(&self, mut object: Node) -> Option<(StoreClient, bool, usize)> {
        for _ in 0..32 {
            let call = object;
            if !matches!(call.kind(), "call" | "call_expression") {
                return None;
            }
            if let Some(p) = self.pipeline_of(call) {
                return Some((p.client, p.atomic, call.start_byte()));
            }
            let callee = field(call, "function")?;
            object = field(callee, "object")?;
        }
        None
    }
}

/// Words of rate-limiting code in a key or a name: `rl:{ip}`, `hits`,
/// `requests`, `attempts`, `window` (as word prefixes: `reverse-url:`
/// is not `rl:`).
fn is_limiterish(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "rate",
        "limit",
        "throttl",
        "hit",
        "count",
        "req",
        "attempt",
        "window",
        "bucket",
        "quota",
        "rl",
        "calls",
        "usage",
        "fail",
        "lockout",
        "tokenbucket",
        "sliding",
        "fixed",
    ];
    knowledge::is_limiter_name(s)
        || words(s).any(|w| {
            let w = w.to_ascii_lowercase();
            PREFIXES.iter().any(|p| w.starts_with(p))
        })
}

/// Words of an identifier or key: split at non-alphanumerics and at
/// lower-to-upper case changes (`recordFailure` → `record`, `Failure`).
fn words(s: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let mut start = None;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let alnum = b.is_ascii_alphanumeric();
        let boundary = i > 0 && b.is_ascii_uppercase() && bytes[i - 1].is_ascii_lowercase();
        match start {
            Some(st) if !alnum || boundary => {
                out.push(&s[st..i]);
                start = alnum.then_some(i);
            }
            None if alnum => start = Some(i),
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out.into_iter()
}

fn is_short_circuit(node: Node, src: &str) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .filter(|c| !c.is_named())
        .any(|c| matches!(text(c, src), "and" | "or" | "&&" | "||" | "??"));
    found
}

/// The outermost call of a method chain a call is part of.
fn outermost_chain<'s>(call: Node, src: &'s str) -> &'s str {
    let mut outer = call;
    while let Some(parent) = super::syntax::parent(outer) {
        if matches!(
            parent.kind(),
            "member_expression"
                | "attribute"
                | "call"
                | "call_expression"
                | "await_expression"
                | "await"
        ) {
            outer = parent;
        } else {
            break;
        }
    }
    text(outer, src)
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn identifiers(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(lang: crate::lang::Lang, src: &str) -> Vec<StoreOp> {
        let tree = crate::lang::parse(lang, src).unwrap();
        analyse(tree.root_node(), src, lang.is_python())
    }

    #[test]
    fn typed_exec_sends_the_queued_commands() {
        // TypeScript parses `await p.exec<T>()` with the `await` inside the callee.
        let src = "const redis = new Redis();\nasync function limit(key: string) {\n  const p = redis.pipeline();\n  p.zcard(key);\n  p.zadd(key, 1, 'a');\n  const [n] = await p.exec<[number, number]>();\n}\n";
        let found = ops(crate::lang::Lang::TypeScript, src);
        assert_eq!(found.len(), 2);
        assert!(
            found.iter().all(|o| o.step == 1 && !o.in_transaction),
            "{found:?}"
        );
    }

    #[test]
    fn chained_multi_is_one_atomic_step() {
        let src = "async function rateLimit(redis, ip) {\n  const key = `rl:${ip}`;\n  const [n] = await redis.multi().incr(key).expire(key, 60, 'NX').exec();\n  const m = await redis.get(key);\n}\n";
        let found = ops(crate::lang::Lang::JavaScript, src);
        let commands: Vec<(&str, usize, bool)> = found
            .iter()
            .map(|o| (o.command.as_str(), o.step, o.in_transaction))
            .collect();
        assert_eq!(
            commands,
            vec![("incr", 1, true), ("expire", 1, true), ("get", 2, false)]
        );
        assert!(found[1].nx && found[1].sets_ttl && found[0].per_client);
    }
}
