//! The language-neutral model of what a file does. Extractors (`lang/`)
//! produce it from syntax; the project phase joins it across files; rules
//! read only this. Trees never leave the extractor.

use crate::lang::Lang;
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Debug, Default)]
pub struct FileFacts {
    /// The file lowered to the IR (second-generation core), when it can
    /// matter to the model; moved into the model by `Project::build`.
    pub ir: Option<Box<crate::ir::Module>>,
    pub path: PathBuf,
    pub lang: Option<Lang>,
    pub frameworks: BTreeSet<Framework>,
    pub containers: Vec<Container>,
    pub functions: Vec<Function>,
    pub accesses: Vec<StateAccess>,
    pub instantiations: Vec<Instantiation>,
    pub imports: Vec<Import>,
    pub suppressions: Suppressions,
    /// Rate-limiter libraries constructed or configured in this file.
    pub limiter_setups: Vec<LimiterSetup>,
    /// `RATELIMIT_*` configuration names mentioned (settings, app config).
    pub config_names: BTreeSet<String>,
    /// Literal string values given to them (`RATELIMIT_STORAGE_URI = "…"`).
    pub config_values: BTreeMap<String, Vec<String>>,
    /// Variables used as another limiter's `insuranceLimiter`.
    pub insurance_names: BTreeSet<String>,
    /// `limiter.consume(key)` calls with a rejection handler.
    pub consume_sites: Vec<ConsumeSite>,
    /// Django settings and the limiters that count in Django's cache.
    pub django: DjangoFacts,
    /// Request-logging middleware is installed (`morgan`, `pino-http`, …):
    /// every 429 is in the access log with its client.
    pub access_logging: bool,
    /// Commands sent to a Redis / Memcached / Django cache client.
    pub store_calls: Vec<StoreCall>,
    /// The file registers an application-wide handler for store errors
    /// (`@app.errorhandler(RedisError)`, `add_exception_handler(...)`).
    pub store_error_handler: bool,
    /// Limits computed at run time and applied without a clamp (RATE009).
    pub dynamic_limits: Vec<DynamicLimit>,
    /// Literal zero limits (`max: 0`, `"0/minute"`).
    pub zero_limits: Vec<ZeroLimit>,
    /// The tree had syntax errors; facts come from the parts that parsed.
    pub syntax_errors: usize,
    /// Where the first syntax error starts (a byte offset), for the warning.
    pub first_syntax_error: Option<usize>,
    /// Nesting deeper than the extractors follow (machine-generated code):
    /// the deepest parts were not analysed.
    pub truncated: bool,
    /// Client-key expressions where a limiter may key on them (RATE003).
    pub client_keys: Vec<ClientKeyUse>,
    /// The text names a 429, a limiter or a throttle (`lower::limits_requests`).
    pub limits_requests: bool,
    /// Proxy-trust configuration (`ProxyFix`, `trust proxy`, …).
    pub proxy_settings: Vec<ProxySetting>,
    /// DRF throttle classes keyed by `get_ident` that this file names in
    /// `throttle_classes` / `DEFAULT_THROTTLE_CLASSES`: (class, where).
    pub drf_throttle_refs: Vec<(String, Span)>,
    /// Subclasses of DRF's throttles defined here that keep `get_ident`.
    pub drf_ident_classes: Vec<String>,
    /// Key sites keyed by a parameter of a named function (RATE003 follows
    /// what callers pass).
    pub param_key_uses: Vec<ParamKeyUse>,
    /// Client keys passed as call arguments: `limiter.allow(request.remote_addr)`.
    pub key_args: Vec<KeyArg>,
    /// Routes, apps/routers and middleware registrations (RATE001).
    pub routes: RouteFacts,
}

/// What RATE001 needs from a file: routes, the app and router objects
/// they hang on, and what is registered on those objects.
#[derive(Debug, Default, Clone)]
pub struct RouteFacts {
    pub routes: Vec<RouteDecl>,
    pub objects: Vec<RouterObject>,
    pub uses: Vec<UseSite>,
    /// (exported name, local name); `default` for `module.exports = x` /
    /// `export default x`.
    pub exports: Vec<(String, String)>,
    /// Top-level variables initialised by a call: (name, callee as written).
    pub inits: Vec<(String, String)>,
    /// App-wide protection declared here.
    pub global: Vec<GlobalGuard>,
    /// A Next.js `middleware.ts`: what it does and which paths it covers.
    pub next_middleware: Option<NextMiddleware>,
}

#[derive(Debug, Clone)]
pub struct RouteDecl {
    pub framework: Framework,
    /// The app/router variable it is registered on; `None` for routes
    /// that need no mount (NestJS controllers, Next.js files, Django urls).
    pub owner: Option<String>,
    /// Upper-case (`GET`), `ANY` for all methods.
    pub method: String,
    /// `None` when the path is computed.
    pub path: Option<String>,
    pub handler: String,
    /// Index into `functions` of the handler, when defined here.
    pub handler_fn: Option<usize>,
    /// Route-level middleware, decorators, dependencies, guards.
    pub guards: Vec<MwRef>,
    /// Guards that cannot be read (a spread, a computed list).
    pub dynamic_guards: bool,
    /// `@limiter.exempt`, `@SkipThrottle()`, `config: { rateLimit: false }`.
    pub opt_out: bool,
    /// The registration (decorator, `app.get(` call, exported function).
    pub span: Span,
}

/// A middleware, decorator or dependency as written.
#[derive(Debug, Clone)]
pub struct MwRef {
    pub text: String,
    /// The root identifier (`limiter` for `limiter.limit("5/minute")`,
    /// `rateLimit` for `rateLimit({...})`).
    pub name: String,
    /// An inline function: its index in `functions`.
    pub function: Option<usize>,
}

impl UseSite {
    /// `init_app(app)`, `security(app)`: the app handed to a function that
    /// may register on it; judged where the function is defined.
    pub fn handed_to(owner: &str, offset: usize, callee: &str) -> UseSite {
        UseSite {
            owner: owner.to_string(),
            offset,
            path: UsePath::None,
            items: vec![MwRef::called(callee)],
            dynamic: false,
            replaces_prefix: false,
            mount: true,
        }
    }
}

impl RouterObject {
    /// A function whose parameter stands for the app or router it is given.
    pub fn parameter(function: &str, framework: Framework, shares_parent: bool) -> RouterObject {
        RouterObject {
            name: function.to_string(),
            framework,
            is_app: false,
            prefix: None,
            guards: Vec::new(),
            dynamic_guards: false,
            param_of: true,
            shares_parent,
        }
    }
}

impl MwRef {
    /// A call's callee as written, named by its root (`limiter` for
    /// `limiter.initialize`, `require` for `require('./routes')`).
    pub fn called(callee: &str) -> MwRef {
        MwRef {
            text: callee.to_string(),
            name: callee.split(['.', '(']).next().unwrap_or("").to_string(),
            function: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RouterObject {
    pub name: String,
    pub framework: Framework,
    /// An application (`express()`, `Flask()`): routes on it need no mount.
    pub is_app: bool,
    /// `Blueprint(url_prefix=…)`, `APIRouter(prefix=…)`, `new Router({ prefix })`.
    pub prefix: Option<String>,
    /// Object-level dependencies (`APIRouter(dependencies=[…])`).
    pub guards: Vec<MwRef>,
    pub dynamic_guards: bool,
    /// A function's parameter standing for the app or router it is given
    /// (an Express route module `module.exports = (app) => …`, a Fastify
    /// plugin): mounted where the function is called or registered.
    pub param_of: bool,
    /// A Fastify plugin wrapped in `fastify-plugin`: what it registers
    /// applies to the instance that registers it, not to a child context.
    pub shares_parent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsePath {
    None,
    Literal(String),
    Dynamic,
}

/// `owner.use(...)`, `register_blueprint`, `include_router`, hooks.
#[derive(Debug, Clone)]
pub struct UseSite {
    pub owner: String,
    /// Byte offset: registration order within the file.
    pub offset: usize,
    pub path: UsePath,
    pub items: Vec<MwRef>,
    pub dynamic: bool,
    /// Flask's `register_blueprint(url_prefix=…)` replaces the blueprint's own.
    pub replaces_prefix: bool,
    /// The first item is a mounted router/app (`register_blueprint`,
    /// `include_router`, Hono `route`, Fastify `register`), never middleware.
    pub mount: bool,
}

#[derive(Debug, Clone)]
pub struct GlobalGuard {
    pub framework: Framework,
    /// The limiter applies to every route unless it opts in per route
    /// (`@fastify/rate-limit` with `global: false`).
    pub opt_in_only: bool,
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct NextMiddleware {
    /// The middleware calls a limiter (or is named like one).
    pub limits: bool,
    /// `config.matcher` patterns; empty means every path.
    pub matchers: Vec<String>,
    pub dynamic_matcher: bool,
}

/// Web frameworks (and edge runtimes) a file is written against; chooses the
/// fix named in help lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
/// Declared most specific first: a file importing both `@nestjs/common`
/// and `express` (for types) is NestJS code, FastAPI code imports
/// `starlette` too.
pub enum Framework {
    FastApi,
    Starlette,
    Flask,
    Django,
    NestJs,
    NextJs,
    Hono,
    Fastify,
    Koa,
    Express,
}

/// A mutable container whose lifetime is the process, a class, or a
/// factory's closure: a candidate for limiter state.
#[derive(Debug, Clone)]
pub struct Container {
    /// As the user would name it: `hits`, `RateLimiter.requests`, `self.requests`.
    pub name: String,
    pub scope: ContainerScope,
    /// The constructor as written: `defaultdict(list)`, `new Map()`, `{}`.
    pub constructor: String,
    /// TTL/LRU caches and other containers with a size or age bound.
    pub bounded: bool,
    /// The definition (the assignment or declaration).
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerScope {
    /// Module-level or `global`.
    Module,
    /// A class attribute (Python class body, JS `static` field).
    ClassAttr { class: String },
    /// `self.x` / `this.x` set in a method or a JS instance field: process
    /// memory only if the object itself lives for the process.
    InstanceAttr { class: String },
    /// A local of `factory`, captured by a function nested inside it.
    Closure { factory: usize },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerRef {
    /// Index into this file's `containers`.
    Local(usize),
    /// A module-level name imported from another file of the project.
    Imported { module: String, name: String },
}

/// What identifies the caller in a key expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientKeyKind {
    /// The TCP peer: `remote_addr`, `client.host`, `req.ip`, …
    PeerAddress,
    /// `X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `access_route`.
    ForwardedHeader,
    /// API keys, user ids, tokens, user names.
    Identity,
    /// Only the variable's name says so (`ip`, `client_ip`, `user_id`).
    NamedLikeClient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyClass {
    Client(ClientKeyKind),
    /// The n-th declared parameter (not counting `self`/`cls`) of the
    /// enclosing function: a client key if its callers pass one.
    Param(usize),
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// Stores or mutates the entry; `counts_or_times` when the value is a
    /// count, a timestamp, a window or a token level.
    /// `direct` when the statement names the container itself
    /// (`hits[ip] = …`, `hits.set(ip, …)`) rather than an entry alias.
    Write {
        counts_or_times: bool,
        direct: bool,
    },
    /// The entry takes part in a `<`/`>` comparison that may guard a
    /// decision (not a loop condition, not an `if` that only logs).
    Compare,
    /// `key in container` / `container.has(key)`.
    Membership,
    Delete,
}

#[derive(Debug, Clone)]
pub struct StateAccess {
    pub container: ContainerRef,
    /// Innermost enclosing function.
    pub function: Option<usize>,
    pub key: KeyClass,
    /// The key expression as written (`ip`, `req.ip`), when known.
    pub key_text: Option<String>,
    pub kind: AccessKind,
    pub span: Span,
}

/// How strongly a function's code says "deny this request".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum DenySignal {
    #[default]
    None,
    /// `raise`/`throw`/`abort`, an error status, `return False`, or
    /// returning the result of a comparison.
    Weak,
    /// A 429 / `TOO_MANY_REQUESTS` rejection.
    Strong,
}

#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub class: Option<String>,
    /// The function's name (or its first line for anonymous functions).
    pub span: Span,
    pub params: Vec<String>,
    /// Syntax alone says this runs per request (route decorator, request
    /// parameter, middleware signature, Flask's global `request`, …).
    pub request_context: bool,
    pub deny: DenySignal,
    pub calls: Vec<CallSite>,
    /// Enclosing function, for closures.
    pub parent: Option<usize>,
    /// An anonymous callback run on behalf of its enclosing function (a
    /// Promise executor, an array callback): it shares the parent's context.
    pub inline: bool,
    /// Calls something named like a limiter (`is_rate_limited`, `consume`).
    pub calls_limiter: bool,
    /// Answers 429 in a statement whose text says why ("rate limit", "too
    /// many requests", …): RATE001 counts the route protected.
    pub answers_rate_limit_429: bool,
    /// `async def` / `async function`: other requests run only at `await`.
    pub is_async: bool,
    /// Byte offsets of the `await`s directly in this function.
    pub awaits: Vec<usize>,
    /// Holds a lock somewhere (`with lock:`, `.acquire()`, `runExclusive`).
    pub locks: bool,
}

#[derive(Debug, Clone)]
pub struct CallSite {
    /// Last name of the callee: `is_allowed` for `limiter.is_allowed(ip)`.
    pub callee: Box<str>,
    /// Last name of the receiver: `limiter` for `app.limiter.is_allowed(ip)`,
    /// `self`/`this`; `None` for a plain function call.
    pub receiver: Option<Box<str>>,
    /// Error handling around the call (a `try` in the caller).
    pub guard: Guard,
    /// Key classes of the positional arguments; trailing arguments that
    /// cannot carry a client key are left out.
    pub args: Vec<KeyClass>,
}

/// `ClassName(...)` / `new ClassName(...)` (or the class passed where a
/// framework instantiates it once, like `app.add_middleware(ClassName)`).
#[derive(Debug, Clone)]
pub struct Instantiation {
    pub class: String,
    /// `None` at module level.
    pub function: Option<usize>,
    /// The name the instance is stored under (`limiter = RateLimiter()`);
    /// `None` when it is exported anonymously or handed to a framework.
    pub bound_to: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Import {
    /// The name bound in this file.
    pub local: String,
    /// The module as written: `.limiter`, `app.state`, `./store`.
    pub module: String,
    /// The imported member; `None` for the module itself or a default export.
    pub name: Option<String>,
}

/// A rate-limiter library's construction or configuration call, with the
/// options it was given: what RATE002 (library half) judges.
#[derive(Debug, Clone)]
pub struct LimiterSetup {
    /// Index into `knowledge::LIMITER_LIBRARIES`.
    pub library: usize,
    /// The callee as written: `rateLimit`, `ThrottlerModule.forRoot`.
    pub callee: String,
    /// Options given (keyword arguments, object properties) with the
    /// value's text when short (`store` → `new RedisStore({…})`).
    pub options: Vec<(String, String)>,
    /// Options that cannot be read (a variable, `**kwargs`, a spread):
    /// the rule stays silent.
    pub options_unknown: bool,
    /// The first argument is a string (a storage URI) with this value.
    pub string_arg: Option<String>,
    /// The first positional argument as written (shortened).
    pub first_arg: Option<String>,
    /// The first argument is an array literal (NestJS `forRoot([...])`).
    pub array_form: bool,
    /// Only ever another limiter's `insuranceLimiter` (inline, or a
    /// variable with no other use).
    pub insurance: bool,
    /// The variable it is stored in, if any.
    pub bound_to: Option<String>,
    pub span: Span,
}

/// Where a run-time limit value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// An LLM SDK's answer (OpenAI, Anthropic, Bedrock, …).
    ModelResponse,
    /// A parsed response or message: `.json()`, `json.loads`, `JSON.parse`.
    ServiceResponse,
    /// The request's query, body or headers: the client chooses.
    RequestData,
}

/// A limit applied from a run-time value that nothing clamps.
#[derive(Debug, Clone)]
pub struct DynamicLimit {
    /// The value where it is applied.
    pub span: Span,
    /// The value as written (shortened).
    pub value: String,
    /// Where it is applied: "the `max` option of `rateLimit`".
    pub what: String,
    pub source: LimitSource,
    pub source_span: Span,
}

/// A literal zero where a limit goes.
#[derive(Debug, Clone)]
pub struct ZeroLimit {
    pub span: Span,
    /// `max: 0`, `"0/minute"`.
    pub text: String,
    pub what: String,
}

/// A command sent to a store client: `r.incr(key)`, `await client.get(k)`.
#[derive(Debug, Clone)]
pub struct StoreCall {
    /// The receiver as written: `r`, `app.state.redis`.
    pub receiver: String,
    pub command: String,
    pub key: KeyClass,
    pub function: Option<usize>,
    /// What handles an error from this call in its own function.
    pub guard: Guard,
    pub span: Span,
}

/// The error handling around a call within its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Guard {
    /// No `try`/`except`/`.catch` that would catch a store error.
    #[default]
    Unguarded,
    /// Caught, and the handler does something other than answer 429.
    Handled,
    /// Caught, and the handler answers 429: everyone is refused.
    FailClosed,
}

/// What a Python file says about Django's cache and the limiters that
/// count in it (django-ratelimit, DRF throttling).
#[derive(Debug, Clone, Default)]
pub struct DjangoFacts {
    /// A module-level `INSTALLED_APPS = …`: this is a settings module.
    pub installed_apps: Option<Span>,
    /// A module-level `CACHES = …` and its default backend.
    pub caches: Option<(Span, CacheBackend)>,
    /// `RATELIMIT_USE_CACHE = "…"`: the alias django-ratelimit uses
    /// (`Some("")` when it is not a literal).
    pub ratelimit_cache: Option<String>,
    /// `REST_FRAMEWORK` sets `DEFAULT_THROTTLE_CLASSES` (the value's span)
    /// / `DEFAULT_THROTTLE_RATES`.
    pub default_throttle_classes: Option<Span>,
    pub throttle_rates: bool,
    /// `@ratelimit(rate=…)` / `is_ratelimited(...)` (django-ratelimit).
    pub ratelimit_uses: Vec<Span>,
    /// `throttle_classes = [...]` / `@throttle_classes([...])` (DRF).
    pub throttle_class_uses: Vec<Span>,
    /// A class sets `cache = caches["…"]`: a throttle with its own cache.
    pub custom_throttle_cache: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheBackend {
    /// `LocMemCache`: per process.
    LocalMemory,
    /// Redis, Memcached, database: shared.
    Shared,
    /// Dummy, file-based or a backend ratecheck does not know.
    Other,
    /// Not a literal (built from the environment, …).
    Unknown,
}

/// `limiter.consume(key)` (rate-limiter-flexible) whose rejection is
/// handled: by `.catch(…)`, `.then(…, onRejected)` or a `try`/`catch`.
#[derive(Debug, Clone)]
pub struct ConsumeSite {
    /// The limiter variable: `limiter` in `limiter.consume(req.ip)`.
    pub receiver: String,
    /// The handler answers 429.
    pub answers_429: bool,
    /// The handler tells a store `Error` from a limit result
    /// (`instanceof Error`, `msBeforeNext`, …).
    pub tells_errors_apart: bool,
    pub span: Span,
}

/// What a client-key expression is, finer than `ClientKeyKind` (RATE003).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyForm {
    /// The TCP peer as the server saw it: `remote_addr`, `client.host`,
    /// `REMOTE_ADDR`, `get_remote_address`, `socket.remoteAddress`.
    PeerSocket,
    /// `req.ip` / `request.ip` / `ctx.ip`: the framework's proxy trust
    /// decides what it is.
    PeerTrusting,
    /// `X-Forwarded-For` split into its entries (not yet indexed).
    ForwardedList,
    /// The whole raw `X-Forwarded-For` value.
    ForwardedWhole,
    /// Its leftmost entry: `split(",")[0]`, `.shift()`.
    ForwardedLeftmost,
    /// werkzeug's `request.access_route` (or its first entry).
    AccessRoute,
    /// Rightmost entries or a configured hop count: what a proxy appended.
    ForwardedSafe,
    /// `X-Real-IP`, `CF-Connecting-IP`, `Forwarded`, …: depends on the proxy.
    Ambiguous,
    /// User ids, API keys, tokens: never RATE003.
    Identity,
    /// A header the client sets to name itself (`User-Agent`,
    /// `X-Client-Id`).
    ClientHeader,
}

impl KeyForm {
    /// The client writes it.
    pub fn is_spoofable(self) -> bool {
        matches!(
            self,
            KeyForm::ForwardedList
                | KeyForm::ForwardedWhole
                | KeyForm::ForwardedLeftmost
                | KeyForm::AccessRoute
                | KeyForm::ClientHeader
        )
    }
}

/// A client-key expression and where it comes from.
#[derive(Debug, Clone)]
pub struct ClientKey {
    pub form: KeyForm,
    /// The expression as written (shortened).
    pub text: String,
    /// The expression that computes the key (in this file).
    pub span: Span,
    /// Where the header is read, when that is elsewhere.
    pub header: Option<Span>,
}

/// Where a client key is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySite {
    /// `x[key]`, `x.get(key)`, `x.set(key, …)`, store commands: a limiter's
    /// state if the facts of the rest of the file say so.
    Entry { method: Option<String> },
    /// A library option (`key_func`, `keyGenerator`, `id`, `key`) or the
    /// first positional argument of `Limiter(...)` (`key_func`).
    Option(String),
    /// `limiter.consume(key)` / `ratelimit.limit(key)`.
    Consume { receiver: String },
}

#[derive(Debug, Clone)]
pub struct ClientKeyUse {
    pub key: ClientKey,
    pub site: KeySite,
    /// The subscript, call or option.
    pub span: Span,
}

/// `self.hits[key]` in `def allow(self, key)`: keyed by parameter `param`
/// (not counting `self`/`cls`) of `function`.
#[derive(Debug, Clone)]
pub struct ParamKeyUse {
    pub function: String,
    pub param: usize,
    pub site: KeySite,
    pub span: Span,
}

/// A client key passed as positional argument `index` of a call to
/// `callee` (its last name).
#[derive(Debug, Clone)]
pub struct KeyArg {
    pub callee: String,
    pub index: usize,
    pub key: ClientKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyTrust {
    /// Every hop is trusted: `req.ip` is the leftmost forwarded entry.
    All,
    /// A hop count, address list or function.
    Configured,
    /// Set, but to something whose meaning ratecheck cannot tell.
    Unclear,
}

/// A proxy-trust setting.
#[derive(Debug, Clone)]
pub struct ProxySetting {
    pub trust: ProxyTrust,
    /// As written (shortened): `app.set('trust proxy', true)`.
    pub text: String,
    pub span: Span,
}

/// Inline `ratecheck: ignore[...]` comments.
#[derive(Debug, Default, Clone)]
pub struct Suppressions {
    /// 1-based line of the comment → rules (empty set = every rule).
    pub lines: BTreeMap<usize, Suppression>,
    pub file: Option<Suppression>,
    /// Line of the (first) `ignore-file` comment.
    pub file_line: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// A bare `ratecheck: ignore`: every rule.
    pub all: bool,
    /// Rule ids or prefixes.
    pub rules: BTreeSet<String>,
}

impl Suppression {
    pub fn covers(&self, rule_id: &str) -> bool {
        self.all || self.rules.iter().any(|r| rule_id.starts_with(r.as_str()))
    }
}

impl Suppressions {
    /// Parse one comment's text; records it if it is a ratecheck directive.
    pub fn add_comment(&mut self, comment: &str, line: usize) {
        let Some(idx) = comment.find("ratecheck:") else {
            return;
        };
        let rest = comment[idx + "ratecheck:".len()..].trim_start();
        let (file_wide, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("ignore") {
            (false, r)
        } else {
            return;
        };
        let mut rules = BTreeSet::new();
        if let Some(list) = rest.strip_prefix('[') {
            let Some(end) = list.find(']') else { return };
            rules.extend(
                list[..end]
                    .split(',')
                    .map(|r| r.trim().to_ascii_uppercase())
                    .filter(|r| !r.is_empty()),
            );
        } else if rest.starts_with(|c: char| c.is_alphanumeric() || c == '-') {
            return; // some other word, e.g. `ignored`
        }
        let target = if file_wide {
            if self.file.is_none() {
                self.file_line = line;
            }
            self.file.get_or_insert_with(Suppression::default)
        } else {
            self.lines.entry(line).or_default()
        };
        target.all |= rules.is_empty();
        target.rules.extend(rules);
    }

    /// Whether a finding of `rule_id` on 1-based `line` is suppressed (a
    /// comment on the same line or the line above).
    pub fn suppresses(&self, rule_id: &str, line: usize) -> bool {
        if self.file.as_ref().is_some_and(|s| s.covers(rule_id)) {
            return true;
        }
        [line, line.saturating_sub(1)]
            .iter()
            .filter_map(|l| self.lines.get(l))
            .any(|s| s.covers(rule_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_comments() {
        let mut s = Suppressions::default();
        s.add_comment("# ratecheck: ignore[RATE002]", 3);
        s.add_comment("// ratecheck: ignore[rate002, RATE005 ]", 10);
        s.add_comment("# ratecheck: ignore", 20);
        s.add_comment("# ratecheck: ignored for now", 30);
        assert!(s.suppresses("RATE002", 3));
        assert!(s.suppresses("RATE002", 4)); // line above
        assert!(!s.suppresses("RATE002", 5));
        assert!(!s.suppresses("RATE001", 3));
        assert!(s.suppresses("RATE005", 10));
        assert!(s.suppresses("RATE001", 20));
        assert!(!s.suppresses("RATE001", 30));
        assert!(s.file.is_none());
        s.add_comment("# ratecheck: ignore-file[RATE001]", 1);
        assert!(s.suppresses("RATE001", 99));
        assert!(!s.suppresses("RATE002", 99));
    }
}
