#!/usr/bin/env bash
# Install routes, checked as a user would take them:
#   1. build the wheel (maturin, bindings = "bin"), install it into a fresh
#      venv and run the binary it carries on the demo;
#   2. run the pre-commit hook (.pre-commit-hooks.yaml) with `pre-commit
#      try-repo` against a sample repository whose route file is covered by
#      an app-wide limiter in another file (must pass), then a route file
#      with no limiter anywhere (must fail).
# Tools (maturin, pre-commit; pinned, from PyPI) live in target/ci/pkg-venv.
# CARGO_TARGET_DIR is shared with the build, so only ratecheck itself is
# compiled again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
WORK=$ROOT/target/ci
TOOLS=$WORK/pkg-venv
PINS=(maturin==1.16.0 pre-commit==4.7.0)
say() { printf '%s\n' "$*"; }
die() { printf 'packaging: ERROR: %s\n' "$*" >&2; exit 1; }

if [[ ! -x $TOOLS/bin/maturin || "$(cat "$TOOLS/.pins" 2>/dev/null)" != "${PINS[*]}" ]]; then
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
  printf '%s' "${PINS[*]}" >"$TOOLS/.pins"
fi

say "== wheel"
rm -rf "$WORK/wheels"
"$TOOLS/bin/maturin" build --release --locked --out "$WORK/wheels"
WHEEL=$(ls "$WORK"/wheels/ratecheck-*.whl)
python3 -c 'import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(not any(n.endswith(".data/scripts/ratecheck") for n in names))' "$WHEEL" \
  || die "the wheel carries no ratecheck binary"

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
python3 -m venv "$SCRATCH/venv"
"$SCRATCH/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL"
"$SCRATCH/venv/bin/ratecheck" --version
rc=0
(cd "$ROOT/demo" && "$SCRATCH/venv/bin/ratecheck" --format concise .) >"$SCRATCH/demo.txt" || rc=$?
[[ $rc == 1 ]] || die "ratecheck from the wheel on demo/: exit $rc, expected 1"
n=$(wc -l <"$SCRATCH/demo.txt")
[[ $n == 12 ]] || die "ratecheck from the wheel on demo/: $n findings, expected 12"
say "wheel: installed in a fresh venv; demo/ gives $n findings, exit 1"

say "== pre-commit hook"
SAMPLE=$SCRATCH/sample
mkdir -p "$SAMPLE/src/routes"
cd "$SAMPLE"
git init -q
git config user.email ci@example.com
git config user.name ci
echo '{ "name": "sample", "private": true }' >package.json
cat >src/app.js <<'JS'
const express = require('express');
const rateLimit = require('express-rate-limit');
const { RedisStore } = require('rate-limit-redis');
const users = require('./routes/users');
const app = express();
app.set('trust proxy', 1);
app.use(rateLimit({ windowMs: 60_000, limit: 100, store: new RedisStore({ sendCommand: (...a) => client.sendCommand(a) }), passOnStoreError: true }));
app.use('/users', users);
module.exports = app;
JS
cat >src/routes/users.js <<'JS'
const express = require('express');
const router = express.Router();
router.post('/login', (req, res) => res.json({ ok: true }));
module.exports = router;
JS
git add -A && git commit -qm sample
# Only the route file changed: its limiter is in app.js, so the hook passes.
echo "// touched" >>src/routes/users.js
git add -A
export CARGO_TARGET_DIR=$ROOT/target PRE_COMMIT_HOME=$WORK/pre-commit-home
"$TOOLS/bin/pre-commit" try-repo "$ROOT" ratecheck --files src/routes/users.js \
  || die "pre-commit hook failed on a route file covered by the app-wide limiter"
# A route file with no limiter anywhere: the hook must fail.
cat >src/admin.js <<'JS'
const express = require('express');
const admin = express();
admin.post('/login', (req, res) => res.json({ ok: true }));
admin.listen(3001);
JS
git add -A
rc=0
"$TOOLS/bin/pre-commit" try-repo "$ROOT" ratecheck --files src/admin.js >"$SCRATCH/hook.txt" 2>&1 || rc=$?
cat "$SCRATCH/hook.txt"
[[ $rc != 0 ]] || die "pre-commit hook passed a route with no rate limit"
grep -q 'src/admin.js:3' "$SCRATCH/hook.txt" || die "pre-commit hook output does not name src/admin.js:3"
say "pre-commit: passes the covered route file, fails the unprotected one"

say "== GitHub Action (action.yml)"
# The action's own scripts, run as the runner would (bash -e -o pipefail),
# with the wheel's binary on PATH, in the sample repository.
cd "$SAMPLE"
"$TOOLS/bin/python" - "$ROOT/action.yml" "$SCRATCH/run-step.sh" <<'PY'
import sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
assert action["runs"]["using"] == "composite", "composite action"
steps = {s.get("id") or s["name"]: s for s in action["runs"]["steps"]}
upload = next(s for s in action["runs"]["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
assert upload["uses"].endswith("@v4"), upload["uses"]
cond = upload["if"]
for needed in ("always()", "steps.run.outputs.sarif-file != ''", "head.repo.full_name == github.repository"):
    assert needed in cond, f"upload condition lacks {needed}: {cond}"
assert "${{" not in steps["run"]["run"], "the run script reads inputs from env only"
open(sys.argv[2], "w").write(steps["run"]["run"])
PY
OUT=$SCRATCH/github-output
: >"$OUT"
rc=0
PATH="$SCRATCH/venv/bin:$PATH" GITHUB_OUTPUT=$OUT RATECHECK_PATHS="src" RATECHECK_ARGS="--fail-on warning" \
  RATECHECK_FORMAT=github RATECHECK_SARIF=ratecheck.sarif RATECHECK_CATEGORY=ratecheck \
  bash -e -o pipefail "$SCRATCH/run-step.sh" >"$SCRATCH/action.log" 2>&1 || rc=$?
cat "$SCRATCH/action.log"
[[ $rc == 0 ]] || die "the action's run step failed itself (exit $rc)"
grep -qx 'exit-code=1' "$OUT" || die "the action's run step did not record exit-code=1: $(cat "$OUT")"
grep -qx 'sarif-file=ratecheck.sarif' "$OUT" || die "the action's run step did not record the SARIF file"
grep -q '^::error file=src/admin.js,line=3' "$SCRATCH/action.log" || die "no annotation for src/admin.js"
python3 - ratecheck.sarif <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
assert "src/admin.js" in uris, uris
assert run["automationDetails"]["id"] == "ratecheck/", run.get("automationDetails")
PY
say "action: run step writes SARIF, annotates, records exit-code=1 for the upload and fail steps"
