#!/usr/bin/env python3
"""Lay out an OSV Go all.zip (osv.dev's export) as the file database that
govulncheck -db file://DIR reads: ID/<id>.json, index/db.json,
index/modules.json. Used by `make vulncheck` when VULNDB is not given."""
import json, os, sys, zipfile

def main(zip_path, out):
    os.makedirs(os.path.join(out, "ID"), exist_ok=True)
    os.makedirs(os.path.join(out, "index"), exist_ok=True)
    modules, newest = {}, ""
    with zipfile.ZipFile(zip_path) as z:
        for name in z.namelist():
            if not name.endswith(".json"):
                continue
            data = z.read(name)
            rec = json.loads(data)
            vid, modified = rec["id"], rec.get("modified", "")
            newest = max(newest, modified)
            with open(os.path.join(out, "ID", vid + ".json"), "wb") as f:
                f.write(data)
            for aff in rec.get("affected", []):
                path = aff.get("package", {}).get("name")
                if not path:
                    continue
                fixed = ""
                for r in aff.get("ranges", []):
                    for ev in r.get("events", []):
                        fixed = ev.get("fixed", fixed)
                entry = {"id": vid, "modified": modified}
                if fixed:
                    entry["fixed"] = fixed
                modules.setdefault(path, []).append(entry)
    with open(os.path.join(out, "index", "modules.json"), "w") as f:
        json.dump([{"path": p, "vulns": v} for p, v in sorted(modules.items())], f)
    with open(os.path.join(out, "index", "db.json"), "w") as f:
        json.dump({"modified": newest or "2000-01-01T00:00:00Z"}, f)

if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: vulndb.py GO-ALL.zip OUTDIR")
    main(sys.argv[1], sys.argv[2])
