#!/usr/bin/env python3
"""docs/containerd-parity.md stays true.

Every table row of the parity document has four cells: containerd option,
libctr, test, note. This check fails (exit 1), naming the row, when
- a libctr name (a backquoted ctr_* word in the libctr cell) is not
  exported in lib/libctr.sym;
- the libctr cell has no name and is not "missing (issue 11 item N)",
  "missing (not in issue 11)", "n/a: daemon only" or "n/a: not Linux";
- a row without a libctr name names a test (no coverage without a call);
- a test (a backquoted word in the test cell) is not a test of
  tests/meson.build, or the cell is neither tests nor "none";
- an exported ctr_with_* option appears in no row (a new option gets a row).
It prints the counts of rows by kind.

Usage: check-parity-table.py SOURCE_ROOT
       check-parity-table.py --selftest
"""
import os
import re
import sys

NONE_FORMS = (
    re.compile(r"^missing \(issue 11 item [1-5]\)$"),
    re.compile(r"^missing \(not in issue 11\)$"),
    re.compile(r"^n/a: daemon only$"),
    re.compile(r"^n/a: not Linux$"),
)


def exported(src):
    text = open(os.path.join(src, "lib", "libctr.sym")).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return set(re.findall(r"\b(ctr_\w+)\s*;", text))


def meson_tests(src):
    """Names of the tests tests/meson.build defines: test('name', ...) and
    the keys of the name -> source tables its foreach loops turn into tests."""
    text = open(os.path.join(src, "tests", "meson.build")).read()
    names = set(re.findall(r"\btest\(\s*'([^']+)'", text))
    for m in re.finditer(r"^\s*(\w+_tests)\s*=\s*\{(.*?)^\s*\}", text, flags=re.S | re.M):
        if re.search(r"foreach\s+\w+\s*,\s*\w+\s*:\s*" + m.group(1) + r"\b", text):
            names.update(re.findall(r"^\s*'([^']+)'\s*:", m.group(2), flags=re.M))
    return names


def split_row(line):
    """The cells of a markdown table row; a | inside backquotes stays."""
    cells, cur, code = [], "", False
    for ch in line.strip()[1:]:
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return cells


def rows(path):
    """(line number, cells) of every body row of every table whose header
    is containerd option | libctr | test | note."""
    out, in_table = [], False
    for no, line in enumerate(open(path), 1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = split_row(line)
        if [c.lower() for c in cells] == ["containerd option", "libctr", "test", "note"]:
            in_table = True
            continue
        if in_table and not all(re.fullmatch(r":?-+:?", c) for c in cells):
            out.append((no, cells))
    return out


def check(src):
    """The errors and the row counts of SOURCE_ROOT's parity document."""
    doc = os.path.join(src, "docs", "containerd-parity.md")
    syms, tests = exported(src), meson_tests(src)
    errors, seen = [], set()
    counts = {"covered": 0, "no test": 0, "missing": 0, "daemon only": 0, "not Linux": 0, "libctr only": 0}
    table = rows(doc)
    if not table:
        errors.append(f"{doc}: no parity table found")
    for no, cells in table:
        where = f"{doc}:{no}: row {cells[0] if cells else '?'!r}"
        if len(cells) != 4:
            errors.append(f"{where}: {len(cells)} cells, want 4 (containerd option | libctr | test | note)")
            continue
        option, lib, test, _ = cells
        names = re.findall(r"`(ctr_\w+)`", lib)
        for n in names:
            seen.add(n)
            if n not in syms:
                errors.append(f"{where}: {n} is not exported in lib/libctr.sym")
        if not names and not any(f.match(lib) for f in NONE_FORMS):
            errors.append(f"{where}: libctr cell {lib!r} names no ctr_* call and is not "
                          "'missing (issue 11 item N)', 'missing (not in issue 11)', "
                          "'n/a: daemon only' or 'n/a: not Linux'")
        if test == "none":
            named = []
        else:
            named = re.findall(r"`([^`]+)`", test)
            if not named or re.sub(r"`[^`]+`|[,\s]", "", test):
                errors.append(f"{where}: test cell {test!r} is neither backquoted test names nor 'none'")
        for t in named:
            if t not in tests:
                errors.append(f"{where}: {t} is not a test in tests/meson.build")
        if not names and named:
            errors.append(f"{where}: names a test but no libctr call")
        if not names:
            key = "missing" if lib.startswith("missing") else (
                "daemon only" if "daemon" in lib else "not Linux")
        elif option.startswith("—"):
            key = "libctr only"
        else:
            key = "covered" if named else "no test"
        counts[key] += 1
    for n in sorted(s for s in syms if s.startswith("ctr_with_") and s not in seen):
        errors.append(f"{doc}: exported option {n} is in no row: add a row for it")
    return errors, counts


SELFTEST_DOC = """| containerd option | libctr | test | note |
|---|---|---|---|
| `WithGood` | `ctr_with_good` | `spec` | |
| `WithGone` | `ctr_with_gone` | `spec` | |
| `WithBadTest` | `ctr_with_good` | `nosuch` | |
| `WithVague` | later | none | |
| `WithClaim` | missing (issue 11 item 2) | `spec` | |
| `WithShort` | `ctr_with_good` | |
"""


def selftest():
    """The check fails on each kind of bad row, naming it, and passes a good
    table: run on a made-up source root."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        for d in ("lib", "tests", "docs"):
            os.mkdir(os.path.join(root, d))
        with open(os.path.join(root, "lib", "libctr.sym"), "w") as f:
            f.write("/* ctr_with_comment; */\nLIBCTR_0.1 {\nglobal:\n\tctr_with_good;\n\tctr_with_unlisted;\n};\n")
        with open(os.path.join(root, "tests", "meson.build"), "w") as f:
            f.write("t = {\n  'spec': files('x.c'),\n}\nforeach n, s : t\nendforeach\n"
                    "unit_tests = {\n  'spec': files('x.c'),\n}\nforeach name, srcs : unit_tests\nendforeach\n")
        doc = os.path.join(root, "docs", "containerd-parity.md")
        with open(doc, "w") as f:
            f.write(SELFTEST_DOC)
        errors, _ = check(root)
        want = [
            "row '`WithGone`': ctr_with_gone is not exported",
            "row '`WithBadTest`': nosuch is not a test in tests/meson.build",
            "row '`WithVague`': libctr cell 'later' names no ctr_* call",
            "row '`WithClaim`': names a test but no libctr call",
            "row '`WithShort`': 3 cells, want 4",
            "exported option ctr_with_unlisted is in no row",
        ]
        bad = [w for w in want if not any(w in e for e in errors)]
        if bad or len(errors) != len(want) or any("ctr_with_comment" in e for e in errors):
            print("selftest: want errors", want, "got", errors)
            return 1
        with open(doc, "w") as f:
            f.write(SELFTEST_DOC.split("\n| `WithGone`")[0] + "\n| `WithU` | `ctr_with_unlisted` | none | |\n")
        errors, counts = check(root)
        if errors or counts["covered"] != 1 or counts["no test"] != 1:
            print("selftest: a good table fails:", errors, counts)
            return 1
    print("parity-table selftest: ok")
    return 0


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    errors, counts = check(sys.argv[1])
    for e in errors:
        print(e)
    print("parity rows: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
