#!/bin/sh
# corpora/html/make-variants.sh — regenerate the legacy-charset variants of the real
# UTF-8 pages in this directory (results committed; this documents how they were made).
# Characters a charset lacks become numeric character references (&#8222;), so each
# variant must extract to exactly the same text as its UTF-8 original.  Needs python3.
set -eu
cd "$(dirname "$0")"

python3 - <<'PY'
import re

META = re.compile(r'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n?')

def variant(src, dst, codec, declare):
    html = open(src, encoding='utf-8').read()
    if declare is None:
        html = META.sub('', html)
    else:
        html = html.replace('charset=UTF-8', 'charset=' + declare)
    open(dst, 'wb').write(html.encode(codec, errors='xmlcharrefreplace'))

# German page in Windows-1252, declared as "ISO-8859-1" (browsers read that as 1252),
# undeclared, and declared as UTF-8 (which it is not)
variant('install-de.html', 'install-de-latin1.html', 'cp1252', 'ISO-8859-1')
variant('install-de.html', 'install-de-latin1-nodecl.html', 'cp1252', None)
variant('install-de.html', 'install-de-wrong-charset.html', 'cp1252', 'UTF-8')
# Japanese page in Shift_JIS (CP932), declared and undeclared
variant('install-ja.html', 'install-ja-sjis.html', 'cp932', 'Shift_JIS')
variant('install-ja.html', 'install-ja-sjis-nodecl.html', 'cp932', None)
# Korean in EUC-KR (CP949), Chinese in GBK (GB18030), Russian in Windows-1251: undeclared
variant('install-ko.html', 'install-ko-euckr-nodecl.html', 'cp949', None)
variant('install-zh.html', 'install-zh-gbk-nodecl.html', 'gb18030', None)
variant('install-ru.html', 'install-ru-cp1251-nodecl.html', 'cp1251', None)
PY
