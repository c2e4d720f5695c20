//! What the CLI test files share.

/// A Flask limiter with exactly one problem, RATE002 (state in process
/// memory): it prunes its state, logs, sends `Retry-After` and sits
/// behind ProxyFix.
pub const FLASK_LIMITER: &str = r#"import time
from flask import Flask, abort, request

app = Flask(__name__)
hits = {}


@app.route("/login", methods=["POST"])
def login():
    ip = request.remote_addr
    hits[ip] = hits.get(ip, 0) + 1
    if hits[ip] > 5:
        app.logger.warning("rate limited %s", ip)
        return "slow down", 429, {"Retry-After": "60"}
    return "ok"


@app.after_request
def forget_everyone_now_and_then(response):
    if len(hits) > 10_000:
        hits.clear()
    return response
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
"#;
