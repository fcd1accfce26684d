#!/usr/bin/env python3
"""The library's include graph: no cycles between files, no upward includes.

Reads every #include "..." line under the library's source folders and fails
(exit 1) on:

- an include that goes upward in the layer order (LAYERS below), or across
  to a layer that is not listed as used;
- an include that climbs out of the including folder ("../x.h") or names a
  folder ("dir/x.h"), since such a path would bypass the per-layer include
  directories that the build gives each static library;
- a cycle between units. A unit is one .c file with the header(s) it
  implements. Unit A needs unit B when A reaches, through its includes, a
  header that declares a function or variable that B defines and A uses.
  A cycle is A needing B needing ... A;
- a header that declares what a higher layer defines;
- a cycle between headers (a.h includes b.h includes a.h).

Usage: check-include-graph.py SOURCE_ROOT
"""
import os
import re
import sys

# Bottom to top. Each layer: name, folder (relative to the source root; a
# file belongs to the deepest listed folder holding it), the layers it may
# include. The build (meson.build files) gives each layer's static library
# exactly these include directories.
LAYERS = [
    ("base", "lib/util", []),
    ("content", "lib/content", ["base"]),
    ("archive", "lib/archive", ["base"]),
    ("metadata", "lib/metadata", ["base"]),
    ("remotes", "remotes", ["base"]),
    ("snapshotters", "snapshot", ["base"]),
    ("oci", "oci", ["base"]),
    ("runtime", "lib/runtime", ["base"]),
    ("core", "lib/core", ["base"]),
    ("images", "lib/images", ["base", "content", "metadata", "core"]),
    ("events", "lib/events", ["base", "core"]),
    ("records", "lib/records", ["base", "content", "metadata", "core", "events"]),
    ("snapshots", "lib/snapshots", ["base", "content", "archive", "metadata", "snapshotters", "core",
                                    "events", "records"]),
    ("unpack", "lib/unpack", ["base", "content", "archive", "metadata", "snapshotters", "core",
                              "images", "events", "records", "snapshots"]),
    ("transfer", "lib/transfer", ["base", "content", "archive", "metadata", "remotes",
                                  "snapshotters", "core", "images", "events", "records",
                                  "snapshots", "unpack"]),
    ("objects", "lib", ["base", "content", "archive", "metadata", "remotes", "snapshotters",
                        "oci", "runtime", "core", "images", "events", "records", "snapshots",
                        "unpack", "transfer"]),
]
# Built into a separate program (the shim), never into the library.
EXCLUDE = []
# Generated into the build root.
GENERATED = {"config.h"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of(rel):
    best = None
    for name, folder, _ in LAYERS:
        if rel.startswith(folder + "/") and (best is None or len(folder) > len(best[1])):
            best = (name, folder)
    return best[0] if best else None


def strip_c(text):
    """Text without comments, string and character literals."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(?:\\.|[^'\\\n])*'", "''", text)
    return text


def header_decls(text):
    """Names of the functions and variables a header declares."""
    t = strip_c(text)
    t = re.sub(r"^\s*#.*?(?<!\\)$", " ", t, flags=re.M | re.S)
    names = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", t))
    names |= set(re.findall(r"\bextern\b[^;(]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*;", t))
    return names


DEF_RE = re.compile(r"^(?!static\b|extern\b|typedef\b|struct\b[^(]*;|#)"
                    r"[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*?\)\s*"
                    r"(?:__attribute__\s*\(\(.*?\)\)\s*)?\{", re.M | re.S)
VAR_RE = re.compile(r"^(?!static\b|extern\b|typedef\b|#)(?:const\s+)?[A-Za-z_][\w \t\*]*?"
                    r"\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*=", re.M)


def c_defs(text):
    """Names of the non-static functions and variables a .c file defines."""
    t = strip_c(text)
    return set(DEF_RE.findall(t)) | set(VAR_RE.findall(t))


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    files = {}
    for _, folder, _ in LAYERS:
        top = os.path.join(root, folder)
        for dirpath, dirnames, filenames in os.walk(top):
            rel_dir = os.path.relpath(dirpath, root)
            if any(rel_dir == e or rel_dir.startswith(e + "/") for e in EXCLUDE):
                continue
            for f in filenames:
                if f.endswith((".c", ".h")):
                    rel = os.path.join(rel_dir, f)
                    with open(os.path.join(root, rel), encoding="utf-8") as fh:
                        files[rel] = fh.read()

    problems = []
    roots = sorted({os.path.dirname(f) for f in files})

    def resolve(src, name):
        for d in [os.path.dirname(src)] + roots:
            cand = os.path.normpath(os.path.join(d, name))
            if cand in files:
                return cand
        return None

    includes = {}
    for rel, text in files.items():
        out = []
        for name in INCLUDE_RE.findall(strip_c_keep_includes(text)):
            if name in GENERATED:
                continue
            if "/" in name:
                problems.append("%s: #include \"%s\" names a folder; include the header by its "
                                "name (the layer's include directories find it)" % (rel, name))
            target = resolve(rel, name)
            if target is None:
                problems.append("%s: #include \"%s\" is not a library header" % (rel, name))
                continue
            out.append(target)
        includes[rel] = out

    # Upward (or sideways to an unlisted layer) includes.
    allowed = {name: set(uses) | {name} for name, _, uses in LAYERS}
    order = [name for name, _, _ in LAYERS]
    for name, _, uses in LAYERS:
        for u in uses:
            if order.index(u) >= order.index(name):
                problems.append("layer table: %s uses %s, which is not below it" % (name, u))
    for rel, targets in sorted(includes.items()):
        la = layer_of(rel)
        for t in targets:
            lb = layer_of(t)
            if lb not in allowed[la]:
                how = "upward" if order.index(lb) > order.index(la) else "to a layer it does not use"
                problems.append("%s (layer %s) includes %s (layer %s): %s" % (rel, la, t, lb, how))

    # Header cycles.
    headers = [f for f in files if f.endswith(".h")]
    hgraph = {h: [t for t in includes[h] if t.endswith(".h")] for h in headers}
    for comp in sccs(hgraph):
        if len(comp) > 1:
            problems.append("headers include each other: " + " -> ".join(sorted(comp)))

    # Unit cycles.
    decls = {h: header_decls(files[h]) for h in headers}
    sources = [f for f in files if f.endswith(".c")]
    defs = {c: c_defs(files[c]) for c in sources}
    uses = {c: set(re.findall(r"\b[A-Za-z_]\w*\b", strip_c(files[c]))) for c in sources}
    implementers = {h: [c for c in sources if decls[h] & defs[c]] for h in headers}

    def closure(f):
        seen, stack = set(), list(includes[f])
        while stack:
            h = stack.pop()
            if h in seen or not h.endswith(".h"):
                continue
            seen.add(h)
            stack.extend(includes[h])
        return seen

    # A header declares what its own layer or a lower one defines: one that
    # declared a higher layer's function would let a lower layer call upward.
    for h in sorted(headers):
        lh = layer_of(h)
        for b in implementers[h]:
            lb = layer_of(b)
            if lb != lh and lb not in allowed[lh]:
                syms = sorted(decls[h] & defs[b])
                problems.append("%s (layer %s) declares %s, defined in %s (layer %s)"
                                % (h, lh, ", ".join(syms), b, lb))

    ugraph = {}
    why = {}
    for a in sources:
        ugraph[a] = []
        for h in closure(a):
            for b in implementers[h]:
                if b == a:
                    continue
                syms = decls[h] & defs[b] & uses[a] - defs[a]
                if syms and b not in ugraph[a]:
                    ugraph[a].append(b)
                    why[(a, b)] = (h, sorted(syms)[0])
    for comp in sccs(ugraph):
        if len(comp) > 1:
            cyc = find_cycle(ugraph, comp)
            steps = []
            for x, y in zip(cyc, cyc[1:]):
                h, s = why[(x, y)]
                steps.append("%s needs %s (%s from %s)" % (x, y, s, h))
            problems.append("include cycle: " + "; ".join(steps))

    for p in problems:
        print("FAIL: " + p)
    if problems:
        print("%d problem(s) in the include graph" % len(problems))
        return 1
    print("include graph: %d files, no cycles, no upward includes" % len(files))
    return 0


def strip_c_keep_includes(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def sccs(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def find_cycle(graph, comp):
    """One cycle through the component, as a path that ends where it starts."""
    comp = set(comp)
    start = sorted(comp)[0]
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in graph[v]:
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start, start]


if __name__ == "__main__":
    sys.exit(main())
