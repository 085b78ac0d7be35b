"""tests/reader/data.py — training data for the reader: document sets with planted facts,
laid out and tokenized by longread itself (plan --show-ids, tokenize --special), so the
prompt the model learns from is byte for byte the prompt ask and pack build; then cut
into short training sequences that keep the true positions of a long window.

A corpus is a directory of text and code files (filler cut from corpora/, one fact per
planted line) and a list of questions: about planted facts (the answer quotes the fact's
line and cites the document and its nearest numbered line) and about facts that are not
there (the answer says so).  A training sequence keeps, of a prefix of up to 131,072
tokens, the system prompt, the documents' headers, the neighbourhood of every fact asked
and of its near-duplicates, and random filler chunks — each token at its true position,
so the distances between them are the real ones (positional skip-wise training, PoSE) —
followed by several question/answer branches that each see the prefix and themselves.
Training-data tooling, not part of longread."""
import bisect
import math
import os
import random
import re
import shutil
import subprocess

import numpy as np

from facts import NOT_FOUND, Recipe, answer_text

EOT, EOTEXT = "<|eot_id|>", "<|end_of_text|>"
Q_SUFFIX = "Question: {q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
BYTES_PER_TOKEN = 2.7   # filler with line numbers, in the reader's 4,096-token vocabulary (measured)


class LongreadError(RuntimeError):
    pass


def run(args, cwd):
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode not in (0, 10):
        raise LongreadError("%s: exit %d: %s" % (" ".join(args[:3]), p.returncode,
                                                 p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


# ------------------------------------------------------------------ corpus

def build_corpus(rec, n_tokens, rng, workdir, n_questions):
    """Write a corpus of about n_tokens tokens into workdir.  Returns (inputs, facts, qas):
    the paths to give longread, facts [dict(name, line, text, a, e, v)], and qas
    [(question, answer, fact index or -1, [distractor fact indices])]."""
    if os.path.exists(workdir):
        shutil.rmtree(workdir)
    os.makedirs(workdir)
    n_docs = max(1, min(int(rng.expovariate(1 / 4.0)) + 1, max(1, n_tokens // 300), 24))
    weights = [rng.random() + 0.2 for _ in range(n_docs)]
    total_w = sum(weights)
    budget = n_tokens * BYTES_PER_TOKEN
    n_facts = max(2, min(48, n_tokens // 1500 + rng.randrange(2, 6)))
    # the facts: (attr, entity, value); near-duplicates share the attribute with a nearby
    # entity, or the entity with another attribute
    keys = set()
    facts = []
    while len(facts) < n_facts:
        if facts and rng.random() < 0.4:
            base = rng.choice(facts)
            if rng.random() < 0.6:
                a, e = base["a"], rec.near_entity(base["e"])
            else:
                a, e = rec.attr(), base["e"]
        else:
            a, e = rec.attr(), rec.entity()
        if (a, e) in keys:
            continue
        keys.add((a, e))
        facts.append(dict(a=a, e=e, v=rec.value()))
    # the documents, facts spread over them uniformly by size
    used = set()
    docs = []
    for w in weights:
        src = rng.randrange(len(rec.lines))
        ext, lines = rec.filler(src, max(200, budget * w / total_w))
        docs.append([rec.filename(ext, used), lines])
    sizes = [len(d[1]) for d in docs]
    for f in facts:
        di = rng.choices(range(n_docs), weights=sizes)[0]
        f["doc"] = di
        f["at"] = rng.randrange(len(docs[di][1]) + 1)
        f["text"] = rec.fact_line(f["a"], f["e"], f["v"])
    # given file by file, or as one directory (a tree listing first, names inside it)
    top = rec.word().lower() + "/" if rng.random() < 0.4 else ""
    files = []
    for di, (name, lines) in enumerate(docs):
        planted = sorted((f["at"], k) for k, f in enumerate(facts) if f["doc"] == di)
        out = []
        j = 0
        for i, ln in enumerate(lines + [None]):
            while j < len(planted) and planted[j][0] == i:
                f = facts[planted[j][1]]
                out.append(f["text"])
                f["line"] = len(out)
                f["name"] = name
                j += 1
            if ln is not None:
                out.append(ln)
        path = os.path.join(workdir, top + name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out) + "\n")
        files.append((name, len(out)))
    # the questions: facts (near-duplicates first: they are the hard ones) and absences
    qas = []
    order = list(range(len(facts)))
    rng.shuffle(order)
    for k in order[:n_questions]:
        f = facts[k]
        dis = [j for j, g in enumerate(facts) if j != k and (g["a"] == f["a"] or g["e"] == f["e"])]
        qas.append((rec.question(f["a"], f["e"]), answer_text(f["text"], f["name"], f["line"]), k, dis))
    n_absent = max(1, n_questions // 4)
    tries = 0
    while n_absent and tries < 100:
        tries += 1
        f = rng.choice(facts)
        how = rng.randrange(3)
        if how == 0:
            a, e = f["a"], rec.near_entity(f["e"])
        elif how == 1:
            a, e = rec.attr(), f["e"]
        else:
            a, e = rec.attr(), rec.entity()
        if (a, e) in keys:
            continue
        keys.add((a, e))
        dis = [j for j, g in enumerate(facts) if g["a"] == a or g["e"] == e]
        qas.append((rec.question(a, e), NOT_FOUND, -1, dis))
        n_absent -= 1
    rng.shuffle(qas)
    inputs = [top] if top else [n for n, _ in files]
    return inputs, facts, qas


def layout(longread, model, workdir, inputs, qas, vocab):
    """The prefix ids as longread lays the corpus out, and each question's and answer's
    ids.  Checks that longread's prompt for the first question is prefix + its suffix."""
    out = run([longread, "plan", "-m", model, "--show-ids", "-c", "131072", "-n", "256",
               "-q", qas[0][0], "--"] + inputs, workdir)
    full = [int(x) for x in out.split()]
    parts = []
    for q, a, _, _ in qas:
        parts.append(Q_SUFFIX.format(q=q))
        parts.append(a + EOT)
    text = EOTEXT.join(parts)
    tf = os.path.join(workdir, ".qa.txt")
    with open(tf, "w", encoding="utf-8") as fh:
        fh.write(text)
    ids = [int(x) for x in run([longread, "tokenize", "-m", model, "--special", tf], workdir).split()]
    os.unlink(tf)
    sep = vocab.special(EOTEXT)
    pieces, cur = [], []
    for i in ids:
        if i == sep:
            pieces.append(cur)
            cur = []
        else:
            cur.append(i)
    pieces.append(cur)
    assert len(pieces) == 2 * len(qas)
    q0 = pieces[0]
    if full[-len(q0):] != q0:
        raise LongreadError("longread's question layout is not %r: retrain needs an update" % Q_SUFFIX)
    prefix = full[:-len(q0)]
    return prefix, [(pieces[2 * i], pieces[2 * i + 1]) for i in range(len(qas))]


def spans(prefix, vocab, facts):
    """Token spans of the prefix: where the documents start, each document's header, and
    each fact's line with its nearest numbered line above."""
    off, text = vocab.offsets(prefix)

    def tok(b):
        return bisect.bisect_right(off, b) - 1

    docs_at = text.index(b"<documents>\n")
    heads = {}
    for m in re.finditer(rb'<document id="\d+" name="([^"]*)"[^\n]*\n', text):
        heads[m.group(1).decode()] = (tok(m.start()), tok(m.end()) + 1)
    fspans = []
    for f in facts:
        h = heads[f["name"]]
        hb = off[h[0]]
        fb = re.compile(rb"(?<=[\n\t])" + re.escape(f["text"].encode()) + rb"\n").search(text, hb).start()
        line = f["line"]
        anchor = 1 if line < 10 else line - line % 10
        ab = text.rindex(b"\n%d\t" % anchor, hb, fb + 1) + 1
        fspans.append((tok(ab), tok(fb), tok(fb + len(f["text"])) + 1, h))
    return tok(docs_at), list(heads.values()), fspans


# ------------------------------------------------------------------ sequences

def sequence(prefix, docs_at, heads, fspans, qa_ids, qas, rng, budget, weigh_filler=False):
    """One training sequence: kept prefix tokens (true positions) and the question/answer
    branches.  Returns dict of int32 arrays ids, pos, seg (0 prefix, i > 0 branch i), tgt
    (next token or -1) and kind (0 none, 1 document text, 2 answer)."""
    n = len(prefix)
    keep = np.zeros(n, dtype=bool)
    weight = np.zeros(n, dtype=np.float32)   # ln of the tokens each kept one stands for
    if n <= budget:
        keep[:] = True
    else:
        keep[:rng.randrange(8, 24)] = True                      # BOS and the system header
        keep[docs_at - rng.randrange(8, 40):docs_at + 4] = True  # the end of the instructions
        keep[n - rng.randrange(4, 12):] = True                  # </document></documents>

        def add(a, b):
            keep[max(0, a):min(n, b)] = True

        def fact(j):
            ab, fb, fe, h = fspans[j]
            add(ab - rng.randrange(0, 24), fe + rng.randrange(1, 16))
            add(h[0] - rng.randrange(0, 8), h[1] + rng.randrange(2, 24))

        # the facts asked, then their near-duplicates and other documents' headers (the
        # model must learn which header a fact is under) while there is room
        for (q, a, k, dis) in qas:
            if k >= 0:
                fact(k)
        optional = [("f", j) for (_, _, _, dis) in qas for j in dis]
        optional += [("h", h) for h in heads if rng.random() < 0.5]
        rng.shuffle(optional)
        for what, x in optional:
            if keep.sum() >= budget:
                break
            if what == "f":
                fact(x)
            else:
                add(x[0] - rng.randrange(0, 8), x[1] + rng.randrange(2, 16))
        structural = keep.copy()
        while keep.sum() < budget or (weigh_filler and (keep & ~structural).sum() < budget // 4):
            ln = rng.randrange(8, 160)
            a = rng.randrange(0, n)
            add(a, a + ln)
        # weigh_filler (make_data.py --filler-weights): the random filler chunks stand for
        # all the text left out, each of their tokens for m of the window's, so train.py
        # (--filler-bias) adds ln m to the attention scores they get, as if m copies of
        # each were there, and the softmax sums over as much filler as the real window's
        # (a quarter of the budget at least is such filler).  Measured, not adopted:
        # tests/reader/README.md, "A fourth attempt"
        filler = keep & ~structural
        if weigh_filler and filler.any():
            weight[filler] = math.log((n - structural.sum()) / filler.sum())
    kept = np.nonzero(keep)[0]
    ids = [prefix[i] for i in kept]
    pos = kept.tolist()
    seg = [0] * len(kept)
    lw = weight[kept].tolist()
    tgt = [-1] * len(kept)
    kind = [0] * len(kept)
    for j in range(len(kept) - 1):
        if kept[j + 1] == kept[j] + 1 and kept[j] >= docs_at:
            tgt[j] = prefix[kept[j + 1]]
            kind[j] = 1
    for b, ((q_ids, a_ids), qa) in enumerate(zip(qa_ids, qas), start=1):
        toks = q_ids + a_ids
        for t, x in enumerate(toks):
            ids.append(x)
            pos.append(n + t)
            seg.append(b)
            lw.append(0.0)
            if t + 1 < len(toks):
                tgt.append(toks[t + 1])
                kind.append(2 if t + 1 >= len(q_ids) else 0)
            else:
                tgt.append(-1)
                kind.append(0)
    return dict(ids=np.array(ids, np.int32), pos=np.array(pos, np.int32),
                seg=np.array(seg, np.int16), tgt=np.array(tgt, np.int32),
                kind=np.array(kind, np.int8), lw=np.array(lw, np.float16))


def corpus_sequences(rec, longread, model, vocab, rng, workdir, n_tokens, budget, n_seq, per_seq,
                     weigh_filler=False):
    """n_seq training sequences from one generated corpus of about n_tokens tokens."""
    inputs, facts, qas = build_corpus(rec, n_tokens, rng, workdir, n_questions=per_seq * n_seq)
    prefix, qa_ids = layout(longread, model, workdir, inputs, qas, vocab)
    docs_at, heads, fspans = spans(prefix, vocab, facts)
    out = []
    idx = list(range(len(qas)))
    for s in range(n_seq):
        pick = idx[s * per_seq:(s + 1) * per_seq] or rng.sample(idx, min(per_seq, len(idx)))
        out.append(sequence(prefix, docs_at, heads, fspans, [qa_ids[i] for i in pick],
                            [qas[i] for i in pick], rng, budget, weigh_filler))
    return out, len(prefix)
