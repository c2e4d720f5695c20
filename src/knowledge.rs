//! Framework and library knowledge as data. Extractors and rules consult
//! these tables instead of spelling names inline, so teaching ratecheck a
//! new framework or container type is one edit here.

use crate::facts::{ClientKeyKind, Framework};

/// Container constructors whose instances can hold per-client state.
pub struct ContainerCtor {
    pub name: &'static str,
    /// Evicts by size or age on its own (still process memory).
    pub bounded: bool,
}

pub const PYTHON_CONTAINER_CTORS: &[ContainerCtor] = &[
    ContainerCtor {
        name: "dict",
        bounded: false,
    },
    ContainerCtor {
        name: "defaultdict",
        bounded: false,
    },
    ContainerCtor {
        name: "Counter",
        bounded: false,
    },
    ContainerCtor {
        name: "OrderedDict",
        bounded: false,
    },
    ContainerCtor {
        name: "deque",
        bounded: false,
    },
    ContainerCtor {
        name: "list",
        bounded: false,
    },
    ContainerCtor {
        name: "set",
        bounded: false,
    },
    ContainerCtor {
        name: "WeakValueDictionary",
        bounded: false,
    },
    // cachetools
    ContainerCtor {
        name: "TTLCache",
        bounded: true,
    },
    ContainerCtor {
        name: "LRUCache",
        bounded: true,
    },
    ContainerCtor {
        name: "LFUCache",
        bounded: true,
    },
    ContainerCtor {
        name: "FIFOCache",
        bounded: true,
    },
    ContainerCtor {
        name: "RRCache",
        bounded: true,
    },
    ContainerCtor {
        name: "TLRUCache",
        bounded: true,
    },
    ContainerCtor {
        name: "ExpiringDict",
        bounded: true,
    },
];

pub const JS_CONTAINER_CTORS: &[ContainerCtor] = &[
    ContainerCtor {
        name: "Map",
        bounded: false,
    },
    ContainerCtor {
        name: "Set",
        bounded: false,
    },
    ContainerCtor {
        name: "Array",
        bounded: false,
    },
    ContainerCtor {
        name: "Object",
        bounded: false,
    },
    // lru-cache, quick-lru, node-cache, ttlcache
    ContainerCtor {
        name: "LRUCache",
        bounded: true,
    },
    ContainerCtor {
        name: "LRU",
        bounded: true,
    },
    ContainerCtor {
        name: "QuickLRU",
        bounded: true,
    },
    ContainerCtor {
        name: "NodeCache",
        bounded: true,
    },
    ContainerCtor {
        name: "TTLCache",
        bounded: true,
    },
];

pub fn container_ctor(
    table: &'static [ContainerCtor],
    name: &str,
) -> Option<&'static ContainerCtor> {
    table.iter().find(|c| c.name == name)
}

/// Identifiers that, as written in source, name the caller. Checked on the
/// last segment of attribute chains and on header strings, lower-cased.
pub const PEER_ADDRESS_NAMES: &[&str] = &[
    "remote_addr",
    "remoteaddress",
    "remote_address",
    "get_remote_address",
    "get_ipaddr",
];

pub const FORWARDED_HEADER_NAMES: &[&str] = &[
    "x-forwarded-for",
    "http_x_forwarded_for",
    "x_forwarded_for",
    "x-real-ip",
    "http_x_real_ip",
    "x_real_ip",
    "access_route",
    "forwarded",
    "cf-connecting-ip",
    "http_cf_connecting_ip",
    "true-client-ip",
    "x-client-ip",
];

pub const IDENTITY_NAMES: &[&str] = &[
    "x-api-key",
    "http_x_api_key",
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "http_authorization",
    "user_id",
    "userid",
    "username",
    "user_name",
    "email",
    "client_id",
    "clientid",
    "account_id",
    "accountid",
    "tenant_id",
    "tenantid",
    "token",
    "access_token",
    "session_id",
    "sessionid",
];

/// Local variable or parameter names that by themselves say "client key".
pub const CLIENT_LIKE_VARIABLES: &[&str] = &[
    "ip",
    "ip_addr",
    "ip_address",
    "ipaddress",
    "ipaddr",
    "client_ip",
    "clientip",
    "remote_ip",
    "remoteip",
    "remote_addr",
    "remoteaddr",
    "remote_address",
    "caller_ip",
    "source_ip",
    "sourceip",
    "requester_ip",
    "user_ip",
    "userip",
    "client_addr",
    "client_address",
    "forwarded_for",
    "forwardedfor",
    "user_id",
    "userid",
    "uid",
    "username",
    "user_name",
    "login",
    "email",
    "api_key",
    "apikey",
    "client_id",
    "clientid",
    "account_id",
    "accountid",
    "tenant_id",
    "tenantid",
    "token",
    "api_token",
    "apitoken",
    "identity",
    "identifier",
    "client_key",
    "clientkey",
    "rate_key",
    "ratekey",
    "bucket_key",
    "limit_key",
    "limiter_key",
    "throttle_key",
    "caller",
    "requester",
];

/// Classify a lower-cased identifier, attribute name or header string.
pub fn client_key_kind(word: &str) -> Option<ClientKeyKind> {
    let w = word.trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
    if PEER_ADDRESS_NAMES.contains(&w) {
        Some(ClientKeyKind::PeerAddress)
    } else if FORWARDED_HEADER_NAMES.contains(&w) {
        Some(ClientKeyKind::ForwardedHeader)
    } else if IDENTITY_NAMES.contains(&w) {
        Some(ClientKeyKind::Identity)
    } else {
        None
    }
}
/// `clientIp`, `client_ip` and `CLIENT_IP` all match `client_ip`. Called
/// for every identifier in key positions, so it compares without
/// allocating: both sides lower-cased with underscores dropped.
pub fn is_client_like_variable(name: &str) -> bool {
    let mut buf = [0u8; 32];
    let mut len = 0;
    for b in name.bytes().filter(|b| *b != b'_') {
        if len == buf.len() || !b.is_ascii() {
            return false;
        }
        buf[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let normalized = &buf[..len];
    CLIENT_LIKE_VARIABLES.iter().any(|v| {
        v.len() - v.bytes().filter(|b| *b == b'_').count() == len
            && v.bytes()
                .filter(|b| *b != b'_')
                .eq(normalized.iter().copied())
    })
}

/// Test suites, mocks and fixtures: state there never serves traffic.
/// Judged on the path below the file's project root (see
/// `scope::is_test_file`): `/home/me/test/app` is not a test suite.
pub fn is_test_path(path: &std::path::Path) -> bool {
    crate::scope::is_test_file(path)
}

/// The judgement by names, on a path relative to its project root: a
/// folder named `tests`, `spec`, `__mocks__`…, or a file named like
/// `test_*.py`, `*.spec.ts`, `conftest.py`.
pub fn is_test_relative_path(path: &std::path::Path) -> bool {
    let dir_hit = path.is_relative()
        && path.components().rev().skip(1).any(|c| {
            let c = c.as_os_str().to_string_lossy().to_ascii_lowercase();
            matches!(
                c.as_str(),
                "tests"
                    | "test"
                    | "__tests__"
                    | "__mocks__"
                    | "mocks"
                    | "spec"
                    | "specs"
                    | "testing"
            )
        });
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or("");
    dir_hit
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
        || name == "tests.py"
        || name.contains(".test.")
        || name.contains(".spec.")
        || name.contains(".mock.")
        || stem.starts_with("mock")
}

/// Names that read the clock.
pub const TIME_NAMES: &[&str] = &[
    "time",
    "monotonic",
    "perf_counter",
    "now",
    "utcnow",
    "timestamp",
    "time_ns",
    "monotonic_ns",
    "gettime",
    "hrtime",
];

/// Local variable names that hold a time, a count or a window.
pub const COUNT_OR_TIME_VARIABLES: &[&str] = &[
    "now",
    "ts",
    "timestamp",
    "current_time",
    "currenttime",
    "current",
    "t",
    "start",
    "window_start",
    "windowstart",
    "count",
    "counter",
    "hits",
    "tokens",
    "elapsed",
    "reset",
    "reset_at",
    "resetat",
    "expires",
    "expires_at",
    "expiresat",
    "last",
    "last_seen",
    "lastseen",
    "started",
];

/// An identifier in lower case without punctuation (`is_rate_limited` and
/// `isRateLimited` are both `isratelimited`), for matching words in names.
pub fn squashed(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `rate.?limit|throttl|limiter|slow.?down|brute`, the rules page's
/// pattern for limiter-like identifiers, without a regex engine.
pub fn is_limiter_name(name: &str) -> bool {
    let n = squashed(name);
    n.contains("ratelimit")
        || n.contains("throttl")
        || n.contains("limiter")
        || n.contains("slowdown")
        || n.contains("brute")
        // Lockouts count failed logins per client.
        || n.contains("loginattempt")
        || n.contains("failedlogin")
        || n.contains("lockout")
}

/// Python decorators (last attribute name) that make a function a request
/// handler or hook.
pub const PY_REQUEST_DECORATORS: &[&str] = &[
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "api_route",
    "websocket",
    "before_request",
    "before_app_request",
    "after_request",
    "middleware",
    "api_view",
    "action",
    "require_http_methods",
    "require_GET",
    "require_POST",
];

/// Methods that frameworks call per request on middleware and view classes.
pub const PY_REQUEST_METHODS: &[&str] = &[
    "dispatch",
    "process_request",
    "process_view",
    "allow_request",
    "__call__",
];

/// Modules whose `request` object is a per-request global (Flask & co.).
pub const PY_GLOBAL_REQUEST_MODULES: &[&str] = &["flask", "quart", "werkzeug", "bottle"];

/// Exported function names that are Next.js / SvelteKit-style route handlers.
pub const JS_HTTP_METHOD_EXPORTS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ALL",
];

/// Parameter names that carry the request in JS/TS handlers and middleware.
pub const JS_REQUEST_PARAMS: &[&str] = &["req", "request", "ctx"];

/// JS member-call names that register a handler or middleware.
pub const JS_REGISTRATION_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "del", "all", "head", "options", "use", "route",
    "addHook", "on", "handle",
];

/// Call names that are builtins or library methods, never a project's own
/// rate-limit helpers; call sites to them are not recorded.
pub const NEVER_PROJECT_HELPERS: &[&str] = &[
    // JavaScript
    "log",
    "warn",
    "error",
    "debug",
    "info",
    "push",
    "pop",
    "shift",
    "unshift",
    "slice",
    "splice",
    "map",
    "filter",
    "forEach",
    "reduce",
    "find",
    "some",
    "every",
    "includes",
    "indexOf",
    "join",
    "split",
    "concat",
    "replace",
    "toString",
    "toLowerCase",
    "toUpperCase",
    "trim",
    "startsWith",
    "endsWith",
    "substring",
    "substr",
    "charAt",
    "charCodeAt",
    "hasOwnProperty",
    "keys",
    "values",
    "entries",
    "assign",
    "freeze",
    "defineProperty",
    "create",
    "isArray",
    "then",
    "catch",
    "finally",
    "resolve",
    "reject",
    "call",
    "apply",
    "bind",
    "require",
    "parseInt",
    "parseFloat",
    "stringify",
    "parse",
    "floor",
    "ceil",
    "round",
    "max",
    "min",
    "abs",
    "now",
    "setTimeout",
    "clearTimeout",
    "Symbol",
    "Number",
    "String",
    "Boolean",
    "Array",
    "Object",
    "Promise",
    "Error",
    "TypeError",
    // Python
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "dict",
    "set",
    "tuple",
    "print",
    "isinstance",
    "issubclass",
    "getattr",
    "setattr",
    "hasattr",
    "range",
    "enumerate",
    "zip",
    "sorted",
    "super",
    "append",
    "extend",
    "format",
    "strip",
    "lower",
    "upper",
    "startswith",
    "endswith",
    "items",
    "repr",
    "type",
    "iter",
    "next",
    "open",
    "any",
    "all",
    "sum",
];

/// Store client commands a limiter sends (Redis, Memcached, Django cache).
pub const STORE_COMMANDS: &[&str] = &[
    "incr",
    "incrby",
    "decr",
    "decrby",
    "get",
    "set",
    "setex",
    "setnx",
    "add",
    "expire",
    "pexpire",
    "ttl",
    "pttl",
    "zadd",
    "zcard",
    "zcount",
    "zremrangebyscore",
    "zrange",
    "hincrby",
    "hget",
    "hset",
    "lpush",
    "rpush",
    "llen",
    "ltrim",
    "eval",
    "evalsha",
    "execute",
    "exec",
    "get_or_set",
    "touch",
];

/// Modules whose clients talk to a shared store, and the callables that
/// build a client (last name).
pub const STORE_CLIENT_MODULES: &[&str] = &[
    "redis",
    "aioredis",
    "valkey",
    "pymemcache",
    "django_redis",
    "ioredis",
    "@upstash/redis",
    "@redis/client",
    "memjs",
];
pub const STORE_CLIENT_CONSTRUCTORS: &[&str] = &[
    "Redis",
    "StrictRedis",
    "from_url",
    "RedisCluster",
    "Cluster",
    "Client",
    "HashClient",
    "PooledClient",
    "get_redis_connection",
    "createClient",
    "createCluster",
    "fromEnv",
];

/// Is this receiver text a store client by its name (`app.state.redis`)?
pub fn named_like_store(receiver: &str) -> bool {
    let last = receiver
        .rsplit(['.', ']'])
        .next()
        .unwrap_or(receiver)
        .to_ascii_lowercase();
    last.contains("redis") || last.contains("memcache") || last == "valkey"
}

/// Which framework a module import means.
pub const PY_FRAMEWORK_MODULES: &[(&str, Framework)] = &[
    ("flask", Framework::Flask),
    ("quart", Framework::Flask),
    ("fastapi", Framework::FastApi),
    ("starlette", Framework::Starlette),
    ("django", Framework::Django),
    ("rest_framework", Framework::Django),
];

pub const JS_FRAMEWORK_MODULES: &[(&str, Framework)] = &[
    ("express", Framework::Express),
    ("koa", Framework::Koa),
    ("@koa/router", Framework::Koa),
    ("koa-router", Framework::Koa),
    ("fastify", Framework::Fastify),
    ("next/server", Framework::NextJs),
    ("next", Framework::NextJs),
    ("hono", Framework::Hono),
    ("@nestjs/common", Framework::NestJs),
    ("@nestjs/core", Framework::NestJs),
];

/// How a limiter library is set up in code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupForm {
    /// `Limiter(...)`, `rateLimit({...})`, `new RateLimiterMemory({...})`.
    Construct,
    /// `fastify.register(plugin, {...})`.
    FastifyPlugin,
    /// `ThrottlerModule.forRoot(...)`.
    NestForRoot,
}

/// When a library setup keeps its counters in process memory.
#[derive(Debug, Clone, Copy)]
pub enum MemoryWhen {
    /// No option naming a store, or one whose value is an in-memory store;
    /// unless the project sets one of `config_names` anywhere.
    NoStore {
        store_options: &'static [&'static str],
        memory_values: &'static [&'static str],
        config_names: &'static [&'static str],
    },
    /// An option is set to a literal value (`driver: 'memory'`).
    OptionIs {
        option: &'static str,
        value: &'static str,
    },
    /// The class is an in-process store (unless used as insurance).
    Always,
    /// The first argument is a storage URI with a memory scheme.
    MemoryUri,
    /// A shared store by construction.
    Never,
    /// The first argument is the store unless it names one of these
    /// (`Limiter(Rate(...))` builds an in-memory bucket; `Limiter(RedisBucket…)`).
    FirstArgWithout(&'static [&'static str]),
}

/// What a library does when its store fails, and what decides it.
#[derive(Debug, Clone, Copy)]
pub enum FailurePolicy {
    /// Store errors fail the request unless one of `options` is set (or
    /// one of `config_names` appears anywhere in the project).
    UnlessOption {
        options: &'static [&'static str],
        config_names: &'static [&'static str],
        /// What users see when the store is down.
        outcome: &'static str,
        fix: &'static str,
    },
    /// `consume()` rejects with an `Error` on store failure and with a
    /// result object on a limit: handlers must tell them apart.
    ConsumeRejects,
    /// Nothing to judge: an in-process store, or no option to choose.
    None,
}

/// A rate-limiter library ratecheck knows, with the version whose source
/// was read to get it right (docs/research/).
pub struct LimiterLibrary {
    pub package: &'static str,
    pub python: bool,
    /// Import sources: Python modules or npm packages (current and former
    /// package names).
    pub modules: &'static [&'static str],
    /// Imported names that set it up; `"default"` is a default import, a
    /// `require`, or the module object itself.
    pub exports: &'static [&'static str],
    pub form: SetupForm,
    pub memory: MemoryWhen,
    /// The change that moves the counters to a shared store.
    pub fix: &'static str,
    pub failure: FailurePolicy,
    pub version_checked: &'static str,
}

const MEMORY_URIS: &[&str] = &["memory://", "async+memory://"];

pub const LIMITER_LIBRARIES: &[LimiterLibrary] = &[
    LimiterLibrary {
        package: "flask-limiter",
        python: true,
        modules: &["flask_limiter"],
        exports: &["Limiter"],
        form: SetupForm::Construct,
        memory: MemoryWhen::NoStore {
            store_options: &["storage_uri"],
            memory_values: MEMORY_URIS,
            config_names: &["RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_URL"],
        },
        fix: "pass a shared store: `storage_uri=\"redis://…\"` (or set `RATELIMIT_STORAGE_URI` in the app config)",
        failure: FailurePolicy::UnlessOption {
            options: &["swallow_errors", "in_memory_fallback_enabled", "in_memory_fallback"],
            config_names: &["RATELIMIT_SWALLOW_ERRORS", "RATELIMIT_IN_MEMORY_FALLBACK", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"],
            outcome: "every rate-limited request fails with a 500 while the storage is unreachable",
            fix: "decide the outage policy: `in_memory_fallback_enabled=True` (keep limiting per process) or `swallow_errors=True` (let requests through), and alert on storage errors",
        },
        version_checked: "4.1.1",
    },
    LimiterLibrary {
        package: "slowapi",
        python: true,
        modules: &["slowapi"],
        exports: &["Limiter"],
        form: SetupForm::Construct,
        memory: MemoryWhen::NoStore {
            store_options: &["storage_uri"],
            memory_values: MEMORY_URIS,
            config_names: &["RATELIMIT_STORAGE_URL", "RATELIMIT_STORAGE_URI"],
        },
        fix: "pass a shared store: `storage_uri=\"redis://…\"` (or set `RATELIMIT_STORAGE_URL` in the environment)",
        failure: FailurePolicy::UnlessOption {
            // `swallow_errors=True` still ends in a 500 in slowapi 0.1.10.
            options: &["in_memory_fallback_enabled", "in_memory_fallback"],
            config_names: &["RATELIMIT_IN_MEMORY_FALLBACK", "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"],
            outcome: "every rate-limited request fails with a 500 while the storage is unreachable",
            fix: "add `in_memory_fallback_enabled=True` (slowapi 0.1.10 still answers 500 with only `swallow_errors=True`), and alert on storage errors",
        },
        version_checked: "0.1.10",
    },
    LimiterLibrary {
        package: "limits",
        python: true,
        modules: &["limits"],
        exports: &["MemoryStorage"],
        form: SetupForm::Construct,
        memory: MemoryWhen::Always,
        fix: "use a shared storage: `storage_from_string(\"redis://…\")` or `RedisStorage(\"redis://…\")`",
        failure: FailurePolicy::None,
        version_checked: "5.8.0",
    },
    LimiterLibrary {
        package: "limits",
        python: true,
        modules: &["limits"],
        exports: &["storage_from_string"],
        form: SetupForm::Construct,
        memory: MemoryWhen::MemoryUri,
        fix: "use a shared storage URI: `storage_from_string(\"redis://…\")` (`async+redis://…` with the async API)",
        failure: FailurePolicy::None,
        version_checked: "5.8.0",
    },
    LimiterLibrary {
        // fastapi-limiter 0.2 wraps a pyrate-limiter `Limiter`, which is
        // also used to pace outgoing calls: judged only where requests are
        // served (see RATE002).
        package: "pyrate-limiter",
        python: true,
        modules: &["pyrate_limiter"],
        exports: &["Limiter"],
        form: SetupForm::Construct,
        memory: MemoryWhen::FirstArgWithout(&["Bucket", "bucket"]),
        fix: "pass a shared bucket: `Limiter(RedisBucket.init(rates, redis_client, \"bucket-key\"))`, and key it per client",
        failure: FailurePolicy::None,
        version_checked: "4.5.1 (fastapi-limiter 0.2.0)",
    },
    LimiterLibrary {
        package: "express-rate-limit",
        python: false,
        modules: &["express-rate-limit"],
        exports: &["default", "rateLimit"],
        form: SetupForm::Construct,
        memory: MemoryWhen::NoStore {
            store_options: &["store"],
            // `ClusterMemoryStoreWorker` shares one host's memory only.
            memory_values: &["MemoryStore", "ClusterMemoryStore"],
            config_names: &[],
        },
        fix: "add a shared store: `store: new RedisStore({ sendCommand: (...args) => client.sendCommand(args) })` from `rate-limit-redis`",
        failure: FailurePolicy::UnlessOption {
            options: &["passOnStoreError"],
            config_names: &[],
            outcome: "a store error becomes a 500 for every request through this limiter",
            fix: "add `passOnStoreError: true` (express-rate-limit ≥ 7.4) to let requests through while the store is down (fail open), and alert on store errors",
        },
        version_checked: "8.7.4",
    },
    LimiterLibrary {
        package: "express-slow-down",
        python: false,
        modules: &["express-slow-down"],
        exports: &["default", "slowDown"],
        form: SetupForm::Construct,
        memory: MemoryWhen::NoStore {
            store_options: &["store"],
            memory_values: &["MemoryStore"],
            config_names: &[],
        },
        fix: "add a shared store: `store: new RedisStore({ sendCommand: … })` from `rate-limit-redis`",
        failure: FailurePolicy::UnlessOption {
            options: &["passOnStoreError"],
            config_names: &[],
            outcome: "a store error becomes a 500 for every request through this limiter",
            fix: "add `passOnStoreError: true` (express-rate-limit ≥ 7.4) to let requests through while the store is down (fail open), and alert on store errors",
        },
        version_checked: "3.1.1",
    },
    LimiterLibrary {
        package: "rate-limiter-flexible",
        python: false,
        modules: &["rate-limiter-flexible"],
        // `RateLimiterCluster` keeps the counters in the primary process.
        exports: &["RateLimiterMemory", "RateLimiterCluster"],
        form: SetupForm::Construct,
        memory: MemoryWhen::Always,
        fix: "use a shared store, e.g. `new RateLimiterRedis({ storeClient: redisClient, points, duration })`, and keep `RateLimiterMemory` as its `insuranceLimiter` if you want a fallback",
        failure: FailurePolicy::None,
        version_checked: "11.4.0",
    },
    LimiterLibrary {
        package: "rate-limiter-flexible",
        python: false,
        modules: &["rate-limiter-flexible"],
        exports: &[
            "RateLimiterRedis",
            "RateLimiterValkey",
            "RateLimiterMemcache",
            "RateLimiterMongo",
            "RateLimiterPostgres",
            "RateLimiterMySQL",
            "RateLimiterDynamo",
            "RateLimiterPrisma",
            "RateLimiterDrizzle",
            "RateLimiterSQLite",
            "RateLimiterEtcd",
        ],
        form: SetupForm::Construct,
        memory: MemoryWhen::Never,
        failure: FailurePolicy::ConsumeRejects,
        fix: "",
        version_checked: "11.4.0",
    },
    LimiterLibrary {
        package: "@fastify/rate-limit",
        python: false,
        modules: &["@fastify/rate-limit", "fastify-rate-limit"],
        exports: &["default"],
        form: SetupForm::FastifyPlugin,
        memory: MemoryWhen::NoStore {
            store_options: &["redis", "store"],
            memory_values: &[],
            config_names: &[],
        },
        fix: "pass a shared store when registering: `{ redis: new Redis(…) }`",
        failure: FailurePolicy::UnlessOption {
            options: &["skipOnError"],
            config_names: &[],
            outcome: "a store error becomes a 500 on every rate-limited route",
            fix: "add `skipOnError: true` to let requests through while the store is down (fail open), and alert on store errors",
        },
        version_checked: "11.2.0",
    },
    LimiterLibrary {
        package: "@nestjs/throttler",
        python: false,
        modules: &["@nestjs/throttler"],
        exports: &["ThrottlerModule"],
        form: SetupForm::NestForRoot,
        memory: MemoryWhen::NoStore {
            store_options: &["storage"],
            memory_values: &[],
            config_names: &[],
        },
        fix: "use the object form with a shared storage: `ThrottlerModule.forRoot({ throttlers: [...], storage: new ThrottlerStorageRedisService(redis) })`",
        failure: FailurePolicy::None,
        version_checked: "6.7.1",
    },
    LimiterLibrary {
        package: "koa-ratelimit",
        python: false,
        modules: &["koa-ratelimit"],
        exports: &["default"],
        form: SetupForm::Construct,
        memory: MemoryWhen::OptionIs {
            option: "driver",
            value: "memory",
        },
        fix: "use `driver: 'redis'` with a shared client: `db: new Redis(…)`",
        failure: FailurePolicy::None,
        version_checked: "6.0.0",
    },
    LimiterLibrary {
        package: "hono-rate-limiter",
        python: false,
        modules: &["hono-rate-limiter"],
        exports: &["rateLimiter"],
        form: SetupForm::Construct,
        memory: MemoryWhen::NoStore {
            store_options: &["store", "binding"],
            memory_values: &["MemoryStore"],
            config_names: &[],
        },
        fix: "add a shared `store` (a Redis store for hono-rate-limiter), or a Cloudflare rate-limit `binding`",
        failure: FailurePolicy::None,
        version_checked: "0.5.4",
    },
];

/// Is an option's value (as written) one of a library's memory stores?
/// URIs count only as string literals (`os.getenv("X", "memory://")` is
/// not known to be memory); store classes by name (`new MemoryStore()`).
pub fn is_memory_store_value(value: &str, memory_values: &[&str]) -> bool {
    let v = value.trim();
    let quoted = v.starts_with(['"', '\'', '`']);
    memory_values.iter().any(|m| {
        if m.contains("://") {
            quoted && v.trim_start_matches(['"', '\'', '`']).starts_with(m)
        } else {
            v.contains(m)
        }
    })
}

/// The library an imported name sets up: `module` and the imported
/// member (`None` for a default import or the module object).
pub fn limiter_library(python: bool, module: &str, member: Option<&str>) -> Option<usize> {
    let export = member.unwrap_or("default");
    LIMITER_LIBRARIES.iter().position(|lib| {
        lib.python == python
            && lib.modules.iter().any(|m| {
                module == *m
                    || (python && module.starts_with(m) && module[m.len()..].starts_with('.'))
            })
            && lib.exports.contains(&export)
    })
}

/// How to add `Retry-After` to a 429, per framework.
pub fn retry_after_fix(framework: Option<Framework>, python: bool) -> &'static str {
    match framework {
        Some(Framework::Flask) => {
            "send the wait with the 429: `return jsonify(error=\"rate limited\"), 429, {\"Retry-After\": str(seconds_left)}`"
        }
        Some(Framework::FastApi) | Some(Framework::Starlette) => {
            "send the wait with the 429: `JSONResponse(…, status_code=429, headers={\"Retry-After\": str(seconds_left)})`"
        }
        Some(Framework::Django) => {
            "send the wait with the 429: `response = JsonResponse(…, status=429); response[\"Retry-After\"] = str(seconds_left)`"
        }
        Some(Framework::Express) | Some(Framework::NestJs) => {
            "send the wait with the 429: `res.set('Retry-After', String(secondsLeft))` before `res.status(429)`"
        }
        Some(Framework::Koa) => "send the wait with the 429: `ctx.set('Retry-After', String(secondsLeft))`",
        Some(Framework::Fastify) => "send the wait with the 429: `reply.header('retry-after', secondsLeft)`",
        Some(Framework::NextJs) | Some(Framework::Hono) => {
            "send the wait with the 429: `new Response(body, { status: 429, headers: { 'Retry-After': String(secondsLeft) } })`"
        }
        None if python => "send a `Retry-After` header (seconds until the window resets) with the 429",
        None => "send a `Retry-After` header (seconds until the window resets) with the 429",
    }
}

/// The shared-store fix for in-memory limiter state, per framework.
pub fn shared_store_fix(framework: Option<Framework>, python: bool) -> &'static str {
    match framework {
        Some(Framework::Flask) => {
            "use flask-limiter with a shared store: `Limiter(key_func, app=app, storage_uri=\"redis://…\")`"
        }
        Some(Framework::FastApi) => {
            "use slowapi with a shared store (`Limiter(key_func=…, storage_uri=\"redis://…\")`) or fastapi-limiter on Redis"
        }
        Some(Framework::Starlette) => {
            "use slowapi with a shared store (`Limiter(key_func=…, storage_uri=\"redis://…\")`), or keep the counters in Redis"
        }
        Some(Framework::Django) => {
            "use django-ratelimit or DRF throttling on a shared cache (`CACHES` with `django.core.cache.backends.redis.RedisCache`)"
        }
        Some(Framework::Express) => {
            "use express-rate-limit with a shared store: `rateLimit({ store: new RedisStore({ sendCommand: … }) })` from `rate-limit-redis`"
        }
        Some(Framework::Koa) => "use koa-ratelimit with `driver: 'redis'` and a shared Redis client",
        Some(Framework::Fastify) => {
            "register @fastify/rate-limit with a shared store: `fastify.register(rateLimit, { redis: new Redis(…) })`"
        }
        Some(Framework::NextJs) | Some(Framework::Hono) => {
            "keep counters in a shared store, e.g. `@upstash/ratelimit` with `Redis.fromEnv()`; instances and serverless invocations do not share memory"
        }
        Some(Framework::NestJs) => {
            "configure @nestjs/throttler with a shared `storage` (e.g. a Redis throttler storage)"
        }
        None if python => {
            "keep the counters in a shared store such as Redis (`INCR` and `EXPIRE` in one `MULTI` or a Lua script), or use the `limits` package with a Redis storage"
        }
        None => {
            "keep the counters in a shared store such as Redis, e.g. rate-limiter-flexible's `RateLimiterRedis`"
        }
    }
}

/// A call that records an event: a logger (`logger.warning`, `console.warn`,
/// `req.log.info`, structlog), an audit row or emitted event, a metric
/// (`.inc()`, `.increment()`, `counter.add(1, …)`, statsd / prometheus
/// receivers) or Sentry's `capture_*`. `first_arg_is_number`: `.add(1, …)`
/// is an OpenTelemetry counter, `.add(key)` is not.
pub fn call_records_event(callee_text: &str, first_arg_is_number: bool) -> bool {
    let lower = callee_text.to_ascii_lowercase();
    let (receiver, method) = lower.rsplit_once('.').unwrap_or(("", lower.as_str()));
    let logs = receiver.contains("log")
        || receiver.contains("console")
        || receiver.starts_with("structlog")
        // An audit row or an event a listener logs also records it.
        || receiver.contains("audit")
        || method.contains("audit")
        || method.ends_with("event")
        || method == "emit";
    let metric_receiver = [
        "metric",
        "statsd",
        "counter",
        "stats",
        "prom",
        "histogram",
        "meter",
    ]
    .iter()
    .any(|w| receiver.contains(w));
    // `.inc()` / `.increment()` are counters whatever the variable's name.
    let counts = matches!(method, "inc" | "increment")
        || (method == "add" && first_arg_is_number)
        || (metric_receiver && ["incr", "add", "observe", "record", "labels"].contains(&method));
    let sentry = method.starts_with("capture_")
        || method.starts_with("capturemessage")
        || method.starts_with("captureexception");
    logs || counts || sentry
}

/// A call that asks a limiter (`limiter.allow(…)`, `bucket.consume()`,
/// `rate_limit(…)`).
pub fn call_asks_limiter(callee_text: &str) -> bool {
    let lower = callee_text.to_ascii_lowercase();
    let method = lower.rsplit_once('.').map_or(lower.as_str(), |(_, m)| m);
    is_limiter_name(method)
        || matches!(
            method,
            "allow"
                | "is_allowed"
                | "isallowed"
                | "allow_request"
                | "consume"
                | "hit"
                | "check_limit"
                | "checklimit"
        )
}

/// A rejection's text says why: "rate limit", "too many requests", "slow
/// down", "quota", "try again".
pub fn says_rate_limit(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "rate limit",
        "rate-limit",
        "ratelimit",
        "too many",
        "slow down",
        "quota",
        "throttl",
        "try again",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// An exception class by its name (`RateLimitExceeded`, `ThrottleError`,
/// `TooManyRequestsException`): a 429 set inside it is answered where it
/// is raised.
pub fn is_error_class_name(name: &str) -> bool {
    name.ends_with("Exception") || name.ends_with("Error") || name.ends_with("Exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_names_follow_the_rules_page_pattern() {
        for yes in [
            "rate_limit",
            "RateLimiter",
            "throttle",
            "check_rate-limit",
            "slowDown",
            "bruteForce",
            "limiter",
        ] {
            assert!(is_limiter_name(yes), "{yes}");
        }
        for no in ["limit", "rate", "cache", "slow"] {
            assert!(!is_limiter_name(no), "{no}");
        }
    }

    #[test]
    fn test_paths() {
        use std::path::Path;
        for yes in [
            "tests/test_limits.py",
            "app/__tests__/x.ts",
            "src/limiter.test.ts",
            "a/conftest.py",
            "web/mockRateLimiter.js",
            "pkg/limits_test.py",
        ] {
            assert!(is_test_path(Path::new(yes)), "{yes}");
        }
        for no in [
            "/home/me/test/app/limiter.py",
            "app/limiter.py",
            "src/contest.js",
            "testimonials/views.py",
            "src/latest.ts",
        ] {
            assert!(!is_test_path(Path::new(no)), "{no}");
        }
    }

    #[test]
    fn client_like_variables_accept_camel_case() {
        assert!(is_client_like_variable("clientIp"));
        assert!(is_client_like_variable("ip"));
        assert!(is_client_like_variable("userId"));
        assert!(!is_client_like_variable("host"));
        assert!(!is_client_like_variable("url"));
    }
}
