#!/usr/bin/env python3
"""Turn every fixture project (a top-level file or folder under
fixtures/<language>/<rule>/) into one input of the `pipeline` fuzz target:
records `path\\ncontent` separated by b"\\x1e\\x1e\\x1e\\x1e".

    python3 fuzz/make-seeds.py            # writes fuzz/corpus/pipeline/
"""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "corpus", "pipeline")
SEP = b"\x1e\x1e\x1e\x1e"


def project_files(path):
    if os.path.isfile(path):
        yield os.path.basename(path), path
        return
    for dirpath, _, names in sorted(os.walk(path)):
        for name in sorted(names):
            full = os.path.join(dirpath, name)
            yield os.path.relpath(full, path), full


def main():
    os.makedirs(OUT, exist_ok=True)
    count = 0
    for lang in ("python", "javascript"):
        lang_dir = os.path.join(ROOT, "fixtures", lang)
        for rule in sorted(os.listdir(lang_dir)):
            rule_dir = os.path.join(lang_dir, rule)
            for entry in sorted(os.listdir(rule_dir)):
                records = []
                for rel, full in list(project_files(os.path.join(rule_dir, entry)))[:8]:
                    with open(full, "rb") as f:
                        records.append(rel.replace(os.sep, "/").encode() + b"\n" + f.read())
                data = SEP.join(records)
                name = hashlib.sha1(data).hexdigest()
                with open(os.path.join(OUT, name), "wb") as f:
                    f.write(data)
                count += 1
    print(f"wrote {count} seeds to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
