#!/bin/sh
# corpora/pdf/make-variants.sh — regenerate the damaged, encrypted and scanned variants
# of the real PDFs in this directory (the results are committed; this documents how
# they were made).  Needs qpdf, poppler-utils (pdftoppm) and python3.
set -eu
cd "$(dirname "$0")"

# Encrypted (AES-256): user password "hunter2"; and owner-password-only (opens freely).
qpdf --encrypt hunter2 owner-pw 256 -- gpl-licence.pdf gpl-licence-encrypted.pdf
qpdf --encrypt '' owner-pw 256 -- gpl-licence.pdf gpl-licence-owner-only.pdf

# Truncated: the first 70000 of 163288 bytes (no xref, no trailer, no %%EOF).
head -c 70000 apssamp.pdf > apssamp-truncated.pdf

# Corrupt: page 2's content stream overwritten with 'A' bytes (lengths kept), so the
# file opens but page 2 yields nothing (rewritten with uncompressed streams first so
# the damage hits page operators, then compressed again).
qpdf --object-streams=disable --stream-data=uncompress apssamp.pdf tmp-plain.pdf
python3 - <<'PY'
d = bytearray(open('tmp-plain.pdf', 'rb').read())
# the second page's /Contents object: find "/Type /Page" objects in order
import re
pages = [m.start() for m in re.finditer(rb'/Type /Page\b(?!s)', d)]
obj = re.search(rb'/Contents (\d+) 0 R', d[d.rfind(b' obj', 0, pages[1]):pages[1] + 400])
num = obj.group(1)
at = d.find(b'\n' + num + b' 0 obj')
s = d.find(b'stream', at) + 7
e = d.find(b'endstream', s)
for k in range(s, e - 1):
    d[k] = 0x41
open('tmp-corrupt.pdf', 'wb').write(d)
PY
qpdf --compress-streams=y --object-streams=generate tmp-corrupt.pdf apssamp-corrupt.pdf
rm -f tmp-plain.pdf tmp-corrupt.pdf

# Scanned: page 1 of table-page.pdf rendered at 40 dpi, grey, as the only content of
# a page (no text layer).
pdftoppm -gray -r 40 -f 1 -l 1 table-page.pdf tmp-scan
python3 - <<'PY'
import glob, zlib
pgm = open(glob.glob('tmp-scan*.pgm')[0], 'rb').read()
parts = pgm.split(b'\n', 3)
w, h = map(int, parts[1].split())
pix = zlib.compress(parts[3])
objs = [
    b'<< /Type /Catalog /Pages 2 0 R >>',
    b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>',
    b'<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n' % (w, h, len(pix)) + pix + b'\nendstream',
]
content = b'q 595 0 0 842 0 0 cm /Im0 Do Q'
objs.append(b'<< /Length %d >>\nstream\n' % len(content) + content + b'\nendstream')
out = bytearray(b'%PDF-1.4\n')
offs = []
for i, o in enumerate(objs):
    offs.append(len(out))
    out += b'%d 0 obj\n' % (i + 1) + o + b'\nendobj\n'
x = len(out)
out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
for o in offs:
    out += b'%010d 00000 n \n' % o
out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, x)
open('scanned-page.pdf', 'wb').write(out)
PY
rm -f tmp-scan*.pgm
