#!/usr/bin/env python3
"""tests/reader/needle.py — needle-in-a-haystack corpora for the reader, and the scoring
of longread's answers over them.  Standard library only: the tests (make check) and the
benchmark (bench/needle.sh) run it; the facts come from the held-out "eval" recipe
(tests/reader/facts.py), which training never sees.

  needle.py gen --longread L -m MODEL -c WINDOW --seed N [--depths 0,10,..,100]
                [--per-depth K] [--absent A] -o DIR
      DIR/docs/...        the documents, sized so the window is nearly full
      DIR/questions.txt   one question per line
      DIR/expect.jsonl    per question: depth, the fact's line, its document, value
  needle.py score --expect DIR/expect.jsonl --answers ANSWERS.jsonl [--json]
      ANSWERS.jsonl is `longread ask --json` output; prints exact answers and verified
      citations, per depth, and exits 0.
  needle.py table DIR
      the tables of bench/needle.sh: every DIR/w<WINDOW>-s<SEED>/<KV>.score
  needle.py dev DIR TAG [GLOB] [--longread L -m MODEL]
      tests/reader/dev.sh's summary of DIR/GLOB/TAG.jsonl: exact answers per window size,
      and why the others failed"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from facts import NOT_FOUND, Recipe  # noqa: E402

RESERVE = 340   # tokens kept free for the question and the answer (-n)


def plan_tokens(args, docs_dir):
    """The prompt's size and the window, as ask and pack count them when the questions are
    not known yet (piped on stdin, or asked of a .lrc later): with their room for one."""
    out = subprocess.run([args.longread, "plan", "-m", args.model, "-c", str(args.ctx),
                          "-n", str(args.answer), "--json", "docs"],
                         cwd=os.path.dirname(docs_dir), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    if out.returncode not in (0, 6):
        sys.exit("needle: longread plan failed: " + out.stderr.decode(errors="replace"))
    j = json.loads(out.stdout)
    b = j.get("budget", j)
    return int(b["total"]), int(b["window"])


def write(args, scale):
    """Write the corpus with filler of scale bytes; returns the expectations."""
    rng = random.Random(args.seed)
    rec = Recipe("eval", rng)
    docs_dir = os.path.join(args.out, "docs")
    if os.path.exists(docs_dir):
        shutil.rmtree(docs_dir)
    os.makedirs(docs_dir)
    n_docs = max(1, min(args.docs, int(scale // 3000) + 1))
    used = set()
    docs = []
    for i in range(n_docs):
        src = rng.randrange(len(rec.lines))
        ext, lines = rec.filler(src, scale / n_docs)
        docs.append((rec.filename(ext, used).replace("/", "-"), lines))
    docs.sort(key=lambda d: d[0].encode())   # the order longread reads a directory in
    total = sum(len(ls) for _, ls in docs)
    # the facts: per depth, per_depth facts asked, plus near-duplicates (not asked)
    keys = set()
    facts = []
    depths = [int(d) for d in args.depths.split(",")]
    for d in depths:
        for k in range(args.per_depth):
            while True:
                a, e = rec.attr(), rec.entity()
                if (a, e) not in keys:
                    break
            keys.add((a, e))
            at = min(total, round(d / 100 * total) + k * 3)
            facts.append(dict(a=a, e=e, v=rec.value(), depth=d, at=at, asked=True))
    for f in list(facts):
        if rng.random() < args.near:
            e = rec.near_entity(f["e"])
            if (f["a"], e) not in keys:
                keys.add((f["a"], e))
                at = min(total, max(0, f["at"] + rng.randrange(-total // 8 - 1, total // 8 + 1)))
                facts.append(dict(a=f["a"], e=e, v=rec.value(), depth=None, at=at, asked=False))
    for f in facts:
        f["text"] = rec.fact_line(f["a"], f["e"], f["v"])
    # plant: global line index -> (document, line)
    by_at = sorted(range(len(facts)), key=lambda i: facts[i]["at"])
    g = 0
    j = 0
    for di, (name, lines) in enumerate(docs):
        last = di == len(docs) - 1
        out = []
        for i, ln in enumerate(lines + [None]):
            while j < len(by_at) and (facts[by_at[j]]["at"] <= g + i or (ln is None and last)):
                f = facts[by_at[j]]
                out.append(f["text"])
                f["line"], f["name"] = len(out), name
                j += 1
            if ln is not None:
                out.append(ln)
        g += len(lines)
        with open(os.path.join(docs_dir, name), "w", encoding="utf-8") as fh:
            fh.write("\n".join(out) + "\n")
    qs = []
    for f in facts:
        if f["asked"]:
            qs.append(dict(question=rec.question(f["a"], f["e"]), kind="found", depth=f["depth"],
                           text=f["text"], value=f["v"], name=f["name"], line=f["line"]))
    for _ in range(args.absent):
        while True:
            f = rng.choice(facts)
            a, e = (f["a"], rec.near_entity(f["e"])) if rng.random() < 0.5 else (rec.attr(), f["e"])
            if (a, e) not in keys:
                break
        keys.add((a, e))
        qs.append(dict(question=rec.question(a, e), kind="absent", depth=None))
    rng.shuffle(qs)
    with open(os.path.join(args.out, "questions.txt"), "w", encoding="utf-8") as fh:
        fh.write("".join(q["question"] + "\n" for q in qs))
    with open(os.path.join(args.out, "expect.jsonl"), "w", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(q) + "\n" for q in qs))
    return docs_dir


def gen(args):
    args.out = os.path.abspath(args.out)    # plan runs in the corpus directory
    args.model = os.path.abspath(args.model)
    os.makedirs(args.out, exist_ok=True)
    target = args.ctx - RESERVE - 300        # instructions and margins
    scale = max(800.0, target * 2.7)
    best = None                              # (total, scale) of the fullest that fits
    for _ in range(12):
        docs_dir = write(args, scale)
        total, window = plan_tokens(args, docs_dir)
        if total <= window and total >= window * args.fill:
            break
        if total <= window and (best is None or total > best[0]):
            best = (total, scale)
        # aim at the middle of [fill, 1]; damp the step, documents come in whole lines
        scale *= ((window * (1 + args.fill) / 2) / total) ** 0.8
    else:
        if best is None or best[0] < window * (args.fill - 0.1):
            sys.exit("needle: could not size the corpus to the window (last: %d of %d)" % (total, window))
        docs_dir = write(args, best[1])
        total, window = plan_tokens(args, docs_dir)
    print("needle: %s: %d of %d tokens" % (args.out, total, window), file=sys.stderr)


def verdict(q, a):
    """(exact, cited) for expectation q and one `ask --json` record a."""
    ans = a.get("answer", "").strip()
    if q["kind"] == "absent":
        return ans.startswith(NOT_FOUND.rstrip(".")), None
    exact = ('"%s"' % q["text"]) in ans
    cited = any(c.get("status") == "verified" for c in a.get("citations", []))
    return exact, exact and cited


def score(args):
    with open(args.expect, encoding="utf-8") as fh:
        exp = [json.loads(x) for x in fh if x.strip()]
    with open(args.answers, encoding="utf-8") as fh:
        ans = [json.loads(x) for x in fh if x.strip()]
    by_q = {a["question"]: a for a in ans}
    rows = []
    for q in exp:
        a = by_q.get(q["question"], {})
        exact, cited = verdict(q, a)
        rows.append(dict(kind=q["kind"], depth=q["depth"], exact=bool(exact), cited=cited,
                         answer=a.get("answer")))
    found = [r for r in rows if r["kind"] == "found"]
    absent = [r for r in rows if r["kind"] == "absent"]
    summary = dict(found=len(found), exact=sum(r["exact"] for r in found),
                   cited=sum(bool(r["cited"]) for r in found),
                   absent=len(absent), absent_ok=sum(r["exact"] for r in absent),
                   depths={})
    for r in found:
        d = summary["depths"].setdefault(str(r["depth"]), [0, 0, 0])
        d[0] += 1
        d[1] += r["exact"]
        d[2] += bool(r["cited"])
    if args.json:
        summary["rows"] = rows
        print(json.dumps(summary))
    else:
        print("exact %d of %d, citation verified %d; not-found answered right %d of %d"
              % (summary["exact"], summary["found"], summary["cited"], summary["absent_ok"],
                 summary["absent"]))
        for r in rows:
            if not r["exact"]:
                print("  wrong (%s, depth %s): %r" % (r["kind"], r["depth"], r["answer"]))


def fact_key(q):
    """The key of a planted fact: its sentence up to the value, 'The ATTR of ENTITY is'."""
    return q["text"][:q["text"].rindex(" " + q["value"])]


def window_of(corpus):
    """The window size of a corpus directory named w<WINDOW>-s<SEED>."""
    return int(os.path.basename(corpus)[1:].split("-s")[0])


def table(args):
    """Markdown tables of every score under args.dir (bench/needle.sh's layout:
    w<WINDOW>-s<SEED>/<KV>.score)."""
    import glob
    cells = {}
    for path in glob.glob(os.path.join(args.dir, "w*-s*", "*.score")):
        w = window_of(os.path.dirname(path))
        kv = os.path.basename(path)[:-len(".score")]
        with open(path) as fh:
            sc = json.load(fh)
        c = cells.setdefault((w, kv), dict(found=0, exact=0, cited=0, absent=0, absent_ok=0, depths={}))
        for k in ("found", "exact", "cited", "absent", "absent_ok"):
            c[k] += sc[k]
        for d, (n, e, ci) in sc["depths"].items():
            x = c["depths"].setdefault(int(d), [0, 0, 0])
            x[0] += n
            x[1] += e
            x[2] += ci
        # answers word for word the same as the f32 cache's (every question, absent too)
        ref = os.path.join(os.path.dirname(path), "f32.jsonl")
        mine = path[:-len(".score")] + ".jsonl"
        if os.path.exists(ref) and os.path.exists(mine):
            with open(ref, encoding="utf-8") as fa, open(mine, encoding="utf-8") as fb:
                pairs = list(zip(fa, fb))
            c["same"] = c.get("same", 0) + sum(json.loads(a)["answer"] == json.loads(b)["answer"]
                                               for a, b in pairs)
            c["asked"] = c.get("asked", 0) + len(pairs)
    order = {"f32": 0, "f16": 1, "q8": 2, "q4": 3}
    depths = sorted({d for c in cells.values() for d in c["depths"]})
    print("\nexact answers, %% of the facts planted at each depth (n per cell: %s)\n"
          % ", ".join(sorted({str(c["depths"][d][0]) for c in cells.values() for d in c["depths"]})))
    print("| window | KV | " + " | ".join("%d%%" % d for d in depths)
          + " | all | cited | absent | same as f32 |")
    print("|---|---|" + "---:|" * (len(depths) + 4))
    for (w, kv) in sorted(cells, key=lambda k: (k[0], order.get(k[1], 9))):
        c = cells[(w, kv)]
        row = ["%.0f" % (100.0 * c["depths"][d][1] / c["depths"][d][0]) if d in c["depths"] else "-"
               for d in depths]
        same = "%.1f" % (100.0 * c["same"] / c["asked"]) if c.get("asked") else "-"
        print("| {:,} | {} | {} | {:.1f} | {:.1f} | {}/{} | {} |".format(
            w, kv, " | ".join(row), 100.0 * c["exact"] / max(1, c["found"]),
            100.0 * c["cited"] / max(1, c["found"]), c["absent_ok"], c["absent"], same))


def key_tokens(args, keys):
    """Each of keys as token ids (longread tokenize, one file per key)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, k in enumerate(keys):
            files.append(os.path.join(tmp, "%d" % i))
            with open(files[-1], "w", encoding="utf-8") as fh:
                fh.write(k)
        out = subprocess.run([args.longread, "tokenize", "-m", args.model] + files, stdout=subprocess.PIPE,
                             check=True).stdout.decode()
    ids = []
    for line in out.split("\n"):
        if line.startswith("==> "):
            ids.append([])
        elif line.strip():
            ids[-1].append(int(line))
    return ids if len(keys) > 1 else [[int(x) for x in out.split()]]


def shared_suffixes(args, c, exp, n=4):
    """Per found fact of corpus c: whether the last n tokens of its key ('... of ENTITY
    is') end another fact line's key in the documents too.  An n-gram copy head that
    matches the last n tokens cannot tell such facts apart."""
    lines = []
    for root, _, files in os.walk(os.path.join(c, "docs")):
        for f in files:
            with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                lines += [x for x in fh.read().split("\n") if x.startswith("The ") and " of " in x and " is " in x]
    found = [q for q in exp.values() if q["kind"] == "found"]
    keys = [" " + x[:x.rindex(" is ") + 3] for x in lines]
    keys += [" " + fact_key(q) for q in found]
    ids = key_tokens(args, keys)
    doc, mine = ids[:len(lines)], ids[len(lines):]
    return {q["question"]: sum(d[-n:] == k[-n:] for d in doc) > 1 for q, k in zip(found, mine)}


def dev(args):
    """One line of exact answers per window size for the answers tagged args.tag under
    args.dir (tests/reader/dev.sh's layout: w<WINDOW>-s<SEED>/<TAG>.jsonl), and why the
    facts not quoted exactly failed: the answer said "not found", its quote starts with
    another fact's key ("key wrong"), or with the question's key and another value.
    With --longread and -m, also the exact answers among facts whose key's last 4 tokens
    another fact line shares (shared_suffixes) and among the rest."""
    import glob
    rows, why, by_suffix = {}, {}, {True: [0, 0], False: [0, 0]}
    for path in sorted(glob.glob(os.path.join(args.dir, args.glob, args.tag + ".jsonl"))):
        c = os.path.dirname(path)
        w = window_of(c)
        with open(os.path.join(c, "expect.jsonl"), encoding="utf-8") as fh:
            exp = {q["question"]: q for q in map(json.loads, fh)}
        with open(path, encoding="utf-8") as fh:
            ans = {a["question"]: a for a in map(json.loads, fh)}
        r = rows.setdefault(w, [0, 0, 0, 0, 0])     # exact, found, cited, absent right, absent
        shared = shared_suffixes(args, c, exp) if args.longread else {}
        for q in exp.values():
            a = ans.get(q["question"], {})
            exact, cited = verdict(q, a)
            if q["kind"] == "absent":
                r[3] += bool(exact)
                r[4] += 1
                continue
            r[0] += bool(exact)
            r[1] += 1
            r[2] += bool(cited)
            if q["question"] in shared:
                by_suffix[shared[q["question"]]][0] += bool(exact)
                by_suffix[shared[q["question"]]][1] += 1
            if not exact:
                text = a.get("answer", "")
                key = fact_key(q)
                k = ("not found" if text.startswith(NOT_FOUND.rstrip(".")) else
                     "value wrong" if ('"' + key + " ") in text else "key wrong")
                why[k] = why.get(k, 0) + 1
    tot = [sum(r[i] for r in rows.values()) for i in range(5)]
    print("%s: " % args.tag + "  ".join("%dk %d/%d" % (w // 1024, r[0], r[1]) for w, r in sorted(rows.items()))
          + "  | all %d/%d, cited %d, absent right %d/%d" % tuple(tot))
    print("  not exact: " + ", ".join("%s %d" % kv for kv in sorted(why.items())))
    if args.longread:
        print("  key's last 4 tokens shared with another fact line: %d/%d exact; not shared: %d/%d"
              % tuple(by_suffix[True] + by_suffix[False]))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--longread", required=True)
    g.add_argument("-m", "--model", required=True)
    g.add_argument("-c", "--ctx", type=int, required=True)
    g.add_argument("-n", "--answer", type=int, default=80)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--depths", default="0,10,20,30,40,50,60,70,80,90,100")
    g.add_argument("--per-depth", type=int, default=1)
    g.add_argument("--absent", type=int, default=2)
    g.add_argument("--near", type=float, default=0.3, help="share of facts with a near-duplicate")
    g.add_argument("--docs", type=int, default=6, help="at most this many documents")
    g.add_argument("--fill", type=float, default=0.9, help="fill at least this share of the window")
    g.add_argument("-o", "--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--expect", required=True)
    s.add_argument("--answers", required=True)
    s.add_argument("--json", action="store_true")
    t = sub.add_parser("table")
    t.add_argument("dir")
    d = sub.add_parser("dev")
    d.add_argument("dir")
    d.add_argument("tag")
    d.add_argument("glob", nargs="?", default="w*-s*")
    d.add_argument("--longread")
    d.add_argument("-m", "--model")
    args = ap.parse_args()
    if args.cmd == "table":
        table(args)
    elif args.cmd == "dev":
        dev(args)
    elif args.cmd == "gen":
        args.longread = os.path.abspath(args.longread)
        args.model = os.path.abspath(args.model)
        gen(args)
    else:
        score(args)


if __name__ == "__main__":
    main()
