#!/usr/bin/env python3
"""Read govulncheck -format json output and fail on every vulnerability that
hallmark's code reaches (a finding with a function in its trace), except those
accepted, each with its reason, in osv-scanner.toml's [[IgnoredVulns]].
Used by `make vulncheck`."""
import json, sys, tomllib

def findings(path):
    dec, text, pos = json.JSONDecoder(), open(path).read(), 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        msg, pos = dec.raw_decode(text, pos)
        f = msg.get("finding")
        if f and any(frame.get("function") for frame in f.get("trace", [])):
            yield f["osv"]

def main(report, ignore_file):
    accepted = {v["id"]: v.get("reason", "") for v in tomllib.load(open(ignore_file, "rb")).get("IgnoredVulns", [])}
    reached = sorted(set(findings(report)))
    bad = [i for i in reached if i not in accepted]
    for i in reached:
        print(f"vulncheck: {i} {'accepted: ' + accepted[i] if i in accepted else 'REACHED'}")
    print(f"vulncheck: {len(reached)} reached, {len(bad)} not accepted")
    sys.exit(1 if bad else 0)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
