#!/usr/bin/env python3
"""Compare the findings of two ratecheck binaries on the real-code corpus
(and, with --fixtures, on every fixture): what one reports that the other
does not. Used to show a refactor changes nothing, and to list what a
change adds or removes so each can be read as a reviewer would.

  python3 eval/compare.py OLD_BIN NEW_BIN [--select RULES] [--split S] [--fixtures]

Prints every finding only one binary reports (`-` old only, `+` new
only), by split, then the totals. Exit status 1 if they differ.
"""
import argparse
import glob
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def findings(binary, folder, select):
    run = subprocess.run([binary, ".", "--select", select, "--format", "json"],
                         cwd=folder, capture_output=True, text=True)
    try:
        return {(f["rule"], f["path"], f["line"], f["column"], f["message"])
                for f in json.loads(run.stdout)["findings"]}
    except (ValueError, KeyError):
        return {("ERROR", run.stderr.strip()[:200], 0, 0, "")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--select", default="ALL")
    ap.add_argument("--split", help="only this split (default: every split)")
    ap.add_argument("--fixtures", action="store_true", help="also every fixture folder")
    ap.add_argument("--corpus", default=os.environ.get("RATECHECK_CORPUS", "/work/corpus/tree"))
    args = ap.parse_args()
    old, new = os.path.abspath(args.old), os.path.abspath(args.new)

    groups = {}
    for manifest in sorted(glob.glob(os.path.join(ROOT, "eval", "manifest", "*.json"))):
        for e in json.load(open(manifest)):
            if not args.split or e["split"] == args.split:
                groups.setdefault(e["split"], []).append((e["id"], os.path.join(args.corpus, e["id"])))
    if args.fixtures:
        groups["fixtures"] = [(os.path.relpath(d, ROOT), d)
                              for d in sorted(glob.glob(os.path.join(ROOT, "fixtures", "*", "*")))]

    differ = False
    for group, folders in sorted(groups.items()):
        counts = [0, 0]
        for name, folder in folders:
            if not os.path.isdir(folder):
                raise SystemExit(f"{name}: not in {args.corpus}; run eval/rebuild.sh")
            a, b = findings(old, folder, args.select), findings(new, folder, args.select)
            counts[0] += len(a)
            counts[1] += len(b)
            for sign, only in (("-", a - b), ("+", b - a)):
                for rule, path, line, _col, message in sorted(only):
                    differ = True
                    print(f"{group} {sign} {name} {rule} {path}:{line}  {message[:100]}")
        print(f"{group}: {counts[0]} findings before, {counts[1]} after")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
