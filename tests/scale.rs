//! Time must be linear in the number of functions of one file (issues 13
//! and 14). A generated Flask or Express file whose every view reads the
//! client address and counts it in one shared dict or Map once took over
//! ten minutes for 1 MB: RATE003 counted the lines before every key for
//! every earlier finding, and each 429 scanned all of its file's state
//! accesses. Here the whole pipeline runs on N and on 4N such views; a
//! linear run costs about 4x, the defects above cost 16x or more.

use ratecheck::engine::lint_sources;
use std::time::{Duration, Instant};

fn python_views(n: usize) -> String {
    let mut s = String::from(
        "import redis\nfrom flask import Flask, abort, request\n\napp = Flask(__name__)\nhits = {}\nr = redis.Redis()\n",
    );
    for i in 0..n {
        s += &format!(
            r#"

@app.route("/route{i}", methods=["POST"])
def handler{i}():
    ip = request.remote_addr
    key = f"rl:{i}:{{ip}}"
    hits[key] = hits.get(key, 0) + 1
    if hits[key] > 10:
        abort(429)
    return {{"limit": {i}}}


def store{i}(req):
    count = r.incr(f"count:{i}:{{req.remote_addr}}")
    if count == 1:
        r.expire(f"count:{i}:{{req.remote_addr}}", 60)
    return count
"#
        );
    }
    s
}

fn javascript_views(n: usize) -> String {
    let mut s = String::from(
        "const express = require('express');\nconst app = express();\nconst hits = new Map();\n",
    );
    for i in 0..n {
        s += &format!(
            r#"
function handler{i}(req, res, next) {{
  const key = `rl:{i}:${{req.ip}}`;
  const n = (hits.get(key) || 0) + 1;
  hits.set(key, n);
  if (n > 10) {{
    return res.status(429).send('slow down');
  }}
  next();
}}
app.get('/route{i}', handler{i});
"#
        );
    }
    s
}

fn timed(path: &str, text: &str) -> (Duration, usize) {
    let start = Instant::now();
    let findings = lint_sources(&[(path, text)]);
    (start.elapsed(), findings.len())
}

fn assert_linear(path: &str, make: fn(usize) -> String) {
    const N: usize = 300;
    // Best of two: a busy machine only ever makes a run slower.
    let small = (0..2).map(|_| timed(path, &make(N))).min().unwrap();
    let large = (0..2).map(|_| timed(path, &make(4 * N))).min().unwrap();
    assert!(
        large.1 >= 4 * N,
        "{path}: every view should have findings ({} for {} views)",
        large.1,
        4 * N
    );
    // Linear is 4x; allow for fixed costs and noise, not for 16x.
    let ratio = large.0.as_secs_f64() / small.0.as_secs_f64().max(1e-3);
    assert!(
        ratio < 8.0,
        "{path}: {N} views took {:?}, {} took {:?} ({ratio:.1}x)",
        small.0,
        4 * N,
        large.0
    );
}

#[test]
fn one_file_with_many_views_costs_linear_time() {
    // The quadratic runs took minutes here: fail after two instead of
    // holding the suite until CI's own timeout.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| {
            assert_linear("app.py", python_views);
            assert_linear("app.js", javascript_views);
        });
        let _ = done.send(outcome);
    });
    match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("1,200 views in one file took over two minutes"),
    }
}
