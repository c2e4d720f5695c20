"""Accounts API. The login limiter below is the naive in-memory kind."""
import time
from collections import defaultdict

from flask import Flask, jsonify, request

app = Flask(__name__)

LOGIN_LIMIT = 5
WINDOW_SECONDS = 60
login_attempts = defaultdict(list)  # client IP -> timestamps of recent logins


def too_many_attempts(ip):
    now = time.time()
    recent = [t for t in login_attempts[ip] if now - t < WINDOW_SECONDS]
    login_attempts[ip] = recent
    if len(recent) >= LOGIN_LIMIT:
        return True
    recent.append(now)
    return False


@app.route("/login", methods=["POST"])
def login():
    if too_many_attempts(request.remote_addr):
        return jsonify(error="too many login attempts"), 429
    user = request.json.get("user")
    return jsonify(token=f"token-for-{user}")


@app.route("/password-reset", methods=["POST"])
def password_reset():
    email = request.json.get("email")
    return jsonify(sent=True, email=email)


@app.route("/health")
def health():
    return "ok"
