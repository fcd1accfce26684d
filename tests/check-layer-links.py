#!/usr/bin/env python3
"""The layers, at link level: no layer calls a function a higher layer
defines.

The include check (check-include-graph.py) sees headers; a call through a
public header (ctr/*.h) to a function that the object layer defines would
pass it. This check reads the symbols of each layer's static library with
nm and fails (exit 1) on every undefined reference of a layer to a symbol
defined by a layer that is not itself or one it may use, as the ctr_layers
table of the top meson.build lists them. The object layer ("internal")
holds every layer's objects (link_whole): what it defines beyond them is
its own.

Usage: check-layer-links.py SOURCE_ROOT BUILD_ROOT
"""
import os
import re
import subprocess
import sys


def layers(src):
    text = open(os.path.join(src, "meson.build")).read()
    table = text[text.index("ctr_layers = ["):]
    table = table[:table.index("\n]\n")]
    out = []
    for m in re.finditer(r"\['(\w+)', \w+, \[[^\]]*\],\s*\[([^\]]*)\]\]", table):
        out.append((m.group(1), re.findall(r"'(\w+)'", m.group(2))))
    return out


def symbols(archive):
    """{object: (defined set, undefined set)} of an archive."""
    res = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True)
    objs = {}
    for line in res.stdout.splitlines():
        # "archive:object: <addr> T name" or "archive:object:   U name"
        m = re.match(r"[^:]+:([^:]+):\s*(?:[0-9a-f]+\s+)?([A-Za-z])\s+(\S+)$", line)
        if not m:
            continue
        obj, kind, name = m.groups()
        d, u = objs.setdefault(obj, (set(), set()))
        (u if kind == "U" else d).add(name) if kind in "UTDBRCVW" else None
    return objs


def main():
    src, build = sys.argv[1], sys.argv[2]
    table = layers(src)
    if len(table) < 10:
        print(f"check-layer-links: read only {len(table)} layers from meson.build", file=sys.stderr)
        return 1
    owner = {}  # symbol -> (layer, object)
    uses = []   # (layer, object, symbol)
    for name, _ in table:
        archive = os.path.join(build, f"libctr-{name}.a")
        if not os.path.exists(archive):
            continue  # a layer with no sources (core)
        for obj, (d, u) in symbols(archive).items():
            for s in d:
                owner.setdefault(s, (name, obj))
            if name != "internal":
                uses += [(name, obj, s) for s in u]
    deps = {name: set(d) | {name} for name, d in table}
    bad = []
    for layer, obj, s in uses:
        if s in owner and owner[s][0] not in deps[layer]:
            bad.append(f"{layer} ({obj}) uses {s}, which {owner[s][0]} ({owner[s][1]}) defines")
    for b in sorted(set(bad)):
        print(b)
    checked = sum(1 for n, _ in table if os.path.exists(os.path.join(build, f"libctr-{n}.a")))
    print(f"check-layer-links: {checked} layer libraries, {len(set(bad))} upward references")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
