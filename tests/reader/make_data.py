#!/usr/bin/python3
"""tests/reader/make_data.py — generate the reader's training (or held-out) sequences
into one .npz shard per worker.  Deterministic from --seed.  Usage:
  make_data.py --longread ./longread --vocab-model V.gguf --split train --n 16000 -o DIR
Training-data tooling, not part of longread."""
import argparse
import math
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from facts import Recipe  # noqa: E402
from gguf_vocab import Vocab  # noqa: E402


def sizes(rng, max_tokens, budget):
    """A corpus size: a third of the corpora fit the training budget whole (dense
    windows), the rest log-uniform up to max_tokens (skip-wise windows)."""
    if rng.random() < 1 / 3:
        return rng.randrange(50, max(60, budget - 300))   # the instructions take ~250
    return int(math.exp(rng.uniform(math.log(budget), math.log(max_tokens))))


def worker(args, part, n_seq, out):
    rng = random.Random(args.seed * 1000 + part)
    rec = Recipe(args.split, random.Random(args.seed * 1000 + 500 + part))
    rec.rng = rng
    vocab = Vocab(args.vocab_model)
    seqs = []
    lens = []
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="reader-data-") as tmp:
        while len(seqs) < n_seq:
            n = sizes(rng, args.max_tokens, args.budget)
            try:
                got, lp = data.corpus_sequences(rec, args.longread, args.vocab_model, vocab, rng,
                                                os.path.join(tmp, "c"), n, args.budget,
                                                args.seq_per_corpus, args.qa_per_seq,
                                                args.filler_weights)
            except data.LongreadError as e:
                if "do not fit" in str(e):
                    continue
                raise
            seqs.extend(got)
            lens.extend([lp] * len(got))
            if part == 0 and len(seqs) % 500 < len(got):
                print("make_data: %d/%d sequences, %.0f s" % (len(seqs), n_seq, time.time() - t0),
                      file=sys.stderr, flush=True)
    seqs = seqs[:n_seq]
    cat = {k: np.concatenate([s[k] for s in seqs]) for k in seqs[0]}
    cat["len"] = np.array([len(s["ids"]) for s in seqs], np.int64)
    cat["prefix_len"] = np.array(lens[:n_seq], np.int64)
    np.savez_compressed(out, **cat)


def write_stream(args):
    """The training filler as one token stream (stream.npy), for the copy exercises that
    train.py mixes in (see copy_sequence there)."""
    rec = Recipe("train", random.Random(0))
    with tempfile.TemporaryDirectory(prefix="reader-stream-") as tmp:
        path = os.path.join(tmp, "filler.txt")
        with open(path, "w", encoding="utf-8") as fh:
            for _, lines in rec.lines:
                fh.write("\n".join(lines) + "\n")
        ids = data.run([args.longread, "tokenize", "-m", args.vocab_model, path], tmp).split()
    np.save(os.path.join(args.out, "stream.npy"), np.array([int(x) for x in ids], np.int32))


def load(path):
    """The sequences of a shard as a list of dicts."""
    with np.load(path) as f:
        z = {k: f[k] for k in f.files}   # each f[k] decompresses anew: read once
    out = []
    o = 0
    for i, n in enumerate(z["len"]):
        out.append({k: z[k][o:o + n] for k in ("ids", "pos", "seg", "tgt", "kind")})
        # ln of the window tokens each kept one stands for (data.sequence); older data: 0
        out[-1]["lw"] = z["lw"][o:o + n] if "lw" in z else np.zeros(n, np.float16)
        out[-1]["prefix_len"] = int(z["prefix_len"][i])
        o += n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--longread", required=True)
    ap.add_argument("--vocab-model", required=True)
    ap.add_argument("--split", default="train", choices=["train", "eval"])
    ap.add_argument("--n", type=int, default=16000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget", type=int, default=1024, help="prefix tokens kept per sequence")
    ap.add_argument("--max-tokens", type=int, default=115000, help="largest corpus")
    ap.add_argument("--seq-per-corpus", type=int, default=3)
    ap.add_argument("--qa-per-seq", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--filler-weights", action="store_true",
                    help="keep a quarter of the budget as filler and store ln of the window tokens "
                    "each kept filler token stands for (data.sequence; train.py --filler-bias)")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    args.longread = os.path.abspath(args.longread)
    args.vocab_model = os.path.abspath(args.vocab_model)
    os.makedirs(args.out, exist_ok=True)
    if args.split == "train":
        write_stream(args)
    per = [args.n // args.workers + (i < args.n % args.workers) for i in range(args.workers)]
    procs = []
    for i, n in enumerate(per):
        p = mp.Process(target=worker, args=(args, i, n, os.path.join(args.out, "%s-%d.npz" % (args.split, i))))
        p.start()
        procs.append(p)
    for p in procs:
        p.join()
        if p.exitcode:
            sys.exit("make_data: a worker failed")


if __name__ == "__main__":
    main()
