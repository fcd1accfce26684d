#!/usr/bin/env python3
"""Every exported function has a man page (libctr's, section 3), and the
pages say what the headers say.

  check-man-pages.py LIBRARY VERSION_SCRIPT MAN_DIR INCLUDE_DIR

Fails, naming each case, when:
  - the library's exported symbols (nm -D) and the version script disagree;
  - an exported symbol is named in no page's NAME or SYNOPSIS section;
  - a SYNOPSIS prototype differs from the header's declaration, or names a
    function that is not exported;
  - a page is not in man/meson.build's install list;
  - a SEE ALSO entry of section 3 names no page and no name a page documents
    (the install links every NAME entry to its page).
"""
import glob
import os
import re
import subprocess
import sys


def exported_symbols(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in 'TDBRVW' and not f[2].startswith('LIBCTR_'):
            syms.add(f[2].split('@')[0])
    return syms


def listed_symbols(script):
    text = re.sub(r'/\*.*?\*/', '', open(script).read(), flags=re.S)
    return set(re.findall(r'^\s*(ctr_\w+)\s*;', text, re.M))


def norm(decl):
    decl = re.sub(r'\s+', ' ', decl).strip()
    decl = re.sub(r'\s*([(),*\[\]])\s*', r'\1', decl)
    return decl


def header_decls(include):
    decls = {}
    for h in sorted(glob.glob(os.path.join(include, 'ctr', '**', '*.h'), recursive=True)):
        text = re.sub(r'/\*.*?\*/', ' ', open(h).read(), flags=re.S)
        for m in re.finditer(r'\bCTR_EXPORT\s+([^;#]*?\b(ctr_\w+)\s*\([^;]*\))\s*;', text, re.S):
            decls[m.group(2)] = (norm(m.group(1)), os.path.relpath(h, include))
    return decls


def roff_text(s):
    s = re.sub(r'\\f[BIRP]|\\f\(..|\\&', '', s)
    return s.replace('\\-', '-').replace('\\e', '\\')


def sections(page):
    secs, cur = {}, None
    for line in open(page, encoding='utf-8'):
        line = line.rstrip('\n')
        m = re.match(r'\.SH\s+"?([^"]*)"?', line)
        if m:
            cur = m.group(1).strip()
            secs[cur] = []
        elif cur is not None:
            secs[cur].append(line)
    return secs


def synopsis_protos(lines):
    body = []
    for line in lines:
        if line.startswith('.'):
            line = re.sub(r'^\.(B|BI|BR|I)\s+', '', line) if re.match(r'^\.(B|BI|BR|I)\s', line) else ''
            line = line.replace('"', '')
        if line.lstrip().startswith('#include') or line.lstrip().startswith('/*'):
            continue
        body.append(roff_text(line))
    protos = {}
    for chunk in ' '.join(body).split(';'):
        m = re.search(r'\b(ctr_\w+)\s*\(', chunk)
        if m:
            protos[m.group(1)] = norm(chunk)
    return protos


def main():
    lib, script, man_dir, include = sys.argv[1:5]
    problems = []
    exported = exported_symbols(lib)
    listed = listed_symbols(script)
    for s in sorted(exported - listed):
        problems.append('exported but not in %s: %s' % (os.path.basename(script), s))
    for s in sorted(listed - exported):
        problems.append('in %s but not exported: %s' % (os.path.basename(script), s))
    symbols = exported | listed
    decls = header_decls(include)

    meson_build = open(os.path.join(man_dir, 'meson.build')).read()
    installed = set(re.findall(r"'([\w.-]+\.\d)'", meson_build))
    documented = {}
    page_names = set()
    see_also = []
    pages = sorted(glob.glob(os.path.join(man_dir, '*.[0-9]')))
    for page in pages:
        base = os.path.basename(page)
        page_names.add(base)
        if base not in installed:
            problems.append('%s: not in man/meson.build\'s list of pages' % base)
        secs = sections(page)
        name_text = roff_text(' '.join(secs.get('NAME', [])))
        for n in re.findall(r'\b(ctr_\w+)', name_text.split(' - ')[0]):
            documented.setdefault(n, base)
            page_names.add(n + '.3')
        for n, proto in synopsis_protos(secs.get('SYNOPSIS', [])).items():
            documented.setdefault(n, base)
            if n not in symbols:
                problems.append('%s: SYNOPSIS has %s, which the library does not export' % (base, n))
            elif n not in decls:
                problems.append('%s: SYNOPSIS has %s, which no header declares' % (base, n))
            elif proto != decls[n][0]:
                problems.append('%s: SYNOPSIS of %s is\n    %s\n  but %s declares\n    %s'
                                % (base, n, proto, decls[n][1], decls[n][0]))
        for line in secs.get('SEE ALSO', []):
            for ref in re.findall(r'^\.BR\s+(\w+)\s+\(3\)', line):
                see_also.append((base, ref))
    for base, ref in see_also:
        if ref + '.3' not in page_names:
            problems.append('%s: SEE ALSO names %s(3), which no page documents' % (base, ref))
    undocumented = sorted(symbols - set(documented))
    for s in undocumented:
        where = decls[s][1] if s in decls else 'no header'
        problems.append('no man page documents %s (%s) in its NAME or SYNOPSIS' % (s, where))
    if problems:
        for p in problems:
            print('FAIL: ' + p, file=sys.stderr)
        if undocumented:
            print('%d exported symbols lack a page: %s' % (len(undocumented), ' '.join(undocumented)),
                  file=sys.stderr)
        return 1
    print('%d exported symbols, each documented by one of %d pages whose prototypes match the headers'
          % (len(symbols), len(pages)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
