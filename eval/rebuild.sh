#!/usr/bin/env bash
# Rebuild the real-code corpus from the manifest: every entry's paths at its
# commit, one folder per entry under $RATECHECK_CORPUS (default
# /work/corpus/tree). Sources: the bare mirror that the session's `fetch`
# tool leaves in $RATECHECK_MIRRORS/<owner>+<name>/repo (default
# /work/.mirror), or, with RATECHECK_CORPUS_CLONE=1, a clone from GitHub.
# Usage: bash eval/rebuild.sh [ENTRY_ID...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
CORPUS=${RATECHECK_CORPUS:-/work/corpus/tree}
MIRRORS=${RATECHECK_MIRRORS:-/work/.mirror}
mkdir -p "$CORPUS"
python3 - "$CORPUS" "$MIRRORS" "$@" <<'PY'
import json, glob, os, subprocess, sys, shutil, tarfile, io
corpus, mirrors, wanted = sys.argv[1], sys.argv[2], set(sys.argv[3:])
entries = [e for f in sorted(glob.glob("manifest/*.json")) for e in json.load(open(f))]
missing = 0
for e in entries:
    if wanted and e["id"] not in wanted:
        continue
    dest = os.path.join(corpus, e["id"])
    stamp = os.path.join(dest, ".ratecheck-corpus")
    if os.path.exists(stamp) and open(stamp).read().strip() == e["commit"]:
        continue
    git_dir = os.path.join(mirrors, e["repo"].replace("/", "+"), "repo")
    if not os.path.isdir(git_dir):
        if os.environ.get("RATECHECK_CORPUS_CLONE") == "1":
            git_dir = os.path.join(mirrors, e["repo"].replace("/", "+"), "repo")
            subprocess.run(["git", "clone", "--bare", "--filter=blob:none",
                            f"https://github.com/{e['repo']}.git", git_dir], check=True)
        else:
            print(f"missing mirror for {e['id']}: {e['repo']} (fetch it, or set RATECHECK_CORPUS_CLONE=1)",
                  file=sys.stderr)
            missing += 1
            continue
    paths = [p.rstrip("/") for p in e["paths"]]
    args = ["git", "-C", git_dir, "archive", "--format=tar", e["commit"]]
    if paths != ["."]:
        args += ["--"] + paths
    tar = subprocess.run(args, capture_output=True)
    if tar.returncode != 0:
        print(f"{e['id']}: git archive failed: {tar.stderr.decode().strip()}", file=sys.stderr)
        missing += 1
        continue
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as t:
        # Regular files and folders only: no links or devices from a snapshot.
        members = [m for m in t.getmembers() if m.isfile() or m.isdir()]
        t.extractall(dest, members=members, filter="data")
    open(stamp, "w").write(e["commit"] + "\n")
print(f"{len(entries)} entries, {missing} missing", file=sys.stderr)
sys.exit(1 if missing else 0)
PY
