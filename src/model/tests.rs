//! Model tests without rules: small multi-file projects in both languages,
//! asserting the roles a named local ends up with.

use super::*;
use crate::lang::Lang;
use crate::lower::lower_text;
use std::path::Path;

fn project(files: &[(&str, &str)]) -> Vec<Module> {
    files
        .iter()
        .map(|(path, src)| {
            let lang = Lang::from_path(Path::new(path)).expect("a source path");
            lower_text(lang, Path::new(path), src).expect("parses")
        })
        .collect()
}

/// The address forms local `var` of function `func` in module `path` holds.
fn addrs(model: &Model, path: &str, func: &str, var: &str) -> Vec<Addr> {
    let (mi, module) = model
        .modules
        .iter()
        .enumerate()
        .find(|(_, m)| m.path == Path::new(path))
        .expect("module");
    let fi = module
        .functions
        .iter()
        .position(|f| f.name.as_deref() == Some(func))
        .unwrap_or_else(|| panic!("no function {func} in {path}:\n{}", dump(module)));
    let mut out: Vec<Addr> = model
        .slot(&Slot::Local(
            ModId(mi as u32),
            FuncId(fi as u32),
            var.to_string(),
        ))
        .iter()
        .filter_map(|r| match r {
            Role::Addr(a, _) => Some(*a),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

#[test]
fn python_leftmost_forwarded_through_a_helper_in_another_module() {
    let modules = project(&[
        (
            "app/util.py",
            "def client_ip(req):\n    fwd = req.headers.get('X-Forwarded-For', '')\n    return fwd.split(',')[0].strip() or req.remote_addr\n",
        ),
        (
            "app/views.py",
            "from flask import request\nfrom .util import client_ip\n\ndef login():\n    key = f\"rl:{client_ip(request)}\"\n    return key\n",
        ),
    ]);
    let model = Model::build(modules.clone());
    assert_eq!(
        addrs(&model, "app/views.py", "login", "key"),
        vec![Addr::Peer, Addr::ForwardedLeftmost]
    );
}

#[test]
fn python_instance_attribute_and_imported_instance() {
    let modules = project(&[
        (
            "svc/limiter.py",
            "import redis\n\nclass Limiter:\n    def __init__(self, url):\n        self.r = redis.Redis.from_url(url)\n\n    def allow(self, key):\n        store = self.r\n        count = store.incr(key)\n        return count < 10\n\nlimiter = Limiter('redis://')\n",
        ),
        (
            "svc/views.py",
            "from flask import request\nfrom svc.limiter import limiter\n\ndef view():\n    ip = request.access_route[0]\n    ok = limiter.allow(ip)\n    return ok\n",
        ),
    ]);
    let model = Model::build(modules.clone());
    assert_eq!(
        addrs(&model, "svc/limiter.py", "allow", "key"),
        vec![Addr::ForwardedLeftmost],
        "the argument reaches the method's parameter through the imported instance"
    );
    let (mi, module) = (0, &modules[0]);
    let allow = module
        .functions
        .iter()
        .position(|f| f.name.as_deref() == Some("allow"))
        .unwrap();
    assert!(model
        .slot(&Slot::Local(
            ModId(mi),
            FuncId(allow as u32),
            "store".into()
        ))
        .contains(&Role::Store));
}

#[test]
fn javascript_or_chain_of_headers_and_required_helper() {
    let modules = project(&[
        (
            "src/ip.js",
            "function clientIp(req) {\n  const fwd = req.headers['x-forwarded-for'];\n  return fwd ? fwd.split(',')[0].trim() : req.socket.remoteAddress;\n}\nmodule.exports = { clientIp };\n",
        ),
        (
            "src/limit.js",
            "const { clientIp } = require('./ip');\nconst hits = new Map();\nfunction limit(req, res, next) {\n  const key = `rl:${clientIp(req)}`;\n  const ip2 = req.get('X-Real-IP') ?? req.ip;\n  next();\n}\n",
        ),
    ]);
    let model = Model::build(modules.clone());
    assert_eq!(
        addrs(&model, "src/limit.js", "limit", "key"),
        vec![Addr::Peer, Addr::ForwardedLeftmost]
    );
    assert_eq!(
        addrs(&model, "src/limit.js", "limit", "ip2"),
        vec![Addr::ReqIp, Addr::RealIpHeader]
    );
}

#[test]
fn typescript_class_field_store_and_default_import() {
    let modules = project(&[
        (
            "src/redis.ts",
            "import Redis from 'ioredis';\nexport const redis = new Redis(process.env.REDIS_URL);\n",
        ),
        (
            "src/limiter.ts",
            "import { redis } from './redis';\nexport class RateLimiter {\n  private client = redis;\n  async hit(key: string) {\n    const c = this.client;\n    return c.incr(key);\n  }\n}\n",
        ),
    ]);
    let model = Model::build(modules.clone());
    let m = &modules[1];
    let hit = m
        .functions
        .iter()
        .position(|f| f.name.as_deref() == Some("hit"))
        .unwrap();
    assert!(
        model
            .slot(&Slot::Local(ModId(1), FuncId(hit as u32), "c".into()))
            .contains(&Role::Store),
        "{:?}",
        model.slot(&Slot::Local(ModId(1), FuncId(hit as u32), "c".into()))
    );
}

#[test]
fn a_geo_lookup_is_not_an_address_and_unknown_stays_empty() {
    let modules = project(&[(
        "a.py",
        "def view(request):\n    country = lookup(request.remote_addr)\n    other = some_call()\n    return country\n",
    )]);
    let model = Model::build(modules.clone());
    assert!(addrs(&model, "a.py", "view", "country").is_empty());
    assert!(addrs(&model, "a.py", "view", "other").is_empty());
}

#[test]
fn hono_options_spread_from_a_config_module() {
    let modules = project(&[
        (
            "config/limits.ts",
            "import type { Context } from 'hono';\nfunction callerKey(c: Context): string {\n  const chain = c.req.header('x-forwarded-for');\n  if (chain) {\n    const [first] = chain.split(',');\n    return first.trim();\n  }\n  return 'anonymous';\n}\nexport const apiLimits = { limit: 120, keyGenerator: callerKey };\n",
        ),
        (
            "src/app.ts",
            "import { rateLimiter } from 'hono-rate-limiter';\nimport { apiLimits } from '../config/limits';\napp.use('*', rateLimiter({ ...apiLimits, store: s }));\n",
        ),
    ]);
    let model = Model::build(modules.clone());
    assert_eq!(
        addrs(&model, "config/limits.ts", "callerKey", "first"),
        vec![Addr::ForwardedLeftmost]
    );
    let sites = keys::limiter_keys(&model, ModId(1), &Default::default());
    assert_eq!(sites.len(), 1, "{sites:?}");
}

#[test]
fn fastapi_limiter_default_identifier_is_a_default_key() {
    let modules = project(&[(
        "main.py",
        "from fastapi_limiter import FastAPILimiter\nasync def startup():\n    await FastAPILimiter.init(r)\n",
    )]);
    let model = Model::build(modules);
    let sites = keys::default_keys(&model);
    assert_eq!(sites.len(), 1, "{sites:?}");
}

#[test]
fn sets_caches_and_tuple_assigned_dicts_are_process_containers() {
    let modules = project(&[
        (
            "a.js",
            "const LRU = require('lru-cache');\nconst hits = new LRU({ max: 5 });\nconst cooling = new Set();\nconst seen = lookup();\n",
        ),
        (
            "b.py",
            "import redis\nfrom expiringdict import ExpiringDict\nhits = ExpiringDict(max_len=5, max_age_seconds=3)\ncooling = set()\nlog, WINDOW = {}, 60\n",
        ),
    ]);
    let model = Model::build(modules);
    let is_container = |mi: u32, name: &str| {
        model
            .slot(&Slot::Global(ModId(mi), name.to_string()))
            .iter()
            .any(|r| matches!(r, Role::Object(..)))
    };
    for (mi, name) in [
        (0, "hits"),
        (0, "cooling"),
        (1, "hits"),
        (1, "cooling"),
        (1, "log"),
    ] {
        assert!(is_container(mi, name), "{name} in module {mi}");
    }
    assert!(!is_container(0, "seen"));
    assert!(!is_container(1, "WINDOW"));
}

#[test]
fn nestjs_execution_context_hands_over_the_request() {
    let modules = project(&[(
        "g.ts",
        "import { ExecutionContext } from '@nestjs/common';\nexport class G {\n  async canActivate(host: ExecutionContext) {\n    const request = host.switchToHttp().getRequest();\n    const ip = request.ip;\n    return ip;\n  }\n}\n",
    )]);
    let model = Model::build(modules);
    assert_eq!(
        addrs(&model, "g.ts", "canActivate", "ip"),
        vec![Addr::ReqIp]
    );
}
