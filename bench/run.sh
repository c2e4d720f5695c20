#!/usr/bin/env bash
# Time ratecheck side by side with its peers (ast-grep, semgrep) and a
# parse-only floor on the pinned corpus from ../shared/bench, then print
# ratios. Absolute times on a shared machine are noise; ratios within one
# run are the result. See bench/README.md.
#
#   bash bench/run.sh          (works from any directory)
#
# Env: CORPUS, BENCH_TOOLS, RUNS, SEMGREP_RUNS, SKIP_SEMGREP, SHARED_BENCH.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
SHARED="${SHARED_BENCH:-$REPO/../shared/bench}"
CORPUS="${CORPUS:-$HOME/bench-corpus}"
CORPUS="${CORPUS%/}"
TOOLS="${BENCH_TOOLS:-$HOME/.cache/ratecheck-bench}"
RUNS="${RUNS:-5}"                 # timed runs for the fast commands
SEMGREP_RUNS="${SEMGREP_RUNS:-1}" # semgrep takes ~3 min per run
SKIP_SEMGREP="${SKIP_SEMGREP:-0}"

# Pinned peers. semgrep 1.181.1 and 1.182.1+ require certifi>=2026.10.19,
# which the PyPI mirror here does not have yet; 1.182.0 does not.
SEMGREP_VERSION=1.182.0
AST_GREP_VERSION=0.51.1

# Everyone gets the same 2 threads (the design targets assume 2 cores).
JOBS=2

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$BENCH_DIR/results"
RUN_DIR="$RESULTS/$STAMP"
mkdir -p "$RUN_DIR"

say()  { echo "== $*" >&2; }
warn() { echo "!! $*" >&2; }
q()    { printf '%q' "$1"; }   # quote a path for the hyperfine command strings

SUDO=""
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
APT_UPDATED=0
apt_install() { # pkg...  (apt-get update once, first time it is needed)
  if [[ $APT_UPDATED -eq 0 ]]; then
    $SUDO apt-get update -q >>"$RUN_DIR/install.log" 2>&1 || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "$@" >>"$RUN_DIR/install.log" 2>&1
}

# ---------------------------------------------------------------- corpus ----
if [[ -f "$CORPUS/CORPUS-SUMMARY.txt" ]]; then
  say "corpus: reusing $CORPUS"
else
  say "corpus: building $CORPUS (downloads ~34 MB, a few minutes)"
  bash "$SHARED/make-corpus.sh" "$CORPUS"
fi

# ----------------------------------------------------------------- tools ----
# hyperfine and GNU time are required: without them nothing can be measured.
if ! command -v hyperfine >/dev/null 2>&1; then
  say "installing hyperfine (apt, else cargo install)"
  apt_install hyperfine || cargo install hyperfine --locked >>"$RUN_DIR/install.log" 2>&1 || true
  export PATH="$PATH:$HOME/.cargo/bin"
  command -v hyperfine >/dev/null 2>&1 || { warn "cannot install hyperfine (see $RUN_DIR/install.log)"; exit 1; }
fi
if [[ ! -x /usr/bin/time ]]; then
  say "installing GNU time (for peak RSS)"
  apt_install time || { warn "cannot install GNU time (see $RUN_DIR/install.log)"; exit 1; }
fi

# Peers live in their own venv / npm prefix so they never touch the system.
SEMGREP="$TOOLS/semgrep-venv/bin/semgrep"
AST_GREP="$TOOLS/ast-grep/node_modules/.bin/ast-grep"
mkdir -p "$TOOLS"

declare -A STATUS=()   # id -> "ok" or why it was not timed

if [[ "$SKIP_SEMGREP" == 1 ]]; then
  STATUS[semgrep]="skipped (SKIP_SEMGREP=1)"
elif [[ "$("$SEMGREP" --version 2>/dev/null || true)" != "$SEMGREP_VERSION" ]]; then
  say "installing semgrep==$SEMGREP_VERSION into $TOOLS/semgrep-venv"
  if ! { python3 -m venv "$TOOLS/semgrep-venv" \
         && "$TOOLS/semgrep-venv/bin/pip" install -q --disable-pip-version-check \
              "semgrep==$SEMGREP_VERSION"; } >>"$RUN_DIR/install.log" 2>&1; then
    STATUS[semgrep]="install failed (see install.log)"
  fi
fi

if [[ "$("$AST_GREP" --version 2>/dev/null || true)" != "ast-grep $AST_GREP_VERSION" ]]; then
  say "installing @ast-grep/cli@$AST_GREP_VERSION into $TOOLS/ast-grep"
  if ! npm install --prefix "$TOOLS/ast-grep" --no-audit --no-fund --silent \
         "@ast-grep/cli@$AST_GREP_VERSION" >>"$RUN_DIR/install.log" 2>&1; then
    STATUS[ast-grep]="install failed (see install.log)"
  fi
fi

# ------------------------------------------------------------- ratecheck ----
say "building ratecheck (cargo build --release)"
TARGET_DIR="$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
  || echo "${CARGO_TARGET_DIR:-$REPO/target}")"
RC="$TARGET_DIR/release/ratecheck"
if ! (cd "$REPO" && cargo build --release) >"$RUN_DIR/cargo-build.log" 2>&1; then
  tail -n 20 "$RUN_DIR/cargo-build.log" >&2
  STATUS[ratecheck]="build failed (see cargo-build.log)"
  STATUS[ratecheck-j1]="build failed"
  STATUS[floor]="not available (build failed)"
fi

# The parse-only floor is a hidden flag, so --help may not list it. It counts
# as present when it succeeds on a tiny tree AND a made-up flag is rejected
# (a stub binary that accepts anything must not pass).
if [[ -z "${STATUS[floor]:-}" ]]; then
  tiny="$(mktemp -d)"
  printf 'x = 1\n' >"$tiny/a.py"
  if "$RC" --help 2>/dev/null | grep -q -- '--bench-parse-only' \
     || { "$RC" --bench-parse-only "$tiny" >/dev/null 2>&1 \
          && ! "$RC" --zz-no-such-flag "$tiny" >/dev/null 2>&1; }; then
    :
  else
    STATUS[floor]="not available (no --bench-parse-only)"
  fi
  rm -rf "$tiny"
fi

# -------------------------------------------------------------- commands ----
# Order = table order. The peer commands are the ones in
# ../shared/bench/README.md, with absolute paths and an explicit -j 2 for
# ast-grep (its default picks the thread count itself).
C="$(q "$CORPUS")"
P="$(q "$SHARED/peers")"
IDS=(ratecheck floor ast-grep semgrep ratecheck-j1)
declare -A NAME=(
  [ratecheck]="ratecheck (all rules)"
  [floor]="parse-only floor"
  [ast-grep]="ast-grep $AST_GREP_VERSION"
  [semgrep]="semgrep $SEMGREP_VERSION"
  [ratecheck-j1]="ratecheck --jobs 1"
)
# ratecheck and its floor see every file the peers see: no default
# excludes (the corpus has dist/ and build/ folders), no .gitignore.
SAME_FILES="--no-default-excludes --no-ignore"
declare -A CMD=(
  [ratecheck]="$(q "$RC") --exit-zero --format concise --output /dev/null $SAME_FILES --jobs $JOBS $C"
  [floor]="$(q "$RC") --bench-parse-only $SAME_FILES --jobs $JOBS $C"
  [ast-grep]="$(q "$AST_GREP") scan -j $JOBS -c $P/ast-grep/sgconfig.yml --globs '*.py' --globs '*.js' --globs '*.mjs' --globs '*.cjs' --globs '*.ts' --globs '*.tsx' $C"
  [semgrep]="$(q "$SEMGREP") scan --metrics=off --disable-version-check --config $P/semgrep-rules.yml -j $JOBS --timeout 0 --max-target-bytes 0 --project-root $C --json -o $(q "$RUN_DIR/semgrep.json") $C"
  [ratecheck-j1]="$(q "$RC") --exit-zero --format concise --output /dev/null $SAME_FILES --jobs 1 $C"
)

# ------------------------------------------------ peak RSS (and preflight) ----
# One run of each under GNU time: gives peak RSS (largest single process of
# the tree), warms the page cache, and shows which tools work at all, so a
# broken one is reported and left out instead of aborting the hyperfine run.
for id in ratecheck floor ast-grep semgrep; do
  [[ -z "${STATUS[$id]:-}" ]] || continue
  say "peak RSS: ${NAME[$id]}"
  if /usr/bin/time -v -o "$RUN_DIR/$id.time" sh -c "${CMD[$id]}" \
       >"$RUN_DIR/$id.out" 2>"$RUN_DIR/$id.err"; then
    STATUS[$id]=ok
  else
    STATUS[$id]="failed (exit $?, see $id.err)"
    warn "${NAME[$id]}: ${STATUS[$id]}"
  fi
done
# --jobs 1 is the same binary; it only needs to be timed if ratecheck works.
if [[ -z "${STATUS[ratecheck-j1]:-}" ]]; then
  if [[ "${STATUS[ratecheck]}" == ok ]]; then STATUS[ratecheck-j1]=ok
  else STATUS[ratecheck-j1]="skipped (ratecheck failed)"; fi
fi

# ---------------------------------------------------------------- timing ----
hf() { # json-file warmup runs id...   (one hyperfine invocation, side by side)
  local json="$1" warmup="$2" runs="$3"; shift 3
  local args=() id
  for id in "$@"; do args+=(-n "${NAME[$id]}" "${CMD[$id]}"); done
  hyperfine -w "$warmup" -r "$runs" --export-json "$json" "${args[@]}"
}

FAST=()
for id in ratecheck floor ast-grep ratecheck-j1; do
  [[ "${STATUS[$id]}" == ok ]] && FAST+=("$id")
done
if [[ ${#FAST[@]} -gt 0 ]]; then
  say "timing side by side: ${FAST[*]} (-w 1 -r $RUNS)"
  if ! hf "$RUN_DIR/main.json" 1 "$RUNS" "${FAST[@]}"; then
    # hyperfine stops at the first failing command; retry one by one so a
    # flaky tool costs only its own row.
    warn "combined hyperfine run failed; timing each command on its own"
    rm -f "$RUN_DIR/main.json"
    for id in "${FAST[@]}"; do
      hf "$RUN_DIR/$id.json" 1 "$RUNS" "$id" \
        || { STATUS[$id]="failed during timing"; warn "${NAME[$id]}: failed during timing"; }
    done
  fi
fi
if [[ "${STATUS[semgrep]}" == ok ]]; then
  # No warm-up: the peak-RSS run above just did a full pass.
  say "timing semgrep (-r $SEMGREP_RUNS, ~3 min each)"
  hf "$RUN_DIR/semgrep-time.json" 0 "$SEMGREP_RUNS" semgrep \
    || { STATUS[semgrep]="failed during timing"; warn "semgrep: failed during timing"; }
fi

# ----------------------------------------------------------------- table ----
# Hand everything to python for the arithmetic and the markdown.
{
  for id in "${IDS[@]}"; do
    printf '%s\t%s\t%s\n' "$id" "${NAME[$id]}" "${STATUS[$id]}"
  done
} >"$RUN_DIR/status.tsv"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "ratecheck: $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$REPO" && git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"
  echo "hyperfine: $(hyperfine --version | awk '{print $2}')"
  echo "corpus: $(grep '^TOTAL' "$CORPUS/CORPUS-SUMMARY.txt" | sed 's/^TOTAL py+js+ts *//; s/  */ /g')"
} >"$RUN_DIR/machine.txt"

python3 - "$RUN_DIR" "$RUNS" "$SEMGREP_RUNS" >"$RUN_DIR/table.md" <<'PY'
import glob, json, os, re, sys
run_dir, runs, sg_runs = sys.argv[1], sys.argv[2], sys.argv[3]

rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(run_dir, "status.tsv"))]
machine = dict(l.rstrip("\n").split(": ", 1) for l in open(os.path.join(run_dir, "machine.txt")))

median, nruns = {}, {}
for path in glob.glob(os.path.join(run_dir, "*.json")):
    try:
        data = json.load(open(path))
    except (ValueError, OSError):
        continue                      # semgrep.json is semgrep's own output
    for r in data.get("results", []) if isinstance(data, dict) else []:
        if "median" in r and "command" in r:
            median[r["command"]] = r["median"]
            nruns[r["command"]] = len(r.get("times", []))

def rss_mb(id_):
    try:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)",
                      open(os.path.join(run_dir, id_ + ".time")).read())
        return "%.0f" % (int(m.group(1)) / 1024) if m else "—"
    except OSError:
        return "—"

name = {r[0]: r[1] for r in rows}
t = {r[0]: median.get(r[1]) for r in rows}
rc, floor = t.get("ratecheck"), t.get("floor")
x = lambda a, b: "%.2fx" % (a / b) if a and b else "—"

out = ["# ratecheck benchmark", "",
       "%s · nproc %s · %s" % (machine["date"], machine["nproc"], machine["cpu"]),
       "", "corpus: %s · ratecheck %s · hyperfine %s" % (
           machine["corpus"], machine["ratecheck"], machine["hyperfine"]), "",
       "| tool | runs | median s | vs parse floor | peer / ratecheck | peak RSS MB |",
       "|---|---:|---:|---:|---:|---:|"]
notes = []
for id_, label, status in rows:
    if status != "ok" or t[id_] is None:
        notes.append("%s: %s" % ("floor" if id_ == "floor" else label,
                                 status if status != "ok" else "no timing"))
        out.append("| %s | — | — | — | — | — |" % label)
        continue
    peer = ("%s / ratecheck = %s" % (id_, x(t[id_], rc))) if id_ in ("ast-grep", "semgrep") else "—"
    rss = rss_mb(id_) if id_ != "ratecheck-j1" else "—"
    out.append("| %s | %d | %.3f | %s | %s | %s |" % (
        label, nruns.get(label, 0), t[id_], x(t[id_], floor), peer, rss))

out.append("")
if t.get("ratecheck-j1") and rc:
    out.append("scaling: ratecheck --jobs 1 / --jobs 2 = %s (target ≥ 1.8x)" % x(t["ratecheck-j1"], rc))
# Sanity: the peers really matched something (semgrep = ast-grep + 2 expected).
ok = {r[0] for r in rows if r[2] == "ok"}
hits = []
if "semgrep" in ok:
    try:
        hits.append("semgrep %d" % len(json.load(open(os.path.join(run_dir, "semgrep.json")))["results"]))
    except (OSError, ValueError, KeyError):
        pass
if "ast-grep" in ok:
    n = sum(1 for l in open(os.path.join(run_dir, "ast-grep.out")) if re.match(r"^\w+\[[\w-]+\]:", l))
    hits.append("ast-grep %d" % n)
if hits:
    out.append("hits: " + ", ".join(hits))
if rc is not None and rc < 0.05:
    # Reading the corpus alone takes ~0.17 s; anything faster did no work.
    notes.append("ratecheck took %.3f s, less than reading the corpus: probably "
                 "still a stub, so its ratios mean nothing" % rc)
out += notes
out += ["",
        "Targets (design/ARCHITECTURE.md): ratecheck ≤ 1.0x floor (aim 0.5x); "
        "ast-grep / ratecheck ≥ 2x; semgrep / ratecheck ≥ 50x; ratecheck peak RSS ≤ 150 MB. "
        "Compare only within this table: the machine is shared and noisy.",
        "", "Raw data: bench/results/%s/" % os.path.basename(run_dir)]
print("\n".join(out))
PY

cp "$RUN_DIR/table.md" "$RESULTS/latest.md"
echo
cat "$RESULTS/latest.md"
