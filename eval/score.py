#!/usr/bin/env python3
"""Score ratecheck on the real-code corpus (see eval/README.md).

Runs the release binary on every entry of the chosen split (one run per
entry, from the entry's folder) and compares RATE002-RATE010 findings with
the manifest's labels: recall and precision per rule, then every miss and
every false positive. RATE001 is not scored here.

  python3 eval/score.py --split dev            # while building
  python3 eval/score.py --split holdout        # only at the end of a piece of work
  python3 eval/score.py --entry py-lim-foo -v  # one entry, with every finding
"""
import argparse, collections, glob, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RULES = [f"RATE{n:03d}" for n in range(2, 11)]
TOLERANCE = 2


def load_arrays(folder):
    """Every JSON array in `eval/<folder>/*.json`, concatenated in file order."""
    out = []
    for f in sorted(glob.glob(os.path.join(HERE, folder, "*.json"))):
        out.extend(json.load(open(f)))
    return out


def load_entries():
    return load_arrays("manifest")


def run_ratecheck(binary, folder):
    proc = subprocess.run([binary, "--format", "json", "--exit-zero", "--quiet", "."],
                          cwd=folder, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ratecheck failed on {folder}: {proc.stderr}")
    data = json.loads(proc.stdout)
    return [f for f in data["findings"] if f["rule"] in RULES]


def places(label):
    yield label["path"], label["line"]
    for line in label.get("alt_lines", []) or []:
        yield label["path"], line
    for alt in label.get("alt_locations", []) or []:
        yield alt["path"], alt["line"]


def distance(label, finding):
    best = None
    for path, line in places(label):
        if path == finding["path"]:
            d = abs(line - finding["line"])
            if d <= TOLERANCE and (best is None or d < best):
                best = d
    return best


def score_entry(entry, findings):
    """Match findings to labels: each at most once, closest first, required
    labels before optional ones."""
    labels = [l for l in entry["labels"] if l["rule"] in RULES]
    pairs = []
    for li, l in enumerate(labels):
        for fi, f in enumerate(findings):
            if f["rule"] == l["rule"]:
                d = distance(l, f)
                if d is not None:
                    pairs.append((bool(l.get("optional")), d, li, fi))
    pairs.sort()
    used_l, used_f, matches = set(), set(), []
    for _, _, li, fi in pairs:
        if li not in used_l and fi not in used_f:
            used_l.add(li)
            used_f.add(fi)
            matches.append((li, fi))
    misses = [labels[i] for i in range(len(labels))
              if i not in used_l and not labels[i].get("optional")]
    fps = [findings[i] for i in range(len(findings)) if i not in used_f]
    hits = [(labels[li], findings[fi]) for li, fi in matches]
    return hits, misses, fps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "holdout", "dev2", "holdout2", "dev3", "holdout3", "dev4", "holdout4", "all"], default="dev",
                    help="dev2/holdout2: the second set (manifest/second-set.json); dev3/holdout3: the third; dev4/holdout4: the fourth")
    ap.add_argument("--entry", action="append", default=[])
    ap.add_argument("--corpus", default=os.environ.get("RATECHECK_CORPUS", "/work/corpus/tree"))
    ap.add_argument("--bin", default=os.environ.get("RATECHECK_BIN",
                                                     os.path.join(ROOT, "target", "release", "ratecheck")))
    ap.add_argument("--json", help="write the per-rule figures to this file")
    ap.add_argument("-q", "--quiet", action="store_true", help="figures only, no lists")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list every hit")
    args = ap.parse_args()

    entries = [e for e in load_entries()
               if (args.entry and e["id"] in args.entry)
               or (not args.entry and (args.split == "all" or e["split"] == args.split))]
    per_rule = {r: collections.Counter() for r in RULES}
    miss_list, fp_list, hit_list = [], [], []
    for e in entries:
        folder = os.path.join(args.corpus, e["id"])
        if not os.path.isdir(folder):
            raise SystemExit(f"{e['id']}: not in {args.corpus}; run eval/rebuild.sh")
        findings = run_ratecheck(args.bin, folder)
        hits, misses, fps = score_entry(e, findings)
        for l in e["labels"]:
            if l["rule"] in RULES and not l.get("optional"):
                per_rule[l["rule"]]["required"] += 1
        for l, f in hits:
            c = per_rule[l["rule"]]
            c["findings"] += 1
            c["true"] += 1
            c["found" if not l.get("optional") else "optional_found"] += 1
            hit_list.append((e["id"], l, f))
        for f in fps:
            per_rule[f["rule"]]["findings"] += 1
            per_rule[f["rule"]]["false"] += 1
            fp_list.append((e["id"], f))
        for l in misses:
            miss_list.append((e["id"], l))

    def ratio(a, b):
        return a / b if b else float("nan")

    total = collections.Counter()
    print(f"split: {args.split if not args.entry else 'entries'}  entries: {len(entries)}")
    print(f"{'rule':8} {'required':>8} {'found':>6} {'recall':>7} {'findings':>8} {'false':>6} {'precision':>9}")
    figures = {}
    for r in RULES:
        c = per_rule[r]
        total.update(c)
        rec, prec = ratio(c["found"], c["required"]), ratio(c["true"], c["findings"])
        figures[r] = dict(c, recall=rec, precision=prec)
        print(f"{r:8} {c['required']:8} {c['found']:6} {rec:7.2f} {c['findings']:8} {c['false']:6} {prec:9.2f}")
    rec, prec = ratio(total["found"], total["required"]), ratio(total["true"], total["findings"])
    figures["all"] = dict(total, recall=rec, precision=prec)
    print(f"{'all':8} {total['required']:8} {total['found']:6} {rec:7.2f} {total['findings']:8} {total['false']:6} {prec:9.2f}")
    if args.json:
        json.dump(figures, open(args.json, "w"), indent=2, sort_keys=True)
    if args.quiet:
        return
    print("\n# misses")
    for eid, l in sorted(miss_list, key=lambda x: (x[1]["rule"], x[0])):
        print(f"{l['rule']} {eid}:{l['path']}:{l['line']}  {l['reason']}")
    print("\n# false positives")
    for eid, f in sorted(fp_list, key=lambda x: (x[1]["rule"], x[0])):
        print(f"{f['rule']} {eid}:{f['path']}:{f['line']}  {f['message']}")
    if args.verbose:
        print("\n# hits")
        for eid, l, f in hit_list:
            print(f"{l['rule']} {eid}:{f['path']}:{f['line']}  {f['message']}")


if __name__ == "__main__":
    main()
