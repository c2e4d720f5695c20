#!/usr/bin/env python3
"""Score RATE001 on the real-code corpus's route labels (eval/routes/*.json).

Runs `ratecheck --routes --format json` on every entry of the chosen split
and compares each labelled route's verdict with the one ratecheck gives the
route registered on the same line (or one of the label's other lines):

- recall: labelled `unprotected` routes that ratecheck calls unprotected;
- precision: of the routes ratecheck calls unprotected in the labelled files
  (`route_files`), those labelled unprotected (a route labelled `unsure` is
  left out of both);
- verdicts: labelled routes that get a verdict at all (not unresolved and
  not missing), the figure issue 11 asks to raise.

  python3 eval/score_routes.py --split dev        # while building
  python3 eval/score_routes.py --split holdout -q # only at the end
"""
import argparse, collections, json, os, subprocess

from score import ROOT, load_arrays, load_entries, places


def load_splits():
    return {e["id"]: e["split"] for e in load_entries()}


def load_labels():
    return load_arrays("routes")


def run_ratecheck(binary, folder):
    proc = subprocess.run([binary, "--routes", "--format", "json", "--quiet", "."],
                          cwd=folder, capture_output=True, text=True)
    if proc.returncode not in (0, 2) or not proc.stdout:
        raise SystemExit(f"ratecheck failed on {folder}: {proc.stderr}")
    routes = json.loads(proc.stdout)["routes"]
    for r in routes:
        r["path"] = r["path"][2:] if r["path"].startswith("./") else r["path"]
    return routes


def tool_verdict(label, routes, used):
    """The verdict of the route on one of the label's lines; `missing` when
    ratecheck lists no route there. A route answers one label at most, but
    routes on one line (several methods) answer the same label."""
    for path, line in places(label):
        hits = [i for i, r in enumerate(routes) if r["path"] == path and r["line"] == line
                and i not in used]
        if hits:
            used.update(hits)
            verdicts = {routes[i]["verdict"] for i in hits}
            for v in ("unprotected", "unresolved", "protected", "skipped"):
                if v in verdicts:
                    return v, routes[hits[0]]
    return "missing", None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "holdout", "dev2", "holdout2", "all"], default="dev")
    ap.add_argument("--entry", action="append", default=[])
    ap.add_argument("--corpus", default=os.environ.get("RATECHECK_CORPUS", "/work/corpus/tree"))
    ap.add_argument("--bin", default=os.environ.get("RATECHECK_BIN",
                    os.path.join(ROOT, "target", "release", "ratecheck")))
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("-q", "--quiet", action="store_true", help="figures only, no lists")
    args = ap.parse_args()
    split = load_splits()
    entries = [e for e in load_labels()
               if (e["id"] in args.entry)
               or (not args.entry and (args.split == "all" or split.get(e["id"]) == args.split))]
    confusion = collections.Counter()
    severity = collections.Counter()
    problems = []  # (kind, entry, text)
    tool_unprotected = 0
    tool_unprotected_right = 0
    for e in entries:
        if not e["routes"]:
            continue
        folder = os.path.join(args.corpus, e["id"])
        if not os.path.isdir(folder):
            raise SystemExit(f"missing {folder}: run eval/rebuild.sh")
        routes = run_ratecheck(args.bin, folder)
        used = set()
        unsure_hits = set()
        for l in e["routes"]:
            v, r = tool_verdict(l, routes, used if l["verdict"] != "unsure" else unsure_hits)
            if l["verdict"] == "unsure":
                continue
            confusion[(l["verdict"], v)] += 1
            where = f'{l["path"]}:{l["line"]} {l.get("method", "")} {l.get("url", "")}'
            if l["verdict"] == "unprotected" and v == "unprotected":
                severity[(l.get("severity"), r.get("severity"))] += 1
                if l.get("severity") != r.get("severity"):
                    problems.append(("severity", e["id"], f'{where}: labelled {l.get("severity")}, '
                                     f'ratecheck {r.get("severity")}'))
            elif l["verdict"] == "unprotected":
                ev = f' ({r["evidence"]})' if r and r.get("evidence") else ""
                problems.append(("miss", e["id"], f"{where}: ratecheck {v}{ev}; {l['reason']}"))
            elif v == "unprotected":
                problems.append(("false", e["id"], f"{where}: labelled {l['verdict']}; {l['reason']}"))
            elif v in ("unresolved", "missing"):
                ev = f' ({r["evidence"]})' if r and r.get("evidence") else ""
                problems.append((v, e["id"], f"{where}: labelled {l['verdict']}{ev}"))
        files = set(e.get("route_files") or [])
        for i, r in enumerate(routes):
            if r["path"] not in files or r["verdict"] != "unprotected" or i in unsure_hits:
                continue
            tool_unprotected += 1
            if i in used:
                continue
            problems.append(("unlabelled", e["id"],
                             f'{r["path"]}:{r["line"]} {r["method"]} {r.get("route")}: '
                             "ratecheck unprotected, matches no label"))
    labelled = sum(confusion.values())
    unprotected_labels = sum(n for (l, _), n in confusion.items() if l == "unprotected")
    found = confusion[("unprotected", "unprotected")]
    tool_unprotected_right = found
    with_verdict = sum(n for (_, v), n in confusion.items() if v not in ("unresolved", "missing"))
    ratio = lambda a, b: f"{a / b:.2f}" if b else "nan"
    print(f"split: {args.split if not args.entry else 'entries'}  entries: {len(entries)}  "
          f"routes labelled: {labelled}")
    print(f"RATE001 recall    {found}/{unprotected_labels} = {ratio(found, unprotected_labels)}")
    print(f"RATE001 precision {tool_unprotected_right}/{tool_unprotected} = "
          f"{ratio(tool_unprotected_right, tool_unprotected)}")
    print(f"verdicts          {with_verdict}/{labelled} = {ratio(with_verdict, labelled)} "
          "(labelled routes ratecheck finds and decides)")
    same = sum(n for (a, b), n in severity.items() if a == b)
    print(f"severity agrees   {same}/{sum(severity.values())}")
    print("label \\ ratecheck  " + "  ".join(f"{v:>11}" for v in
                                             ("unprotected", "protected", "skipped", "unresolved", "missing")))
    for l in ("unprotected", "protected", "skipped"):
        print(f"{l:<18} " + "  ".join(f"{confusion[(l, v)]:>11}" for v in
                                       ("unprotected", "protected", "skipped", "unresolved", "missing")))
    if args.json:
        json.dump({"split": args.split, "labelled": labelled, "unprotected_labels": unprotected_labels,
                   "found": found, "tool_unprotected": tool_unprotected, "with_verdict": with_verdict,
                   "confusion": {f"{a}/{b}": n for (a, b), n in sorted(confusion.items())}},
                  open(args.json, "w"), indent=1)
    if args.quiet:
        return
    for kind in ("miss", "false", "unlabelled", "unresolved", "missing", "severity"):
        rows = [p for p in problems if p[0] == kind]
        if rows:
            print(f"\n{kind} ({len(rows)}):")
            for _, eid, text in rows:
                print(f"  {eid}: {text}")


if __name__ == "__main__":
    main()
