#!/usr/bin/env python3
"""Install step: every name in a section-3 page's NAME section other than the
page's own gets a one-line page `.so man3/<page>.3`, so that `man NAME`
finds the page that documents it (as libcurl's and glibc's links do).

  link-pages.py MANDIR PAGE...   (MANDIR relative to the install prefix)
"""
import os
import re
import sys

mandir, pages = sys.argv[1], sys.argv[2:]
prefix = os.environ.get('MESON_INSTALL_DESTDIR_PREFIX') or os.environ.get('MESON_INSTALL_PREFIX', '/usr/local')
dest = os.path.join(prefix, mandir, 'man3')
os.makedirs(dest, exist_ok=True)
own = {os.path.basename(p) for p in pages}
n = 0
for page in pages:
    base = os.path.basename(page)
    text = open(page, encoding='utf-8').read()
    m = re.search(r'^\.SH NAME\n(.*?)\\-', text, re.S | re.M)
    if not m:
        continue
    for name in re.findall(r'\b(ctr_\w+)\b', m.group(1).replace('\\', '')):
        link = name + '.3'
        if link in own:
            continue
        with open(os.path.join(dest, link), 'w', encoding='utf-8') as f:
            f.write('.so man3/%s\n' % base)
        n += 1
if not os.environ.get('MESON_INSTALL_QUIET'):
    print('Installed %d man page links in %s' % (n, dest))
