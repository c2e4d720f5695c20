#!/usr/bin/env python3
"""Helpers for .ci/validate-sarif.sh (standard library only).

Modes:
  check-sarif-log.py [--strict] [--exit-code N] [--target FILE] LOG
      Read the output log of `Sarif.Multitool validate` (itself a SARIF file),
      print every result readably, and exit 1 if there is any error-level
      result, any error-level tool notification, or the run did not execute
      successfully. Warnings and notes are printed but only fail with --strict.
      --exit-code passes the multitool's own exit code (non-zero fails).

  check-sarif-log.py --make-config BASE_XML EXPORTED_XML OUT_XML
      Write a multitool policy file: BASE_XML (the shared offline policy,
      kept as is) plus every GitHub rule (GHnnnn, not GHAzDO) found in
      EXPORTED_XML (`Sarif.Multitool export-validation-config`) switched on at
      level Error. Rules GH1001-GH1007 are disabled by default in the
      multitool, so `--rule-kind Gh` alone would silently skip them.

  check-sarif-log.py --expect-uri SARIF DECODED_PATH
      Exit 1 unless some result location in SARIF has an artifactLocation.uri
      that is a strictly percent-encoded URI reference (ASCII only, no spaces)
      and decodes to a path ending with DECODED_PATH.
"""

import argparse
import json
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

LEVEL_ORDER = {"error": 0, "warning": 1, "note": 2, "none": 3}


def load_json(path):
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def format_message(message, rule):
    """Render a SARIF message, resolving message.id against the rule's messageStrings."""
    if not isinstance(message, dict):
        return str(message)
    text = message.get("text")
    if text is None and message.get("id") and rule:
        template = (rule.get("messageStrings") or {}).get(message["id"], {})
        text = template.get("text")
    if text is None:
        text = message.get("id", "<no message>")
    args = message.get("arguments") or []

    def sub(m):
        i = int(m.group(1))
        return str(args[i]) if i < len(args) else m.group(0)

    return re.sub(r"\{(\d+)\}", sub, text)


def location_text(result):
    for loc in result.get("locations") or []:
        phys = loc.get("physicalLocation") or {}
        uri = (phys.get("artifactLocation") or {}).get("uri", "")
        if uri.startswith("file://"):
            uri = urllib.parse.unquote(urllib.parse.urlparse(uri).path)
        region = phys.get("region") or {}
        line, col = region.get("startLine"), region.get("startColumn")
        if line is not None:
            return f"{uri}:{line}:{col}" if col is not None else f"{uri}:{line}"
        return uri
    return "<no location>"


def check_log(args):
    try:
        log = load_json(args.log)
    except (OSError, ValueError) as e:
        print(f"  ERROR: cannot read multitool output log {args.log}: {e}")
        return 1

    label = args.target or args.log
    counts = {"error": 0, "warning": 0, "note": 0}
    problems = []  # failures that are not results
    full = []  # (level order, text): errors and warnings, printed in full
    notes = {}  # rule -> [count, first location, first message]: summarised
    info = []

    if args.exit_code:
        problems.append(f"multitool exited with code {args.exit_code}")

    runs = log.get("runs") or []
    if not runs:
        problems.append("output log has no runs")

    for run in runs:
        rules = ((run.get("tool") or {}).get("driver") or {}).get("rules") or []
        rules_by_id = {r.get("id"): r for r in rules}
        for inv in run.get("invocations") or []:
            if inv.get("executionSuccessful") is not True:
                problems.append("invocation.executionSuccessful is not true")
            for kind in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for n in inv.get(kind) or []:
                    level = n.get("level", "warning")
                    ident = (n.get("descriptor") or {}).get("id", "?")
                    text = format_message(n.get("message") or {}, None)
                    if level == "error":
                        problems.append(f"{kind}: {ident}: {text}")
                    elif ident.startswith("WRN999.RuleExplicitlyDisabled"):
                        # Expected: the offline policy disables SARIF2006 (URI reachability).
                        info.append(f"  (info) {ident}: {text}")
                    else:
                        full.append((1, f"  TOOL-{level.upper()} {ident}: {text}"))
        for res in run.get("results") or []:
            if res.get("kind", "fail") != "fail":
                continue
            level = res.get("level", "warning")
            rule = None
            idx = res.get("ruleIndex")
            if isinstance(idx, int) and 0 <= idx < len(rules):
                rule = rules[idx]
            rule = rule or rules_by_id.get(res.get("ruleId"))
            rule_id = res.get("ruleId", "?")
            if rule and rule.get("name"):
                rule_id += "/" + rule["name"]
            msg = format_message(res.get("message") or {}, rule)
            counts[level] = counts.get(level, 0) + 1
            if level in ("error", "warning"):
                full.append(
                    (LEVEL_ORDER[level], f"  {level.upper():7} {rule_id} at {location_text(res)}\n          {msg}")
                )
            else:
                entry = notes.setdefault(rule_id, [0, location_text(res), msg])
                entry[0] += 1

    print(f"multitool findings for {label}:")
    for _, line in sorted(full, key=lambda x: x[0]):
        print(line)
    for rule_id, (n, loc, msg) in sorted(notes.items()):
        print(f"  NOTE    {rule_id} x{n} (first at {loc})\n          {msg}")
    for line in info:
        print(line)
    for p in problems:
        print(f"  ERROR   {p}")
    print(f"  => {counts['error']} error(s), {counts['warning']} warning(s), {counts['note']} note(s)")

    failed = bool(problems) or counts["error"] > 0 or (args.strict and counts["warning"] > 0)
    if failed:
        why = "errors" if (problems or counts["error"]) else "warnings (strict mode)"
        print(f"  FAIL: SARIF Multitool reported {why} for {label}")
        return 1
    return 0


def make_config(base_xml, exported_xml, out_xml):
    base = ET.parse(base_xml).getroot()
    exported = ET.parse(exported_xml).getroot()
    present = {p.get("Key") for p in base.findall("Properties")}
    gh_keys = [
        p.get("Key")
        for p in exported.findall("Properties")
        if re.match(r"^GH\d{4}\.", p.get("Key") or "")
    ]
    if not gh_keys:
        print(f"ERROR: no GitHub (GHnnnn) rules found in {exported_xml}", file=sys.stderr)
        return 1
    added = []
    for key in gh_keys:
        if key in present:
            continue  # the base policy says something about this rule: keep it
        props = ET.SubElement(base, "Properties", {"Key": key})
        ET.SubElement(
            props,
            "Property",
            {"Key": "RuleEnabled", "Value": "Error", "Type": "Driver.RuleEnabledState"},
        )
        added.append(key.split(".")[0])
    ET.indent(base)
    ET.ElementTree(base).write(out_xml, encoding="utf-8", xml_declaration=True)
    print(f"policy {out_xml}: base {base_xml} + GitHub rules at Error: {' '.join(added)}")
    return 0


def expect_uri(sarif_path, decoded_suffix):
    log = load_json(sarif_path)
    seen = []
    for run in log.get("runs") or []:
        for res in run.get("results") or []:
            for loc in res.get("locations") or []:
                uri = ((loc.get("physicalLocation") or {}).get("artifactLocation") or {}).get("uri")
                if not uri:
                    continue
                seen.append(uri)
                strict = uri.isascii() and not re.search(r"[\s\"<>\\^`{|}]", uri)
                if strict and urllib.parse.unquote(uri).endswith(decoded_suffix):
                    print(f"ok: {sarif_path} has a result at {uri!r} (decodes to ...{decoded_suffix!r})")
                    return 0
    print(f"ERROR: no result in {sarif_path} has a percent-encoded URI decoding to ...{decoded_suffix!r}")
    print(f"  result URIs seen: {sorted(set(seen)) or 'none (no results?)'}")
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-config", nargs=3, metavar=("BASE_XML", "EXPORTED_XML", "OUT_XML"))
    ap.add_argument("--expect-uri", nargs=2, metavar=("SARIF", "DECODED_PATH"))
    ap.add_argument("--strict", action="store_true", help="also fail on warning-level results")
    ap.add_argument("--exit-code", type=int, default=0, help="the multitool's exit code")
    ap.add_argument("--target", help="the SARIF file that was validated (for messages)")
    ap.add_argument("log", nargs="?", help="multitool output log")
    args = ap.parse_args()
    if args.make_config:
        return make_config(*args.make_config)
    if args.expect_uri:
        return expect_uri(*args.expect_uri)
    if not args.log:
        ap.error("LOG is required")
    return check_log(args)


if __name__ == "__main__":
    sys.exit(main())
