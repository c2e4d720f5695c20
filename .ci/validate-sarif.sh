#!/usr/bin/env bash
# Validate SARIF files with two independent, real validators:
#   1. check-jsonschema (PyPI) against the OASIS SARIF 2.1.0 schema in
#      ../shared/sarif/sarif-schema-2.1.0.json, with URI format checks on;
#   2. the Microsoft SARIF Multitool (npm) `validate` verb, with its SARIF
#      rules and GitHub's code-scanning rules, offline (no URI fetching).
#
# Usage: bash .ci/validate-sarif.sh FILE.sarif [FILE.sarif...]
#
# Tools are installed under target/ci/ on first use (pinned; reruns reuse
# them). Before checking FILEs, a self-test proves both validators are live:
# the shared example must pass and a deliberately broken copy must fail.
# Exit status: 0 if every FILE passes both validators, 1 otherwise.
#
# Environment:
#   SARIF_STRICT=1          also fail on multitool warning-level results
#   SARIF_SKIP_SELFTEST=1   skip the self-test
#   RATECHECK_SHARED_DIR    shared folder (default: <repo>/../shared)
set -euo pipefail

CI_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$CI_SCRIPTS/.." && pwd)
SHARED=$(cd "${RATECHECK_SHARED_DIR:-$ROOT/../shared}" 2>/dev/null && pwd) \
  || { echo "validate-sarif: ERROR: no shared folder at ${RATECHECK_SHARED_DIR:-$ROOT/../shared}" >&2; exit 1; }
SCHEMA=$SHARED/sarif/sarif-schema-2.1.0.json
OFFLINE_POLICY=$SHARED/sarif/multitool-offline.xml
EXAMPLE=$SHARED/sarif/example-ratecheck.sarif
HELPER=$CI_SCRIPTS/check-sarif-log.py

WORK=$ROOT/target/ci
VENV=$WORK/venv
NODE_DIR=$WORK/node
MT_OUT=$WORK/multitool
MT_POLICY=$MT_OUT/policy.xml

# check-jsonschema and its whole dependency closure, pinned. rfc3986-validator
# makes the schema's "uri" / "uri-reference" formats real checks (without it
# they pass anything, e.g. unencoded spaces or non-ASCII in artifact URIs).
PY_PINS=(
  check-jsonschema==0.39.0
  rfc3986-validator==0.1.1
  jsonschema==4.26.0
  jsonschema-specifications==2025.9.1
  referencing==0.37.0
  rpds-py==2026.9.1
  attrs==26.1.0
  regress==2026.9.1
  click==8.5.1
  ruamel.yaml==0.19.1
  requests==2.34.2
  urllib3==2.8.0
  idna==3.20
  certifi==2026.10.18
  charset-normalizer==3.5.2
  typing_extensions==4.16.0
)
MULTITOOL_VERSION=5.7.0
# The npm wrapper (bin.js) runs the binary through a shell, which splits
# "Sarif;Gh" at the ';'. So we call the platform package's binary directly.
MT_BIN=$NODE_DIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
# Rule kinds: SARIF spec rules + GitHub code-scanning rules.
MT_RULE_KINDS="Sarif;Gh"

say() { printf '%s\n' "$*"; }
die() { printf 'validate-sarif: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: bash .ci/validate-sarif.sh FILE.sarif [FILE.sarif...]"
for f in "$SCHEMA" "$OFFLINE_POLICY" "$EXAMPLE"; do
  [[ -f $f ]] || die "missing $f (is ../shared beside the repo?)"
done
TARGETS=()
for f in "$@"; do
  [[ -f $f ]] || die "no such file: $f"
  TARGETS+=("$(realpath -- "$f")")
done

mkdir -p "$WORK" "$MT_OUT"

install_check_jsonschema() {
  local want="${PY_PINS[*]}" t0=$SECONDS
  if [[ -x $VENV/bin/check-jsonschema && -f $VENV/.ratecheck-pins ]] \
    && [[ "$(cat "$VENV/.ratecheck-pins")" == "$want" ]] \
    && "$VENV/bin/check-jsonschema" --version >/dev/null 2>&1; then
    say "check-jsonschema: cached in $VENV ($("$VENV/bin/check-jsonschema" --version))"
    return
  fi
  say "check-jsonschema: installing into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${PY_PINS[@]}"
  printf '%s' "$want" >"$VENV/.ratecheck-pins"
  say "check-jsonschema: installed ($("$VENV/bin/check-jsonschema" --version)) in $((SECONDS - t0))s"
}

multitool_version() { "$MT_BIN" --version 2>&1 | head -n1; }

multitool_ok() {
  [[ -x $MT_BIN ]] || return 1
  local v
  v=$(multitool_version) || return 1
  [[ $v == "SARIF Multitool ${MULTITOOL_VERSION}+"* ]]
}

install_multitool() {
  local t0=$SECONDS
  if multitool_ok; then
    say "sarif-multitool: cached in $NODE_DIR ($(multitool_version))"
    return
  fi
  [[ $(uname -m) == x86_64 ]] || die "the npm SARIF Multitool for Linux ships an x86-64 binary only (this is $(uname -m))"
  say "sarif-multitool: installing @microsoft/sarif-multitool@$MULTITOOL_VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cat >"$NODE_DIR/package.json" <<EOF
{
  "name": "ratecheck-ci-tools",
  "private": true,
  "dependencies": {
    "@microsoft/sarif-multitool": "$MULTITOOL_VERSION",
    "@microsoft/sarif-multitool-linux": "$MULTITOOL_VERSION"
  }
}
EOF
  # --ignore-scripts: the only install script is a chmod, done below.
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
  chmod u+x "$MT_BIN"
  multitool_ok || die "sarif-multitool $MULTITOOL_VERSION did not install correctly ($MT_BIN)"
  say "sarif-multitool: installed ($(multitool_version)) in $((SECONDS - t0))s"
}

make_policy() {
  # The shared offline policy (disables SARIF2006, which HTTP-GETs every URI)
  # plus GitHub's rules switched on: GH1001-GH1007 are off by default.
  local exported=$MT_OUT/exported-config.xml
  "$MT_BIN" export-validation-config "$exported" >"$MT_OUT/export-config.console.txt" 2>&1 \
    || { cat "$MT_OUT/export-config.console.txt"; die "export-validation-config failed"; }
  "$VENV/bin/python" "$HELPER" --make-config "$OFFLINE_POLICY" "$exported" "$MT_POLICY"
}

# .NET needs ICU unless told to run without it.
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi

say "== SARIF validation: tools"
install_check_jsonschema
install_multitool
make_policy

N=0
# run_schema FILE -> 0 if valid
run_schema() {
  "$VENV/bin/check-jsonschema" --color never --schemafile "$SCHEMA" "$1"
}

# run_multitool FILE [helper args...] -> 0 if no error-level findings
run_multitool() {
  local file=$1 rc=0 log console
  shift
  N=$((N + 1))
  log=$MT_OUT/$N-$(basename "$file").validation.sarif
  console=$MT_OUT/$N-$(basename "$file").console.txt
  rm -f "$log"
  # The file must come before --log: list-valued options swallow the words after them.
  "$MT_BIN" validate "$file" \
    --rule-kind "$MT_RULE_KINDS" \
    --level "Error;Warning;Note" \
    --config "$MT_POLICY" \
    --output "$log" \
    --log ForceOverwrite >"$console" 2>&1 || rc=$?
  if [[ ! -s $log ]]; then
    cat "$console"
    say "  FAIL: the multitool wrote no output log (exit code $rc)"
    return 1
  fi
  if ! "$VENV/bin/python" "$HELPER" --exit-code "$rc" --target "$file" "$@" "$log"; then
    [[ $rc -eq 0 ]] || cat "$console"
    return 1
  fi
}

if [[ ${SARIF_SKIP_SELFTEST:-0} != 1 ]]; then
  say ""
  say "== SARIF validation: self-test (the validators must accept a good file and reject a broken one)"
  canary_dir=$MT_OUT/selftest
  rm -rf "$canary_dir"
  mkdir -p "$canary_dir"
  cp "$EXAMPLE" "$canary_dir/good.sarif"
  chmod u+w "$canary_dir/good.sarif"
  # Broken copy: an unencoded URI (space, non-ASCII), no region, a dangling ruleIndex.
  "$VENV/bin/python" - "$canary_dir/good.sarif" "$canary_dir/broken.sarif" <<'EOF'
import json, sys
log = json.load(open(sys.argv[1], encoding="utf-8"))
res = log["runs"][0]["results"][0]
res["ruleIndex"] = 7
phys = res["locations"][0]["physicalLocation"]
phys["artifactLocation"]["uri"] = "src/api/limits v2/ünïcode.py"
del phys["region"]
json.dump(log, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=2)
EOF
  run_schema "$canary_dir/good.sarif" >/dev/null || die "self-test: check-jsonschema rejects the shared example"
  run_multitool "$canary_dir/good.sarif" >/dev/null || die "self-test: the multitool rejects the shared example"
  if out=$(run_schema "$canary_dir/broken.sarif" 2>&1); then
    die "self-test: check-jsonschema accepted a file with an unencoded URI"
  fi
  grep -q "is not a 'uri-reference'" <<<"$out" || { say "$out"; die "self-test: check-jsonschema did not flag the URI"; }
  if out=$(run_multitool "$canary_dir/broken.sarif" 2>&1); then
    die "self-test: the multitool accepted a broken file"
  fi
  for id in SARIF1002 SARIF1009 GH1003; do
    grep -q "ERROR   $id" <<<"$out" || { say "$out"; die "self-test: the multitool did not report $id"; }
  done
  say "self-test ok: shared example passes; broken copy fails check-jsonschema (uri-reference) and the multitool (SARIF1002, SARIF1009, GH1003)"
fi

status=0
for file in "${TARGETS[@]}"; do
  say ""
  say "== SARIF validation: $file"
  say "-- check-jsonschema --schemafile $SCHEMA"
  if ! run_schema "$file"; then
    say "  FAIL: $file does not conform to the SARIF 2.1.0 schema"
    status=1
  fi
  say "-- Sarif.Multitool validate --rule-kind \"$MT_RULE_KINDS\" --config $MT_POLICY"
  strict=()
  [[ ${SARIF_STRICT:-0} == 1 ]] && strict=(--strict)
  if ! run_multitool "$file" "${strict[@]}"; then
    status=1
  fi
done

say ""
if [[ $status -eq 0 ]]; then
  say "SARIF validation passed: ${#TARGETS[@]} file(s)"
else
  say "SARIF validation FAILED"
fi
exit $status
