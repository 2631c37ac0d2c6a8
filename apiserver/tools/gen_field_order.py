#!/usr/bin/env python3
"""Generates apiserver/src/schema/field_order.json: for every definition of
the upstream OpenAPI v2 document, its JSON property names in the order of
upstream's Go struct fields, which is the order encoding/json writes them.

The OpenAPI document lists properties alphabetically; the `k8s-pb` crate's
messages (generated from upstream's generated.proto, whose fields follow the
Go struct) keep the Go declaration order. Inputs are facts about the wire
format, not code. Run:

    python3 apiserver/tools/gen_field_order.py <k8s-pb src dir> <openapi-v2.json> > apiserver/src/schema/field_order.json
"""
import json
import os
import re
import sys

src, openapi_path = sys.argv[1], sys.argv[2]
defs = json.load(open(openapi_path))["definitions"]
# prost spells acronyms as words (HttpGetAction for HTTPGetAction).

STRUCT = re.compile(r'^pub struct (\w+) \{')
FIELD = re.compile(r'^\s*pub ((?:r#)?\w+):')
RENAME = {"apiextensions_apiserver": "apiextensions-apiserver", "kube_aggregator": "kube-aggregator"}


def norm(s):
    return s.replace("_", "").replace("-", "").lower()


by_norm = {norm(d): d for d in defs}
order = {}
for root, _dirs, files in os.walk(src):
    if "mod.rs" not in files:
        continue
    rel = os.path.relpath(root, src).split(os.sep)
    if rel == ["."]:
        continue
    prefix = "io.k8s." + ".".join(RENAME.get(p, p) for p in rel)
    struct = None
    for line in open(os.path.join(root, "mod.rs")):
        m = STRUCT.match(line)
        if m:
            struct = by_norm.get(norm(prefix + "." + m.group(1)), prefix + "." + m.group(1))
            fields = []
            continue
        if struct is None:
            continue
        if line.startswith("}"):
            props = defs.get(struct, {}).get("properties")
            if props:
                names = []
                for f in fields:
                    name = next((p for p in props if norm(p) == norm(f)), None)
                    if name and name not in names:
                        names.append(name)
                # kind and apiVersion come from the embedded TypeMeta, first.
                head = [p for p in ("kind", "apiVersion") if p in props and p not in names]
                names = head + names + sorted(p for p in props if p not in names and p not in head)
                order[struct] = names
            struct = None
            continue
        m = FIELD.match(line)
        if m:
            fields.append(m.group(1).removeprefix("r#"))

json.dump(order, sys.stdout, separators=(",", ":"), sort_keys=True)
