#!/usr/bin/env python3
"""Generates apiserver/src/protobuf/schema.json: for every protobuf message
of the served API groups, its field numbers with the JSON name and wire type.

Inputs (facts about the wire format, not code): the field tags of the
`k8s-pb` crate's generated messages (cargo registry source) and the JSON
property names of the upstream OpenAPI v2 document. Run:

    python3 apiserver/tools/gen_proto_schema.py <k8s-pb src dir> <openapi-v2.json> > apiserver/src/protobuf/schema.json
"""
import json
import os
import re
import sys

GROUPS = ["core", "apps", "batch", "autoscaling", "networking", "discovery", "rbac", "storage",
          "coordination", "policy", "scheduling", "events", "certificates", "authentication",
          "authorization"]

src, openapi_path = sys.argv[1], sys.argv[2]
defs = json.load(open(openapi_path))["definitions"]

ATTR = re.compile(r'#\[prost\((.*)\)\]')
FIELD = re.compile(r'pub ((?:r#)?\w+):\s*(.+),\s*$')
STRUCT = re.compile(r'pub struct (\w+) \{')


def norm(s):
    return s.replace("_", "").lower()


def module_files():
    for g in GROUPS:
        base = os.path.join(src, "api", g)
        for v in sorted(os.listdir(base)):
            p = os.path.join(base, v, "mod.rs")
            if os.path.isfile(p) and re.fullmatch(r"v\d+", v):
                yield ["api", g, v], p
    for sub in [["apimachinery", "pkg", "apis", "meta", "v1"], ["apimachinery", "pkg", "runtime"],
                ["apimachinery", "pkg", "util", "intstr"], ["apimachinery", "pkg", "api", "resource"]]:
        yield sub, os.path.join(src, *sub, "mod.rs")


def full_name(mod, rust_type):
    """Resolves a Rust type path relative to module `mod` to io.k8s.<...>.Name."""
    parts = [p for p in rust_type.split("::") if p]
    cur = list(mod)
    while parts and parts[0] == "super":
        cur.pop()
        parts.pop(0)
    return "io.k8s." + ".".join(cur + parts)


def inner_type(ty):
    ty = ty.strip()
    for wrap in ["::core::option::Option<", "::prost::alloc::vec::Vec<", "::prost::alloc::boxed::Box<"]:
        if ty.startswith(wrap):
            return inner_type(ty[len(wrap):-1])
    if ty.startswith("::prost::alloc::collections::BTreeMap<"):
        inner = ty[len("::prost::alloc::collections::BTreeMap<"):-1]
        return inner_type(inner.split(",", 1)[1])
    return ty


schema = {}
for mod, path in module_files():
    raw = open(path).read()
    # Field types that rustfmt wrapped onto the next line are joined back.
    raw = re.sub(r'(pub (?:r#)?\w+:)\s*\n\s*', r'\1 ', raw)
    lines = raw.split("\n")
    struct = None
    attr = None
    for line in lines:
        m = STRUCT.search(line)
        if m:
            struct = full_name(mod, m.group(1))
            schema[struct] = {}
            continue
        if struct is None:
            continue
        if line.startswith("}"):
            struct = None
            continue
        m = ATTR.search(line)
        if m:
            attr = m.group(1)
            continue
        m = FIELD.search(line)
        if m and attr:
            rust_name, ty = m.group(1), m.group(2)
            tag = re.search(r'tag = "(\d+)"', attr).group(1)
            kind = attr.split(",")[0].strip()
            repeated = "repeated" in attr
            if kind.startswith("btree_map"):
                value = re.search(r'btree_map = "string, (\w+)"', attr).group(1)
                entry = {"t": "map", "v": value}
                if value == "message":
                    entry["m"] = full_name(mod, inner_type(ty))
            elif kind == "message":
                entry = {"t": "message", "m": full_name(mod, inner_type(ty))}
            elif kind.startswith("bytes"):
                entry = {"t": "bytes"}
            else:
                entry = {"t": kind}
            if repeated:
                entry["r"] = 1
            props = defs.get(struct, {}).get("properties", {})
            json_name = next((p for p in props if norm(p) == norm(rust_name.removeprefix("r#"))), None)
            if json_name is None:
                # Lower camel case for types the OpenAPI document does not describe.
                head, *rest = rust_name.removeprefix("r#").split("_")
                json_name = head + "".join(w[:1].upper() + w[1:] for w in rest)
            entry["n"] = json_name
            schema[struct][tag] = entry
            attr = None

json.dump(schema, sys.stdout, separators=(",", ":"), sort_keys=True)
