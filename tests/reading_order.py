#!/usr/bin/python3
"""tests/reading_order.py — how well longread keeps a PDF page's reading order, against
references checked by eye (corpora/pdf/order/NAME.pN.txt: page N of corpora/pdf/NAME.pdf
as a person reads it).  The score of a page is the share of the reference's word pairs
(consecutive words, after re-joining words hyphenated at a line end) that are also
consecutive in longread's text of that page: 1.0 when every line follows the one it
should, lower by about two pairs for every line spliced onto another column's or read
out of place.  Used by tests/cli_reading.sh (make check) and make bench-extract.
Usage: reading_order.py --longread LONGREAD [--min-page X] [--min-mean Y] ORDER_DIR
(exit 1 when a page or the mean is below its bar)
Test and benchmark tooling, not part of longread."""
import argparse
import collections
import os
import re
import subprocess
import sys


def words(text):
    text = re.sub(r"(?<=[a-z])-\n(?=[a-z])", "", text)
    return re.findall(r"\w+", text.casefold())


def score(ref, text):
    """Share of ref's consecutive word pairs consecutive in text too."""
    r, t = words(ref), words(text)
    rp = collections.Counter(zip(r, r[1:]))
    tp = collections.Counter(zip(t, t[1:]))
    return sum((rp & tp).values()) / max(1, sum(rp.values()))


def pages(longread, pdf):
    """longread's text of each page of pdf, in order (split at its page markers)."""
    p = subprocess.run([longread, "extract", pdf], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s: longread extract: exit %d" % (pdf, p.returncode))
    out = p.stdout.decode("utf-8").split("\n</document>")[0]
    return re.split(r"^\[[^\n]* p\.[^\n\]]+\]$", out, flags=re.M)[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--longread", required=True)
    ap.add_argument("--min-page", type=float, default=0.0)
    ap.add_argument("--min-mean", type=float, default=0.0)
    ap.add_argument("order")
    args = ap.parse_args()
    refs = sorted(f for f in os.listdir(args.order) if re.match(r".+\.p\d+\.txt$", f))
    cache = {}
    rows = []
    for f in refs:
        name, n = re.match(r"(.+)\.p(\d+)\.txt$", f).groups()
        pdf = os.path.join(args.order, "..", name + ".pdf")
        if pdf not in cache:
            cache[pdf] = pages(args.longread, pdf)
        with open(os.path.join(args.order, f), encoding="utf-8") as fh:
            ref = fh.read()
        got = cache[pdf][int(n) - 1] if int(n) <= len(cache[pdf]) else ""
        rows.append(("%s.pdf p.%s" % (name, n), score(ref, got)))
    mean = sum(s for _, s in rows) / max(1, len(rows))
    print("%-26s %s" % ("page", "reading order"))
    for page, s in rows:
        print("%-26s %.3f%s" % (page, s, "  (below %.2f)" % args.min_page if s < args.min_page else ""))
    print("%-26s %.3f%s" % ("mean of %d" % len(rows), mean,
                             "  (below %.2f)" % args.min_mean if mean < args.min_mean else ""))
    return 1 if not rows or mean < args.min_mean or any(s < args.min_page for _, s in rows) else 0

if __name__ == "__main__":
    sys.exit(main())
