#!/usr/bin/python3
"""tests/reader/train.py — train the reader on make_data.py's sequences, resumably, and
export its weights for tests/lr-genmodel --weights.  Deterministic from --seed (the
data order and the initial weights); bf16 autocast on the CPU, float32 master weights.
Loss: the answer tokens, plus a small weight on next-token prediction of document text.
Usage: train.py --data DIR --out DIR [--steps N] [--resume]
Training-data tooling, not part of longread."""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_data import load  # noqa: E402
from model import Config, Reader, attention_mask  # noqa: E402



def cpu_has_bf16():
    """Whether the CPU multiplies bf16 itself (AVX-512 BF16 or AMX).  On those, bf16
    autocast ran 8 times float32's speed; on a CPU with AVX2 alone, where torch emulates
    it, a step took 10 times as long as in float32 (measured: 100 s against 10 s)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((ln for ln in f if ln.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


# bf16 autocast where the CPU has it, unless READER_FP32 is set
BF16 = os.environ.get("READER_FP32") is None and cpu_has_bf16()


def batch(seqs):
    T = max(len(s["ids"]) for s in seqs)
    B = len(seqs)
    ids = torch.zeros(B, T, dtype=torch.long)
    pos = torch.zeros(B, T, dtype=torch.long)
    seg = torch.full((B, T), -1, dtype=torch.long)
    tgt = torch.full((B, T), -1, dtype=torch.long)
    kind = torch.zeros(B, T, dtype=torch.long)
    for i, s in enumerate(seqs):
        n = len(s["ids"])
        ids[i, :n] = torch.from_numpy(s["ids"].astype(np.int64))
        pos[i, :n] = torch.from_numpy(s["pos"].astype(np.int64))
        seg[i, :n] = torch.from_numpy(s["seg"].astype(np.int64))
        tgt[i, :n] = torch.from_numpy(s["tgt"].astype(np.int64))
        kind[i, :n] = torch.from_numpy(s["kind"].astype(np.int64))
    return ids, pos, seg, tgt, kind


def copy_sequence(rng, length, n_vocab, gap):
    """A copy exercise: length random tokens whose second half repeats random spans of
    the first half, positions jumping by up to gap between the halves.  The loss is on
    each repeat's tokens after its first (what an induction head predicts: find the
    earlier occurrence of this token, copy what followed it).  Exercises like these,
    many short ones to a batch, teach copying in a few hundred steps where the reader's
    own data alone had not after a thousand (tests/reader/README.md); the gaps then
    teach it at every distance the window has."""
    h = length // 2
    # half the exercises draw from a small alphabet, where one token occurs several times
    # and only the two before it tell which occurrence is copied (as " is" in every fact
    # sentence: the entity before it tells which); there the loss starts at a repeat's
    # third token
    small = rng.random() < 0.5
    alphabet = rng.sample(range(n_vocab), rng.choice([24, 48, 96])) if small else None
    first = [rng.choice(alphabet) if small else rng.randrange(n_vocab) for _ in range(h)]
    skip = 2 if small else 1
    ids = list(first)
    pred = [0] * h
    while len(ids) < length:
        ln = rng.randrange(6, 24)
        src = rng.randrange(0, h - ln)
        ids += first[src:src + ln]
        pred += [0] * skip + [2] * (ln - skip)
    ids = np.array(ids[:length], np.int32)
    kind = np.zeros(length, np.int8)
    kind[:-1] = np.array(pred[1:length], np.int8)   # position t predicts token t + 1
    tgt = np.full(length, -1, np.int32)
    tgt[:-1] = ids[1:]
    pos = np.arange(length, dtype=np.int64)
    if gap > 0:
        pos[h:] += rng.randrange(0, gap + 1)
    return dict(ids=ids, pos=pos.astype(np.int32), seg=np.zeros(length, np.int16), tgt=tgt, kind=kind)


def split_batch(seqs):
    """The batch as a prefix part [B, P] and a branch part [B, nb, L] (model.hidden_split)."""
    B = len(seqs)
    P = max(int((s["seg"] == 0).sum()) for s in seqs)
    nb = max(int(s["seg"].max()) for s in seqs)
    L = max([int((s["seg"] == b).sum()) for s in seqs for b in range(1, nb + 1)] + [1])
    out = {}
    for part, shape in (("p", (B, P)), ("b", (B, max(nb, 0), L))):
        out[part] = dict(ids=torch.zeros(shape, dtype=torch.long), pos=torch.zeros(shape, dtype=torch.long),
                         valid=torch.zeros(shape, dtype=torch.bool), tgt=torch.full(shape, -1, dtype=torch.long),
                         kind=torch.zeros(shape, dtype=torch.long))
    out["p"]["lw"] = torch.zeros((B, P))
    for i, s in enumerate(seqs):
        if "lw" in s:
            sel = s["seg"] == 0
            out["p"]["lw"][i, :int(sel.sum())] = torch.from_numpy(s["lw"][sel].astype(np.float32))
        for b in range(0, nb + 1):
            sel = s["seg"] == b
            n = int(sel.sum())
            if not n:
                continue
            d = out["p"] if b == 0 else out["b"]
            idx = (i, slice(0, n)) if b == 0 else (i, b - 1, slice(0, n))
            for k in ("ids", "pos", "tgt", "kind"):
                d[k][idx] = torch.from_numpy(s[k][sel].astype(np.int64))
            d["valid"][idx] = True
    return out


FILLER_BIAS = 0.0   # --filler-bias: the scale of the kept filler's ln m (data.sequence)


def forward(model, seqs, lm_weight, lm_frac, gen):
    """Loss on a batch: the answers (kind 2) and, weighted, a random lm_frac of the
    document tokens (kind 1).  Returns (loss, answer loss, text loss, details for
    evaluate)."""
    sb = split_batch(seqs)
    p, b = sb["p"], sb["b"]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
        hp, hb = model.hidden_split((p["ids"], p["pos"], p["valid"]), (b["ids"], b["pos"], b["valid"]),
                                    p["lw"] * FILLER_BIAS if FILLER_BIAS else None)
    h = torch.cat((hp.reshape(-1, hp.shape[-1]), hb.reshape(-1, hb.shape[-1])))
    tgt = torch.cat((p["tgt"].reshape(-1), b["tgt"].reshape(-1)))
    kind = torch.cat((p["kind"].reshape(-1), b["kind"].reshape(-1)))
    # which branch (sequence, branch) each row belongs to, for per-answer scoring
    B = len(seqs)
    seg = torch.cat((torch.full((hp.shape[0] * hp.shape[1],), -1),
                     torch.arange(B * max(1, b["ids"].shape[1])).repeat_interleave(b["ids"].shape[2])
                     if b["ids"].numel() else torch.zeros(0, dtype=torch.long)))
    ans = kind == 2
    lm = (kind == 1) & (torch.rand(kind.shape, generator=gen) < lm_frac)
    la = model.logits(h[ans].float())
    loss_a = F.cross_entropy(la, tgt[ans])
    hl = h[lm].float()
    loss_l = F.cross_entropy(model.logits(hl), tgt[lm]) if hl.shape[0] else torch.zeros(())
    return loss_a + lm_weight * loss_l, loss_a, loss_l, (la, tgt[ans], seg[ans])


def forward_dense(model, seqs, lm_weight, lm_frac, gen):
    ids, pos, seg, tgt, kind = batch(seqs)
    mask = attention_mask(seg, seg >= 0)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
        h = model.hidden(ids, pos, mask)
    ans = kind == 2
    lm = (kind == 1) & (torch.rand(kind.shape, generator=gen) < lm_frac)
    ha, hl = h[ans].float(), h[lm].float()
    la = model.logits(ha)
    loss_a = F.cross_entropy(la, tgt[ans])
    loss_l = F.cross_entropy(model.logits(hl), tgt[lm]) if hl.shape[0] else torch.zeros(())
    return loss_a + lm_weight * loss_l, loss_a, loss_l, (la, tgt, seg, ans)


@torch.no_grad()
def evaluate(model, seqs, bs):
    """Teacher-forced: share of answer tokens right, and of answers right in full."""
    model.eval()
    tok_ok = tok_n = ans_ok = ans_n = 0
    for i in range(0, len(seqs), bs):
        _, _, _, (la, tgt, seg) = forward(model, seqs[i:i + bs], 0.0, 0.0, None)
        right = la.argmax(-1) == tgt
        tok_ok += int(right.sum())
        tok_n += right.numel()
        per = {}
        for k, r in zip(seg.tolist(), right.tolist()):
            per[k] = per.get(k, True) and r
        ans_ok += sum(per.values())
        ans_n += len(per)
    model.train()
    return tok_ok / max(1, tok_n), ans_ok / max(1, ans_n)


@torch.no_grad()
def residual_rms(model, probe, upto):
    """Mean RMS, over the probe batch's positions, of the residual stream going into blocks
    0..upto (what their attn_norm divides by)."""
    ids, pos, seg, _, _ = probe
    valid = seg >= 0
    out = []

    def hook(_, a):
        out.append(float(a[0].float().pow(2).mean(-1).sqrt()[valid].mean()))
    hooks = [model.blocks[i].register_forward_pre_hook(hook) for i in range(upto + 1)]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16):
        model.hidden(ids, pos, attention_mask(seg, valid))
    for h in hooks:
        h.remove()
    return out


def export(model, path):
    """The weights file lr-genmodel --weights reads (tests/genmodel.c)."""
    ts = model.gguf_tensors()
    with open(path + ".tmp", "wb") as f:
        f.write(b"LRWT" + struct.pack("<II", 1, len(ts)))
        for name, t in ts:
            nb = name.encode()
            ne = list(reversed(t.shape))   # GGUF order: the row length first
            f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<I", len(ne)))
            f.write(struct.pack("<%dQ" % len(ne), *ne))
            f.write(t.numpy().astype("<f4").tobytes())
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--lm-weight", type=float, default=0.2)
    ap.add_argument("--lm-frac", type=float, default=0.25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=0, help="stop (and export) after this long")
    ap.add_argument("--config", default="{}", help="model shape as JSON (model.Config fields)")
    ap.add_argument("--copy-steps", type=int, default=400, help="steps of copy exercises only, first")
    ap.add_argument("--copy-batch", type=int, default=64)
    ap.add_argument("--copy-len", type=int, default=64)
    ap.add_argument("--copy-after", type=int, default=32, help="copy exercises a step after that")
    ap.add_argument("--gap-from", type=int, default=250, help="step at which position gaps start")
    ap.add_argument("--gap-doubling", type=int, default=12, help="steps per doubling of the gap")
    ap.add_argument("--init", choices=("ngram", "ngram8", "prev"), default="ngram",
                    help="ngram: a compiled n-gram induction head (model.init_ngram_induction); "
                    "ngram8: the same matching 8 tokens, in layer 2 (model.init_ngram8_induction); "
                    "prev: previous-token heads only (the first committed reader)")
    ap.add_argument("--filler-bias", type=float, default=0.0,
                    help="scale of the ln m added to the scores of kept filler tokens that stand "
                    "for m of a long window's (make_data.py --filler-weights); 0: none, as the "
                    "committed reader")
    ap.add_argument("--gain-lr-mult", type=float, default=10.0,
                    help="learning rate of the query heads' gains (config q_gain) over the rest's")
    ap.add_argument("--widen-prev", type=int, default=0,
                    help="widen layer 0's previous-token heads to this many rotary pairs first "
                    "(model.widen_previous_token_heads): after --init ngram, or after --init-from's "
                    "weights are loaded")
    ap.add_argument("--only-gains", action="store_true",
                    help="train the query heads' gains alone, every weight frozen")
    ap.add_argument("--freeze-circuit", action="store_true",
                    help="hold the compiled circuit of --init fixed (model.Reader.circuit)")
    ap.add_argument("--track-rms", action="store_true",
                    help="with --freeze-circuit: every 10 steps scale the held attn_norm weights by "
                    "how much the residual's RMS into their block has grown since the start, so the "
                    "held heads read and write at their compiled strength (measured: training then grows "
                    "the residual further, an arms race; tests/reader/README.md)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-from", help="start from this checkpoint's weights (a second stage: "
                    "new data, a fresh optimiser and schedule)")
    args = ap.parse_args()
    global FILLER_BIAS
    FILLER_BIAS = args.filler_bias
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "ckpt.pt")

    train = []
    evals = []
    for f in sorted(os.listdir(args.data)):
        if f.endswith(".npz"):
            (train if f.startswith("train") else evals).extend(load(os.path.join(args.data, f)))
    evals = evals[:256]
    print("train: %d sequences, eval: %d" % (len(train), len(evals)), flush=True)

    torch.manual_seed(args.seed)
    cfg = Config(**json.loads(args.config))
    model = Reader(cfg)
    if args.init == "ngram":
        model.init_ngram_induction()
    elif args.init == "ngram8":
        model.init_ngram8_induction()
    else:
        model.init_previous_token_heads()
    if args.only_gains:
        for n, p in model.named_parameters():
            p.requires_grad_(n.endswith("q_gain"))
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "token_embd" not in n]
    gains = [p for n, p in model.named_parameters() if n.endswith("q_gain")]
    other = [p for n, p in model.named_parameters()
             if not (p.dim() == 2 and "token_embd" not in n) and not n.endswith("q_gain")]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}]
    if gains:
        groups.append({"params": gains, "weight_decay": 0.0, "lr_mult": args.gain_lr_mult})
    groups = [g for g in groups if any(p.requires_grad for p in g["params"])]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95))
    step = 0
    log = []
    track = None   # --track-rms: {"rms0": [RMS into blocks 0..], "norm0": {name: compiled values},
    #                "probe": the batch measured}
    if args.resume and os.path.exists(ckpt):
        st = torch.load(ckpt)
        track = st.get("track")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, log = st["step"], st["log"]
        print("resumed at step %d" % step, flush=True)
    elif args.init_from:
        src = torch.load(args.init_from)
        track = src.get("track")
        missing, unexpected = model.load_state_dict(src["model"], strict=False)
        if unexpected or any(not n.endswith("q_gain") for n in missing):
            sys.exit("train: %s does not fit this shape: %s" % (args.init_from, missing + unexpected))
        if args.widen_prev:
            model.widen_previous_token_heads(args.widen_prev)
            print("layer 0's previous-token heads widened to %d rotary pairs" % args.widen_prev, flush=True)
        print("weights from %s" % args.init_from, flush=True)
    elif args.widen_prev:
        if args.init != "ngram":
            sys.exit("train: --widen-prev needs --init ngram or --init-from (ngram8 has 8 pairs)")
        model.widen_previous_token_heads(args.widen_prev)
        print("layer 0's previous-token heads widened to %d rotary pairs" % args.widen_prev, flush=True)
    held = []
    if args.freeze_circuit:
        if args.init == "prev":
            sys.exit("train: --freeze-circuit needs --init ngram or ngram8")
        if step == 0 and not args.init_from:
            model.clear_slot_writers(args.init)
        params = dict(model.named_parameters())
        held = [(params[n], m, params[n].detach()[m].clone()) for n, m in model.circuit(args.init).items()
                if m.any()]
        print("circuit held: %d weights" % sum(int(m.sum()) for _, m, _ in held), flush=True)
    tracked = []   # (block, name, index in held, compiled values) of the held attn_norm weights
    if args.track_rms:
        if not held:
            sys.exit("train: --track-rms needs --freeze-circuit")
        names = {id(p): n for n, p in model.named_parameters()}
        for i, (p, m, v) in enumerate(held):
            n = names[id(p)]
            if n.endswith(".attn_norm"):
                if track:
                    v = track["norm0"][n]
                    held[i] = (p, m, v)
                tracked.append((int(n.split(".")[1]), n, i, v))
        upto = max(t[0] for t in tracked)
        if not track:   # the probe (4 held-out sequences) stays the same through the stages
            probe = batch(evals[:4])
            track = {"rms0": residual_rms(model, probe, upto),
                     "norm0": {n: v for _, n, _, v in tracked}, "probe": probe}
        probe = track["probe"]

    def track_rms():
        """Hold the tracked norm weights at their compiled values times the growth of the
        residual's RMS into their block since the start; returns the growth per block."""
        rms = residual_rms(model, probe, upto)
        scale = [r / r0 for r, r0 in zip(rms, track["rms0"])]
        with torch.no_grad():
            for blk, _, i, v in tracked:
                p, m, _ = held[i]
                held[i] = (p, m, v * scale[blk])
                p[m] = v * scale[blk]
        return scale
    if tracked:
        print("tracking the residual's RMS into blocks %s from %s; now %s" %
              ([t[0] for t in tracked], [round(x, 3) for x in track["rms0"]],
               [round(x, 3) for x in track_rms()]), flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print("model: %s, %d parameters" % (json.dumps(cfg.__dict__), n_params), flush=True)

    order = list(range(len(train)))
    random.Random(args.seed).shuffle(order)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    spent = sum(r.get("dt", 0) for r in log)
    while step < args.steps:
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / args.steps)))
        for g in opt.param_groups:
            g["lr"] = lr * g.get("lr_mult", 1.0)
        crng = random.Random(args.seed * 100003 + step)
        gap = min(131072, int(args.copy_len * 2 ** ((step - args.gap_from) / args.gap_doubling))) \
            if step >= args.gap_from else 0
        main = step >= args.copy_steps
        n_copy = args.copy_after if main else args.copy_batch
        cseqs = [copy_sequence(crng, args.copy_len, cfg.n_vocab - 16, gap) for _ in range(n_copy)]
        ts = time.time()
        loss, lc, _, _ = forward(model, cseqs, 0.0, 0.0, gen)
        la = ll = torch.zeros(())
        if main:
            i0 = (step - args.copy_steps) * args.batch
            seqs = [train[order[(i0 + j) % len(order)]] for j in range(args.batch)]
            lm, la, ll, _ = forward(model, seqs, args.lm_weight, args.lm_frac, gen)
            loss = loss + lm
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for p, m, _ in held:   # out of the clipping norm; the values are put back after the step
            if p.grad is not None:
                p.grad[m] = 0
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for p, m, v in held:
                p[m] = v
        step += 1
        scale = track_rms() if tracked and step % 10 == 0 else None
        rec = {"step": step, "loss": float(loss), "copy": float(lc), "gap": gap, "answer": float(la), "lm": float(ll),
               "gnorm": float(gn), "lr": lr, "dt": time.time() - ts}
        if scale:
            rec["rms_scale"] = [round(x, 3) for x in scale]
        if gains:
            rec["gains"] = [round(float(x), 3) for p in gains for x in p.detach().exp()]
        if step % args.eval_every == 0 or step == args.steps:
            rec["eval_tok"], rec["eval_ans"] = evaluate(model, evals, args.batch)
        log.append(rec)
        if step % 10 == 0 or "eval_ans" in rec:
            print(" ".join("%s=%.4g" % (k, v) if isinstance(v, float) else "%s=%s" % (k, v)
                           for k, v in rec.items()), flush=True)
        if step % 50 == 0 or step == args.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "log": log, "config": cfg.__dict__, "track": track}, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
            export(model, os.path.join(args.out, "reader.lrwt"))
        if args.minutes and spent + time.time() - t0 > args.minutes * 60:
            print("time budget reached at step %d" % step, flush=True)
            break
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "log": log, "config": cfg.__dict__, "track": track}, ckpt)
    export(model, os.path.join(args.out, "reader.lrwt"))
    with open(os.path.join(args.out, "log.json"), "w") as f:
        json.dump({"config": cfg.__dict__, "params": n_params, "log": log}, f)


if __name__ == "__main__":
    main()
