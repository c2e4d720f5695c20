//! Library and framework knowledge for value roles, as data. Adding a
//! framework's request object or a store client is a row here, not code.

use super::{Addr, Origin, Role};

/// External names (module path plus members, `()` for a call's result)
/// and the role their value has. Looked up after every step of an access
/// path, so `flask.request.remote_addr` is `Request` then `Addr(Peer)`.
pub const EXTERNAL_ROLES: &[(&str, Role)] = &[
    // Request objects reachable by import.
    ("flask.request", Role::Request),
    ("quart.request", Role::Request),
    ("sanic.request", Role::Request),
    // Peer-address helpers of the limiter libraries.
    (
        "flask_limiter.util.get_remote_address",
        Role::KeyFunc(Addr::Peer),
    ),
    ("slowapi.util.get_remote_address", Role::KeyFunc(Addr::Peer)),
    (
        "slowapi.util.get_ipaddr",
        Role::KeyFunc(Addr::ForwardedLeftmost),
    ),
    // `request-ip`: the first address of a list of client-settable headers.
    (
        "request-ip.getClientIp",
        Role::KeyFunc(Addr::ForwardedLeftmost),
    ),
    ("request-ip.mw()", Role::RequestIpMiddleware),
    // Store clients.
    ("redis.Redis()", Role::Store),
    ("redis.StrictRedis()", Role::Store),
    ("redis.from_url()", Role::Store),
    ("redis.Redis.from_url()", Role::Store),
    ("redis.asyncio.Redis()", Role::Store),
    ("redis.asyncio.from_url()", Role::Store),
    ("redis.asyncio.Redis.from_url()", Role::Store),
    ("aioredis.from_url()", Role::Store),
    ("aioredis.Redis()", Role::Store),
    ("ioredis()", Role::Store),
    ("ioredis.Redis()", Role::Store),
    ("ioredis.Cluster()", Role::Store),
    ("ioredis.createClient()", Role::Store),
    ("ioredis.Redis.createClient()", Role::Store),
    ("redis.createClient()", Role::Store),
    ("@redis/client.createClient()", Role::Store),
    ("@upstash/redis.Redis()", Role::Store),
    ("@upstash/redis.Redis.fromEnv()", Role::Store),
    ("@upstash/redis/cloudflare.Redis()", Role::Store),
    ("@upstash/redis/cloudflare.Redis.fromEnv()", Role::Store),
    ("@upstash/redis/nodejs.Redis()", Role::Store),
    ("@upstash/redis/nodejs.Redis.fromEnv()", Role::Store),
    ("@upstash/redis/fastly.Redis()", Role::Store),
    ("@vercel/kv.kv", Role::Store),
    ("redis.StrictRedis.from_url()", Role::Store),
    ("redis.RedisCluster()", Role::Store),
    ("redis.cluster.RedisCluster()", Role::Store),
    ("redis.asyncio.RedisCluster()", Role::Store),
    ("redis.asyncio.cluster.RedisCluster()", Role::Store),
    ("redis.asyncio.StrictRedis()", Role::Store),
    ("redis.createCluster()", Role::Store),
    // Memcached clients: a shared store like Redis (RATE004 races), with
    // its own eviction (never RATE005).
    ("pymemcache.Client()", Role::Store),
    ("pymemcache.client.base.Client()", Role::Store),
    ("pymemcache.client.base.PooledClient()", Role::Store),
    ("pymemcache.client.hash.HashClient()", Role::Store),
    ("pylibmc.Client()", Role::Store),
    ("bmemcached.Client()", Role::Store),
    ("memcache.Client()", Role::Store),
    ("django.core.cache.cache", Role::Store),
    ("django_redis.get_redis_connection()", Role::Store),
    // `caches["ratelimit"]`: any alias of Django's cache handler.
    ("django.core.cache.caches[]", Role::Store),
];

/// Stores that expire or evict keys themselves (module paths): a key
/// left without a TTL there does not stay for ever.
pub const EVICTING_STORES: &[&str] = &[
    "pymemcache",
    "pylibmc",
    "bmemcached",
    "memcache",
    "django.core.cache",
];

/// A name that says it holds a Redis client (`redis`, `redisClient`,
/// `cache_redis`), not a setting of one (`redisUrl`, `REDIS_KEY`).
pub fn names_redis_client(name: &str) -> bool {
    let n = crate::knowledge::squashed(name);
    n.ends_with("redis") || n.ends_with("redisclient") || n.ends_with("redisconn")
}

/// Attributes and members of request-like values.
pub const MEMBER_ROLES: &[(Role, &str, Role)] = &[
    (
        Role::Request,
        "remote_addr",
        Role::Addr(Addr::Peer, Origin::TABLE),
    ),
    (Role::Request, "ip", Role::Addr(Addr::ReqIp, Origin::TABLE)),
    (
        Role::Request,
        "ips",
        Role::Addr(Addr::ForwardedList, Origin::TABLE),
    ),
    (
        Role::Request,
        "access_route",
        Role::Addr(Addr::ForwardedList, Origin::TABLE),
    ),
    (Role::Request, "headers", Role::Headers),
    (Role::Request, "META", Role::Headers),
    (Role::Request, "environ", Role::Headers),
    (Role::Request, "client", Role::ClientInfo),
    (Role::Request, "socket", Role::Socket),
    (Role::Request, "connection", Role::Socket),
    // Koa `ctx.request` / `ctx.req`, Hono `c.req`, Fastify `request.raw`,
    // Django REST `request._request`.
    (Role::Request, "request", Role::Request),
    (Role::Request, "req", Role::Request),
    (Role::Request, "raw", Role::Request),
    (Role::Request, "_request", Role::Request),
    (
        Role::ClientInfo,
        "host",
        Role::Addr(Addr::Peer, Origin::TABLE),
    ),
    (
        Role::Socket,
        "remoteAddress",
        Role::Addr(Addr::Peer, Origin::TABLE),
    ),
    // Accounts: a logged-in user, a session, an API key.
    (Role::Request, "user", Role::Identity),
    (Role::Request, "auth", Role::Identity),
    (Role::Request, "session", Role::Identity),
    (Role::Request, "apiKey", Role::Identity),
    (Role::Request, "api_key", Role::Identity),
];

/// Methods of request-like values that read a header by name: the
/// header's role comes from its name (first argument).
pub const HEADER_GETTERS: &[(Role, &str)] = &[
    (Role::Headers, "get"),
    (Role::Headers, "getlist"),
    (Role::Headers, "get_all"),
    (Role::Request, "header"),
    (Role::Request, "get"),
    (Role::Request, "getHeader"),
    (Role::Request, "get_header"),
];

/// Header names (lower case, `_` and `-` alike, a `HTTP_` prefix of WSGI
/// environ keys dropped) and the address they carry.
pub const HEADERS: &[(&str, Addr)] = &[
    ("x-forwarded-for", Addr::ForwardedWhole),
    ("x-real-ip", Addr::RealIpHeader),
    ("x-client-ip", Addr::RealIpHeader),
    ("cf-connecting-ip", Addr::RealIpHeader),
    ("true-client-ip", Addr::RealIpHeader),
    ("x-cluster-client-ip", Addr::RealIpHeader),
    ("forwarded", Addr::ForwardedWhole),
    ("remote-addr", Addr::Peer),
];

/// String methods that keep what a value identifies (`.strip()`,
/// `.trim()`, `.lower()`, `.replace("Bearer ", "")`, `::ffff:` stripped).
pub const KEEPING_METHODS: &[&str] = &[
    "replace",
    "replaceAll",
    "removeprefix",
    "removesuffix",
    "strip",
    "lstrip",
    "rstrip",
    "trim",
    "trimStart",
    "trimEnd",
    "lower",
    "upper",
    "toLowerCase",
    "toUpperCase",
    "toString",
    "decode",
    "encode",
    "hexdigest",
    "digest",
];

/// Library calls that hash their argument (`hashlib.sha256(data)`, Node's
/// `createHash(alg).update(data)`), by access path.
pub fn is_hashing(path: &str) -> bool {
    path.strip_prefix("hashlib.")
        .is_some_and(|f| !f.contains('.'))
        || path.ends_with(".createHash().update")
}

/// Parameter names that hold the request in handlers and middleware when
/// nothing better is known (Express `req`, Django `request`, Koa `ctx`,
/// Hono `c` is handled through `c.req`).
pub const REQUEST_PARAM_NAMES: &[&str] = &["req", "request", "ctx", "context"];

/// Annotation names (last segment) of request types.
/// A hook a limiter calls when it refuses (`params.onExceeded(req, key)`,
/// `options.on_limited(request)`): whoever configures it records the
/// rejection there.
pub fn rejection_hook(callee: &str) -> bool {
    let name = callee.rsplit('.').next().unwrap_or(callee);
    // `onExceeded`, `on_limited`; not `ongoing_limit_check`.
    let hook = name.strip_prefix("on_").is_some()
        || name
            .strip_prefix("on")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_uppercase());
    let lower = name.to_ascii_lowercase();
    hook && ["exceed", "limit", "reject", "block", "ban", "throttl"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Methods that set a response header (`res.header(name, v)`,
/// `res.setHeader`, `ctx.set`, `c.header`, `headers.append`).
pub const HEADER_SETTERS: &[&str] = &["header", "setHeader", "set", "append"];

/// Methods of a request context (a parameter named `context`, NestJS's
/// `ExecutionContext`) that hand over the request:
/// `context.switchToHttp().getRequest()`.
pub const REQUEST_ACCESSORS: &[&str] = &["switchToHttp", "getRequest"];

pub const REQUEST_TYPES: &[&str] = &[
    "Request",
    "HttpRequest",
    "NextRequest",
    "FastifyRequest",
    "IncomingMessage",
    "Context",
    "WSGIRequest",
    "ASGIRequest",
    // NestJS: the request behind `switchToHttp().getRequest()`.
    "ExecutionContext",
    "ArgumentsHost",
];

/// The role of an external access path, if the tables know it.
pub fn external_role(path: &str) -> Option<Role> {
    EXTERNAL_ROLES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, r)| r.clone())
}

/// A header name's address role.
pub fn header_addr(name: &str) -> Option<Addr> {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    let lower = lower.strip_prefix("http-").unwrap_or(&lower);
    HEADERS
        .iter()
        .find(|(h, _)| *h == lower)
        .map(|(_, a)| *a)
        .or_else(|| {
            CLIENT_NAMING_HEADERS
                .iter()
                .any(|w| lower.contains(w))
                .then_some(Addr::ClientHeader)
        })
}

/// Headers a client sets to name itself (`User-Agent`, `X-Client-Id`,
/// `X-Device-Id`): as a limiter key, the client picks its bucket.
const CLIENT_NAMING_HEADERS: &[&str] = &["user-agent", "client-id", "device-id", "fingerprint"];

/// Limiter constructors and calls that take the client key as an option
/// (a function of the request, or a value): (callee access path, option
/// name, positional index when it may also be passed positionally).
pub const KEY_OPTIONS: &[(&str, &str, Option<usize>)] = &[
    ("express-rate-limit()", "keyGenerator", None),
    ("express-rate-limit.rateLimit()", "keyGenerator", None),
    ("express-rate-limit.default()", "keyGenerator", None),
    ("express-slow-down()", "keyGenerator", None),
    ("express-slow-down.slowDown()", "keyGenerator", None),
    ("hono-rate-limiter.rateLimiter()", "keyGenerator", None),
    ("koa-ratelimit()", "id", None),
    ("flask_limiter.Limiter()", "key_func", Some(0)),
    ("flask_limiter.Limiter().limit()", "key_func", None),
    ("flask_limiter.Limiter().shared_limit()", "key_func", None),
    ("slowapi.Limiter()", "key_func", None),
    ("slowapi.Limiter().limit()", "key_func", None),
    ("slowapi.Limiter().shared_limit()", "key_func", None),
    ("fastapi_limiter.depends.RateLimiter()", "identifier", None),
    ("fastapi_limiter.FastAPILimiter.init()", "identifier", None),
];

/// Fastify plugins registered with their options as the second argument:
/// (plugin access path, key option).
pub const PLUGIN_KEY_OPTIONS: &[(&str, &str)] = &[
    ("@fastify/rate-limit", "keyGenerator"),
    ("fastify-rate-limit", "keyGenerator"),
];

/// Limiter objects whose method takes the key: (access-path prefix of the
/// receiver, method, key argument).
pub const KEY_METHODS: &[(&str, &str, usize)] = &[
    ("rate-limiter-flexible.", "consume", 0),
    ("rate-limiter-flexible.", "penalty", 0),
    ("rate-limiter-flexible.", "get", 0),
    ("@upstash/ratelimit.Ratelimit()", "limit", 0),
    ("@upstash/ratelimit.Ratelimit()", "blockUntilReady", 0),
    ("limits.strategies.", "hit", 1),
    ("limits.strategies.", "test", 1),
    ("limits.aio.strategies.", "hit", 1),
    ("pyrate_limiter.Limiter()", "try_acquire", 0),
    ("pyrate_limiter.Limiter()", "try_acquire_async", 0),
];

/// Store commands that count per key: a client address as their key is a
/// limiter key whatever the code around them does.
pub const COUNTING_COMMANDS: &[&str] = &[
    "incr",
    "incrby",
    "hincrby",
    "zadd",
    "incrbyfloat",
    "inc",
    "increment",
];

/// Store methods that return a handle on the same store (pipelines,
/// transactions): commands on it reach the store.
/// Reads of the clock in a store key: the key names its window
/// (`f"rl:{ip}:{int(time.time() // 60)}"`, `strftime('%H%M')`).
pub const CLOCK_READS: &[&str] = &[
    "strftime",
    "time.time",
    "time()",
    "Date.now",
    "getTime",
    "datetime",
    "isoformat",
    "toISOString",
];

pub const STORE_HANDLES: &[&str] = &["pipeline", "multi", "transaction"];

/// Methods of a store client that return a callable bound to it: calling
/// it talks to the store (`script = r.register_script(LUA); script(keys=…)`).
pub const STORE_CALLABLES: &[&str] = &["register_script"];

/// Headers that carry an account (API key, token), not an address.
pub fn identity_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    let lower = lower.strip_prefix("http-").unwrap_or(&lower);
    matches!(
        lower,
        "authorization" | "x-api-key" | "api-key" | "x-auth-token" | "x-access-token" | "cookie"
    )
}

/// Limiter libraries' and frameworks' errors that reject a request as
/// rate limited where they are raised; the library answers them with its
/// own headers. With `STATUS_429_NAMES`, what marks limiting code.
pub const LIMITER_ERROR_NAMES: &[&str] = &[
    "TooManyRequestsException",
    "Throttled",
    "ThrottlerException",
    "RateLimitExceeded",
];

/// Store commands whose first argument is the key they read or write
/// (lower case; node-redis v4 spells them `sAdd`, `SADD`, `zRemRangeByScore`).
pub const STORE_KEY_COMMANDS: &[&str] = &[
    "get",
    "set",
    "setex",
    "psetex",
    "setnx",
    "getset",
    "add",
    "incr",
    "incrby",
    "incrbyfloat",
    "decr",
    "decrby",
    "inc",
    "expire",
    "pexpire",
    "expireat",
    "ttl",
    "pttl",
    "exists",
    "hget",
    "hset",
    "hmset",
    "hmget",
    "hgetall",
    "hincrby",
    "hsetnx",
    "zadd",
    "zcard",
    "zcount",
    "zrange",
    "zrangebyscore",
    "zremrangebyscore",
    "zrem",
    "lpush",
    "rpush",
    "llen",
    "lrange",
    "ltrim",
    "sadd",
    "smembers",
    "scard",
    "srem",
];

/// Methods of maps and dicts that take an entry's key first.
pub const ENTRY_METHODS: &[&str] = &["get", "set", "has", "setdefault", "pop", "delete"];

/// Variable and attribute names that hold an account rather than an
/// address (`username`, `user_id`, `apiKey`), compared without case and
/// punctuation.
pub fn identity_name(name: &str) -> bool {
    const ACCOUNT_WORDS: &[&str] = &[
        "username",
        "userid",
        "useremail",
        "email",
        "phone",
        "apikey",
        "accountid",
        "clientid",
        "tenantid",
        "sessionid",
        "token",
    ];
    let squashed: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    ACCOUNT_WORDS.iter().any(|w| squashed.contains(w))
}

/// Limiter calls whose key, when no key option is given, is a client
/// address the library picks: (callee access path, key option, the
/// address, what the library reads, a call elsewhere in the project that
/// sets the key for every limiter instead). fastapi-limiter's
/// `default_identifier` takes the first `X-Forwarded-For` entry when the
/// header is there (0.1.6 and 0.2.0, read from the packages).
pub const DEFAULT_KEYS: &[(&str, &str, Addr, &str, Option<&str>)] = &[
    (
        "fastapi_limiter.FastAPILimiter.init()",
        "identifier",
        Addr::ForwardedLeftmost,
        "fastapi-limiter's `default_identifier` (the first `X-Forwarded-For` entry)",
        None,
    ),
    (
        "fastapi_limiter.depends.RateLimiter()",
        "identifier",
        Addr::ForwardedLeftmost,
        "fastapi-limiter's `default_identifier` (the first `X-Forwarded-For` entry)",
        Some("fastapi_limiter.FastAPILimiter.init()"),
    ),
];

/// Web apps and routers whose handler and middleware registrations call
/// the function they are given with the request (or context) first:
/// (access path of the app or router, registration methods).
pub const HANDLER_REGISTRATIONS: &[(&str, &[&str])] = &[
    ("express()", EXPRESS_METHODS),
    ("express.default()", EXPRESS_METHODS),
    ("express.Router()", EXPRESS_METHODS),
    ("express.default.Router()", EXPRESS_METHODS),
    ("hono.Hono()", EXPRESS_METHODS),
    ("koa()", &["use"]),
    ("koa.default()", &["use"]),
    ("@koa/router()", EXPRESS_METHODS),
    ("koa-router()", EXPRESS_METHODS),
    ("fastify()", FASTIFY_METHODS),
    ("fastify.default()", FASTIFY_METHODS),
    ("fastify.fastify()", FASTIFY_METHODS),
];

/// Route decorators: the framework calls the function for each request,
/// whatever its parameters (a FastAPI handler that takes only query
/// values, a NestJS `@Get()` method). Apps and routers by access path with
/// their decorating methods (`@app.get("/")`, `@bp.route(…)`), then
/// decorators that are functions themselves.
pub const ROUTE_DECORATORS: &[(&str, &[&str])] = &[
    ("fastapi.FastAPI()", FASTAPI_ROUTE_METHODS),
    ("fastapi.APIRouter()", FASTAPI_ROUTE_METHODS),
    ("fastapi.routing.APIRouter()", FASTAPI_ROUTE_METHODS),
    ("flask.Flask()", FLASK_ROUTE_METHODS),
    ("flask.Blueprint()", FLASK_ROUTE_METHODS),
    ("quart.Quart()", FLASK_ROUTE_METHODS),
    ("quart.Blueprint()", FLASK_ROUTE_METHODS),
];

const FASTAPI_ROUTE_METHODS: &[&str] = &[
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "api_route",
    "websocket",
];
const FLASK_ROUTE_METHODS: &[&str] = &["route", "get", "post", "put", "patch", "delete"];

/// Decorators that make a request handler on their own.
pub const ROUTE_DECORATOR_FUNCTIONS: &[&str] = &[
    "rest_framework.decorators.api_view",
    "@nestjs/common.Get",
    "@nestjs/common.Post",
    "@nestjs/common.Put",
    "@nestjs/common.Patch",
    "@nestjs/common.Delete",
    "@nestjs/common.All",
    "@nestjs/common.Head",
    "@nestjs/common.Options",
];

const EXPRESS_METHODS: &[&str] = &[
    "use", "all", "get", "post", "put", "patch", "delete", "head", "options", "on",
];
const FASTIFY_METHODS: &[&str] = &[
    "addHook", "route", "all", "get", "post", "put", "patch", "delete", "head", "options",
];

/// Limiter options whose string value names the key rather than being
/// it: django-ratelimit's `key="ip"` / `key="header:x-forwarded-for"`.
pub const NAMED_KEY_OPTIONS: &[(&str, &str)] = &[
    ("django_ratelimit.decorators.ratelimit()", "key"),
    ("django_ratelimit.core.is_ratelimited()", "key"),
    ("django_ratelimit.core.get_usage()", "key"),
    ("ratelimit.decorators.ratelimit()", "key"),
    ("ratelimit.core.is_ratelimited()", "key"),
];

/// The address a named key reads (django-ratelimit 4: `ip` is
/// `REMOTE_ADDR`, or the `RATELIMIT_IP_META_KEY` setting, which the
/// project's proxy handling covers).
pub fn named_key_addr(name: &str) -> Option<Addr> {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "ip" => Some(Addr::Peer),
        _ => header_addr(lower.strip_prefix("header:")?)
            .or_else(|| lower.strip_prefix("header:").and_then(header_addr)),
    }
}

/// Unbound names that make a keyed container in process memory when
/// called.
pub const CONTAINER_BUILTINS: &[&str] = &["Map", "dict", "Set", "set"];

/// Library constructors of keyed containers in process memory (call
/// results), bounded caches included: they still reset on deploy and are
/// per process.
pub const CONTAINER_CONSTRUCTORS: &[&str] = &[
    "collections.defaultdict()",
    "collections.OrderedDict()",
    "collections.Counter()",
    "cachetools.TTLCache()",
    "cachetools.LRUCache()",
    "cachetools.LFUCache()",
    "cachetools.FIFOCache()",
    "cachetools.RRCache()",
    "cachetools.TLRUCache()",
    "expiringdict.ExpiringDict()",
    "lru-cache()",
    "lru-cache.LRUCache()",
    "lru-cache.LRU()",
    "quick-lru()",
    "node-cache()",
    "@isaacs/ttlcache()",
];

/// Methods that build an instance: state they make lives with it.
pub const CONSTRUCTOR_NAMES: &[&str] = &["__init__", "constructor"];

/// Names of the 429 status and of library exceptions that answer it
/// without headers (`status.HTTP_429_TOO_MANY_REQUESTS`,
/// `StatusCodes.TOO_MANY_REQUESTS`, werkzeug's `TooManyRequests`). Limiter
/// libraries' own errors (`RateLimitExceeded`, `Throttled`) are answered
/// by the library, with its headers.
pub const STATUS_429_NAMES: &[&str] = &[
    "TOO_MANY_REQUESTS",
    "HTTP_429_TOO_MANY_REQUESTS",
    "TooManyRequests",
    "HTTPTooManyRequests",
];

/// A raw status line that answers 429 (WSGI `start_response("429 Too
/// Many Requests", headers)`).
pub fn is_status_line_429(text: &str) -> bool {
    text.get(..12)
        .is_some_and(|head| head.eq_ignore_ascii_case("429 too many"))
}

/// Calls that name a status or exception to handle (`errorhandler(429)`),
/// not answer it.
pub const ERROR_HANDLER_REGISTRATIONS: &[&str] = &[
    "errorhandler",
    "register_error_handler",
    "exception_handler",
    "add_exception_handler",
];

/// Options of limiter libraries whose function the library calls to
/// answer a limited request, after setting its own headers
/// (express-rate-limit `handler`, @fastify/rate-limit
/// `errorResponseBuilder`, `onLimitReached`).
pub const LIBRARY_REJECTION_CALLBACKS: &[&str] =
    &["handler", "errorResponseBuilder", "onLimitReached"];

/// Option names that carry a response's status (`new Response(body, {
/// status: 429 })`, `HTTPException(status_code=429)` is a keyword).
pub const STATUS_OPTIONS: &[&str] = &["status", "statusCode", "status_code"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_hooks_are_on_words_about_refusing() {
        for hook in [
            "params.onExceeded",
            "options.onLimitReached",
            "self.on_limited",
            "onBanReach",
        ] {
            assert!(rejection_hook(hook), "{hook}");
        }
        for other in [
            "ongoing_limit_check",
            "online",
            "params.onRequest",
            "limiter.consume",
        ] {
            assert!(!rejection_hook(other), "{other}");
        }
    }

    #[test]
    fn status_lines_answer_429() {
        assert!(is_status_line_429("429 Too Many Requests"));
        assert!(is_status_line_429("429 TOO MANY REQUESTS"));
        assert!(!is_status_line_429("429"));
        assert!(!is_status_line_429("4290 Too many things"));
    }
}
