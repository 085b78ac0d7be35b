#!/usr/bin/python3
"""tests/reader/probe.py — where the reader's copy head looks.  For every found fact of the
dev windows (tests/reader/dev.sh's corpora), the answer is teacher-forced up to its key's
' is' ('"The ATTR of ENTITY is'), and layer 1's query head 0 (the compiled n-gram copy
head, model.init_ngram_induction) is asked whether it puts its largest weight on the fact
line's first value token, the token it must copy next.  Counted apart for facts whose
key's last 4 tokens end another fact line's key in the same window (needle.py's
shared_suffixes), which a 4-gram match cannot tell apart.

  probe.py --dev DIR --longread L --vocab VOCAB.gguf (--ckpt CKPT | --init ngram|bags|ngram8)
           [--layer N] [--glob G]

--init builds the compiled circuit alone, as train.py --init ngram --widen-prev 8 starts
(no training); 'bags' is a variant tried and dropped (tests/reader/README.md): each layer-0
previous-token head attends to two offsets, h+1 and h+5, so that 4 slots hold 8 tokens;
'ngram8' is model.init_ngram8_induction, whose copy head (layer 2) matches 8 tokens.
Training-data tooling, not part of longread."""
import argparse
import glob
import json
import math
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, Reader, attention_mask, rmsnorm, rotate  # noqa: E402
from needle import fact_key, key_tokens, shared_suffixes, window_of  # noqa: E402

SHAPE = dict(n_layer=4, n_embd=256, n_head=4, n_head_kv=2, head_dim=64, n_ff=768, n_vocab=4096)


def model_of(args):
    if args.ckpt:
        st = torch.load(args.ckpt)
        model = Reader(Config(**st["config"]))
        model.load_state_dict(st["model"])
        return model
    torch.manual_seed(1)
    model = Reader(Config(**SHAPE))
    if args.init == "ngram8":
        model.init_ngram8_induction()
        return model
    model.init_ngram_induction()
    model.widen_previous_token_heads(8)
    if args.init == "bags":
        hd, code, slots_at = model.c.head_dim, 16, 128
        with torch.no_grad():
            b0 = model.blocks[0]
            for h in range(4):
                for i in range(8):
                    r = h * hd + 2 * i
                    a = float(b0.attn_q.weight[r:r + 2, 0].norm())
                    th = float(model.rope_step[i])
                    b0.attn_q.weight[r, 0] = a * (math.cos((h + 1) * th) + math.cos((h + 5) * th))
                    b0.attn_q.weight[r + 1, 0] = -a * (math.sin((h + 1) * th) + math.sin((h + 5) * th))
            # the copy head's query for the token itself: half its code, half slot 3 (t-4, t-8)
            wq = model.blocks[1].attn_q.weight
            emb = wq[0:hd, 1:1 + code].clone()
            wq[0:hd, 1:1 + code] = 0.5 * emb
            wq[0:hd, slots_at + 3 * code:slots_at + 4 * code] += 0.5 * emb
    return model


def copy_head_weights(model, ids, layer):
    """Query head 0's attention weights in layer `layer` from the last position of ids."""
    c = model.c
    T = len(ids)
    x = model.token_embd(torch.tensor([ids]))
    cos, sin = model.rope(torch.arange(T)[None])
    mask = attention_mask(torch.zeros(1, T, dtype=torch.long), torch.ones(1, T, dtype=torch.bool))
    for b in model.blocks[:layer]:
        x = b(x, cos, sin, mask)
    b = model.blocks[layer]
    h = rmsnorm(x, b.attn_norm, c.eps)
    q = rotate(b.query(h, 1, T)[:, 0:1, -1:], cos[:, :, -1:], sin[:, :, -1:])
    k = rotate(b.attn_k(h).view(1, T, c.n_head_kv, c.head_dim).transpose(1, 2)[:, 0:1], cos, sin)
    return torch.softmax(torch.matmul(q, k.transpose(-1, -2))[0, 0, 0] / math.sqrt(c.head_dim), -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--longread", required=True)
    ap.add_argument("--vocab", required=True, help="a GGUF with the reader's vocabulary")
    ap.add_argument("--ckpt")
    ap.add_argument("--init", choices=("ngram", "bags", "ngram8"))
    ap.add_argument("--layer", type=int, help="the copy head's layer (default 1; 2 for ngram8)")
    ap.add_argument("--glob", default="w[124]0*-s*")
    args = ap.parse_args()
    if bool(args.ckpt) == bool(args.init):
        sys.exit("probe: give --ckpt or --init")
    args.model = args.vocab
    args.longread = os.path.abspath(args.longread)
    model = model_of(args)
    model.eval()
    layer = args.layer or (2 if args.init == "ngram8" else 1)
    res = {True: [0, 0], False: [0, 0]}
    for wdir in sorted(glob.glob(os.path.join(args.dev, args.glob))):
        w = window_of(wdir)
        with open(os.path.join(wdir, "expect.jsonl"), encoding="utf-8") as fh:
            exp = {q["question"]: q for q in map(json.loads, fh)}
        shared = shared_suffixes(args, wdir, exp)
        for q in exp.values():
            if q["kind"] != "found":
                continue
            key = fact_key(q)
            kt, ans = key_tokens(args, [" " + key, '"' + key])
            prompt = [int(x) for x in subprocess.run(
                [args.longread, "plan", "-m", args.vocab, "--show-ids", "-c", str(w), "-n", "80",
                 "-q", q["question"], "--", "docs"], cwd=wdir, check=True, stdout=subprocess.PIPE).stdout.split()]
            # the fact line's first value token: after its key (the key's first token left
            # out, its spacing may differ after a line anchor)
            want = [p + len(kt) - 1 for p in range(len(prompt) - len(kt))
                    if prompt[p:p + len(kt) - 1] == kt[1:]]
            with torch.no_grad():
                pr = copy_head_weights(model, prompt + ans, layer)
            r = res[shared[q["question"]]]
            r[0] += bool(want) and int(pr.argmax()) == want[-1]
            r[1] += 1
    print("copy head's largest weight on the value's first token: key's last 4 tokens shared "
          "%d/%d, not shared %d/%d" % tuple(res[True] + res[False]))


if __name__ == "__main__":
    main()
