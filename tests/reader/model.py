"""tests/reader/model.py — the reader's transformer in PyTorch: exactly the Llama
architecture longread runs (RMSNorm, rotary embeddings on adjacent pairs with base
500,000 and Llama 3.1 frequency factors, grouped-query attention, SwiGLU, tied
embeddings), with tensors named as in GGUF so export is a rename-free copy.
Training-data tooling, not part of longread."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rope_factors(head_dim, base, factor, orig=8192.0, low=1.0, high=4.0):
    """Llama 3.1 "llama3" rope scaling as frequency divisors (GGUF rope_freqs), as
    tests/genmodel.c computes them."""
    out = []
    for i in range(head_dim // 2):
        freq = base ** (-2.0 * i / head_dim)
        wl = 2 * math.pi / freq
        if wl < orig / high:
            out.append(1.0)
        elif wl > orig / low:
            out.append(factor)
        else:
            smooth = (orig / wl - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return out


class Config:
    def __init__(self, **kw):
        self.n_vocab = 4096
        self.n_embd = 256
        self.n_layer = 4
        self.n_head = 8
        self.n_head_kv = 4
        self.head_dim = 32
        self.n_ff = 768
        self.rope_base = 500000.0
        self.rope_factor = 8.0
        self.eps = 1e-5
        self.q_gain = False   # a learned gain per query head (folded into attn_q on export)
        self.__dict__.update(kw)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps).to(x.dtype) * w


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        d = c.n_embd
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.attn_q = nn.Linear(d, c.n_head * c.head_dim, bias=False)
        self.attn_k = nn.Linear(d, c.n_head_kv * c.head_dim, bias=False)
        self.attn_v = nn.Linear(d, c.n_head_kv * c.head_dim, bias=False)
        self.attn_output = nn.Linear(c.n_head * c.head_dim, d, bias=False)
        self.ffn_gate = nn.Linear(d, c.n_ff, bias=False)
        self.ffn_up = nn.Linear(d, c.n_ff, bias=False)
        self.ffn_down = nn.Linear(c.n_ff, d, bias=False)
        if c.q_gain:
            # each query head's scores scaled by exp(gain): a head's sharpness, which Adam
            # changes in a few steps where scaling a whole attn_q matrix takes hundreds
            self.q_gain = nn.Parameter(torch.zeros(c.n_head))

    def query(self, h, B, T):
        q = self.attn_q(h).view(B, T, self.c.n_head, self.c.head_dim).transpose(1, 2)
        if self.c.q_gain:
            q = q * self.q_gain.exp().to(q.dtype)[:, None, None]
        return q

    def forward(self, x, cos, sin, mask):
        c = self.c
        B, T, _ = x.shape
        h = rmsnorm(x, self.attn_norm, c.eps)
        q = self.query(h, B, T)
        k = self.attn_k(h).view(B, T, c.n_head_kv, c.head_dim).transpose(1, 2)
        v = self.attn_v(h).view(B, T, c.n_head_kv, c.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        g = c.n_head // c.n_head_kv
        k = k.repeat_interleave(g, 1)
        v = v.repeat_interleave(g, 1)
        a = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(c.head_dim)) + mask
        a = torch.softmax(a.float(), -1).to(v.dtype)
        o = torch.matmul(a, v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.attn_output(o)
        h = rmsnorm(x, self.ffn_norm, c.eps)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


    def forward_split(self, xp, xb, rp, rb, mask_p, mask_b):
        """The same layer for a prefix and question/answer branches that each see the
        prefix and themselves: xp [B, P, d], xb [B, nb, L, d]; rp, rb the (cos, sin) of
        their positions; mask_p [B, 1, P, P] and mask_b [B, 1, nb, L, P + L] additive.
        The branches never attend to each other, so their scores against each other are
        never computed (the dense mask computes them, then throws them away)."""
        c = self.c
        B, P, _ = xp.shape
        nb, L = xb.shape[1], xb.shape[2]
        g = c.n_head // c.n_head_kv

        def qkv(x, n, cos, sin):
            h = rmsnorm(x, self.attn_norm, c.eps)
            q = self.query(h, B, n)
            k = self.attn_k(h).view(B, n, c.n_head_kv, c.head_dim).transpose(1, 2)
            v = self.attn_v(h).view(B, n, c.n_head_kv, c.head_dim).transpose(1, 2)
            return rotate(q, cos, sin), rotate(k, cos, sin).repeat_interleave(g, 1), v.repeat_interleave(g, 1)

        # the score scale is folded into q, and the scores stay in the matmul's precision
        # (bf16 under autocast: converting [B, H, T, T] to float32 and back took a third
        # of a training step)
        scale = 1.0 / math.sqrt(c.head_dim)
        qp, kp, vp = qkv(xp, P, *rp)                                   # [B, H, P, hd]
        a = torch.softmax(torch.matmul(qp * scale, kp.transpose(-1, -2)) + mask_p, -1)
        op = torch.matmul(a, vp).transpose(1, 2).reshape(B, P, -1)
        outs = [xp + self.attn_output(op)]
        if nb:
            qb, kb, vb = qkv(xb.reshape(B, nb * L, -1), nb * L, *rb)   # [B, H, nb*L, hd]
            qb = qb * scale
            H = c.n_head
            s_pre = torch.matmul(qb, kp.transpose(-1, -2)).view(B, H, nb, L, P)
            qb5, kb5, vb5 = (t.reshape(B, H, nb, L, -1) for t in (qb, kb, vb))
            s_own = torch.matmul(qb5, kb5.transpose(-1, -2))              # [B, H, nb, L, L]
            a = torch.softmax(torch.cat((s_pre, s_own), -1) + mask_b, -1)
            ob = torch.matmul(a[..., :P].reshape(B, H, nb * L, P), vp).view(B, H, nb, L, -1) + \
                torch.matmul(a[..., P:], vb5)
            ob = ob.permute(0, 2, 3, 1, 4).reshape(B, nb, L, -1)
            outs.append(xb + self.attn_output(ob))
        res = []
        for x in outs:
            h = rmsnorm(x, self.ffn_norm, c.eps)
            res.append(x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h)))
        return res[0], (res[1] if nb else xb)


def rotate(t, cos, sin):
    """Rotate adjacent pairs (t[2i], t[2i+1]); cos, sin: [B, 1, T, head_dim/2]."""
    t0, t1 = t[..., 0::2], t[..., 1::2]
    return torch.stack((t0 * cos - t1 * sin, t0 * sin + t1 * cos), -1).flatten(-2)


class Reader(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.token_embd = nn.Embedding(c.n_vocab, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.output_norm = nn.Parameter(torch.ones(c.n_embd))
        step = torch.tensor([c.rope_base ** (-2.0 * i / c.head_dim) / f
                             for i, f in enumerate(rope_factors(c.head_dim, c.rope_base, c.rope_factor))],
                            dtype=torch.float64)
        self.register_buffer("rope_step", step, persistent=False)
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if n.endswith("attn_output.weight") or n.endswith("ffn_down.weight"):
                    std /= math.sqrt(2 * c.n_layer)
                nn.init.normal_(p, 0.0, std)

    @torch.no_grad()
    def init_previous_token_heads(self, offsets=(1, 2), pairs=3, strength=9.0):
        """Start layer 0's KV heads as previous-token heads: KV head g attends to the
        token offsets[g] back.  Every token embedding gets a constant component (dim 0);
        the KV head's keys take it into the highest-frequency rotary pairs as (a, 0) and
        its query heads take it as a rotated by -offset, so the score is
        a^2 sum_i cos((distance - offset) theta_i): sharpest at the offset.  Induction
        heads (find the earlier occurrence of this token, copy what followed it) need a
        previous-token head below them; training both from scratch sits on a long
        plateau, measured in tests/reader/README.md."""
        c = self.c
        e = self.token_embd.weight
        sd = float(e[:, 1:].std())
        # rows of equal norm: dim 0 is then the same after RMSNorm for every token
        e[:, 1:] *= sd * math.sqrt(c.n_embd - 1) / e[:, 1:].norm(dim=1, keepdim=True)
        x0 = 2.5
        e[:, 0] = x0 * sd
        x0 *= math.sqrt(c.n_embd / (c.n_embd - 1 + x0 * x0))   # after RMSNorm
        a = strength / x0
        b0 = self.blocks[0]
        g = c.n_head // c.n_head_kv
        for kv, off in enumerate(offsets[:c.n_head_kv]):
            for i in range(pairs):
                th = float(self.rope_step[i])
                r = kv * c.head_dim + 2 * i
                b0.attn_k.weight[r, :] = 0
                b0.attn_k.weight[r + 1, :] = 0
                b0.attn_k.weight[r, 0] = a
                for h in range(kv * g, (kv + 1) * g):
                    r = h * c.head_dim + 2 * i
                    b0.attn_q.weight[r, :] = 0
                    b0.attn_q.weight[r + 1, :] = 0
                    b0.attn_q.weight[r, 0] = a * math.cos(off * th)
                    b0.attn_q.weight[r + 1, 0] = -a * math.sin(off * th)

    @torch.no_grad()
    def init_ngram_induction(self, n=4, code=16, first_pair=20, strength=3.0, out_gain=3.0,
                             prev_strength=9.0, slots_at=128):
        """Start with a working n-gram induction circuit instead of searching for one.
        The residual is laid out: dim 0 a constant, dims 1..slots_at-1 the token embedding
        (the rest zero), then n slots of `code` dims.  Layer 0's query head h attends to
        the token h+1 back (the constant taken into the three highest-frequency rotary
        pairs, as init_previous_token_heads does, the query rotated by the offset) and
        writes that token's code (its embedding dims 1..code) into slot h.  Layer 1's
        query head 0 then matches (token t, t-1, .., t-n+1) against (p-1, .., p-n)
        through n random maps into the low-frequency rotary pairs from first_pair on
        (nearly position-free over the window: a match scores the same at any distance)
        and copies the token at p: find the earlier occurrence of these n tokens, say
        what followed.  A fact's value after "...of vendor Haeskeskaeck is" is found
        by the last n tokens of its key, not by " is" alone.  Trained from scratch, a
        model of this size sat on a plateau instead of forming such a head
        (tests/reader/README.md); with it, a synthetic recall task is 77% right before
        any training and 92% after 150 steps."""
        c = self.c
        d, hd = c.n_embd, c.head_dim
        assert c.n_head >= n and slots_at + n * code <= d and hd >= 6 + code
        E = self.token_embd.weight
        E.normal_(0.0, 1.0)
        E[:, slots_at:] = 0
        E[:, 1:slots_at] *= math.sqrt(slots_at - 1) / E[:, 1:slots_at].norm(dim=1, keepdim=True)
        x0 = 2.5
        E[:, 0] = x0
        rms = math.sqrt((slots_at - 1 + x0 * x0) / d)   # every row's RMS
        a = prev_strength * rms / x0
        b0 = self.blocks[0]
        for w in (b0.attn_q.weight, b0.attn_k.weight, b0.attn_v.weight, b0.attn_output.weight):
            w.zero_()
        for kv in range(c.n_head_kv):
            for i in range(3):
                b0.attn_k.weight[kv * hd + 2 * i, 0] = a
            for j in range(code):
                b0.attn_v.weight[kv * hd + 6 + j, 1 + j] = 1.0
        for h in range(n):
            for i in range(3):
                th = float(self.rope_step[i])
                r = h * hd + 2 * i
                b0.attn_q.weight[r, 0] = a * math.cos((h + 1) * th)
                b0.attn_q.weight[r + 1, 0] = -a * math.sin((h + 1) * th)
            for j in range(code):
                b0.attn_output.weight[slots_at + h * code + j, h * hd + 6 + j] = rms
        self.compile_copy_head(self.blocks[1], n, code, first_pair, strength, out_gain, slots_at, seed=7)

    @torch.no_grad()
    def compile_copy_head(self, b, n, code, first_pair, strength, out_gain, slots_at, seed):
        """Block b's query head 0 (and KV head 0, which head 1 shares) as an n-gram copy
        head: (token t, slots 0 .. n-2) matched against slots 0 .. n-1 through n random maps
        (seeded) into the rotary pairs from first_pair on; the token at p copied into the
        embedding dims, out_gain strong.  The rest of query heads 0 .. g-1 is cleared."""
        c = self.c
        hd, g = c.head_dim, c.n_head // c.n_head_kv
        dims = [2 * i + k for i in range(first_pair, hd // 2) for k in (0, 1)]
        gen = torch.Generator().manual_seed(seed)
        maps = [torch.randn(len(dims), code, generator=gen) / math.sqrt(len(dims)) for _ in range(n)]
        b.attn_q.weight[0:g * hd].zero_()
        b.attn_k.weight[0:hd].zero_()
        b.attn_v.weight[0:hd].zero_()
        b.attn_output.weight[:, 0:g * hd] = 0
        for k in range(n):
            src_q = range(1, 1 + code) if k == 0 else range(slots_at + (k - 1) * code, slots_at + k * code)
            src_k = range(slots_at + k * code, slots_at + (k + 1) * code)
            for r, dd in enumerate(dims):
                for j, (sq, sk) in enumerate(zip(src_q, src_k)):
                    b.attn_q.weight[dd, sq] += strength * maps[k][r, j]
                    b.attn_k.weight[dd, sk] += strength * maps[k][r, j]
        for j in range(hd):
            b.attn_v.weight[j, 1 + j] = 1.0
            b.attn_output.weight[1 + j, j] = out_gain

    @torch.no_grad()
    def init_ngram8_induction(self, code=16, first_pair=20, strength=3.0, out_gain=3.0, prev_strength=9.0,
                              slots_at=128):
        """init_ngram_induction with a match over 8 tokens instead of 4 (keys that end in
        the same 4 tokens, `... Holdings is`, are a third of the dev set's facts and the
        4-gram head finds their value a fifth of the time).  Layer 0 as there (slots 0-3:
        the tokens 1-4 back), with 8 rotary pairs.  Layer 1's query head 0 becomes a
        previous-token head at offset 4 that copies the 4 slots of the token 4 back into
        the 4 free slots 4-7 (tokens 5-8 back).  Layer 2's query head 0 is the copy head:
        it matches (t, t-1, .., t-7) against (p-1, .., p-8) and copies the token at p."""
        c = self.c
        d, hd = c.n_embd, c.head_dim
        assert slots_at + 8 * code <= d and c.n_layer >= 3 and hd >= 4 * code
        self.init_ngram_induction(n=4, code=code, first_pair=first_pair, strength=strength,
                                  out_gain=out_gain, prev_strength=prev_strength, slots_at=slots_at)
        self.widen_previous_token_heads(8)
        b0, b1, b2 = self.blocks[0], self.blocks[1], self.blocks[2]
        g = c.n_head // c.n_head_kv
        # layer 1, KV head 0 and query head 0: offset 4, as strong as layer 0's heads
        a = float(b0.attn_k.weight[0:2, 0].norm())
        b1.attn_q.weight[0:g * hd].zero_()
        b1.attn_k.weight[0:hd].zero_()
        b1.attn_v.weight[0:hd].zero_()
        b1.attn_output.weight[:, 0:g * hd] = 0
        for i in range(8):
            th = float(self.rope_step[i])
            b1.attn_k.weight[2 * i, 0] = a
            b1.attn_q.weight[2 * i, 0] = a * math.cos(4 * th)
            b1.attn_q.weight[2 * i + 1, 0] = -a * math.sin(4 * th)
        rms = float(b0.attn_output.weight[slots_at, 6])   # the gain layer 0 writes its slots with
        for j in range(4 * code):
            b1.attn_v.weight[j, slots_at + j] = 1.0
            b1.attn_output.weight[slots_at + 4 * code + j, j] = rms
        # layer 2, KV head 0 and query head 0: the 8-token match
        self.compile_copy_head(b2, 8, code, first_pair, strength, out_gain, slots_at, seed=8)

    @torch.no_grad()
    def clear_slot_writers(self, init, slots_at=128):
        """Zero what the layers below the copy head write into the slot dims besides the
        compiled heads (the MLPs' rows slots_at.. and, for ngram8, layer 1's other heads'),
        so that with the circuit held (circuit()) the slots carry only their tokens' codes:
        held at their random start instead, they would pass on noise that grows as the
        values and MLPs they read from train."""
        hd = self.c.head_dim
        copy = {"ngram": 1, "ngram8": 2}[init]
        for i in range(copy):
            self.blocks[i].ffn_down.weight[slots_at:] = 0
        if init == "ngram8":
            self.blocks[1].attn_output.weight[slots_at:, hd:] = 0

    def circuit(self, init, code=16, slots_at=128):
        """The weights of the compiled circuit (init "ngram" or "ngram8"), as
        {parameter name: bool mask}, for train.py --freeze-circuit to hold fixed.  The 8-token
        head, trained freely for 500 steps, fell back to matching fewer tokens: before
        training it found the value of 22 of 23 dev facts whose key ends like another's, after
        it 6 (tests/reader/README.md).  Held: layer 0's attention (the previous-token heads
        that fill the slots) and its norm; the slot dims and the constant in the token
        embedding; what layers below the copy head write into the slot dims (attention and
        MLP rows slots_at..), so the slots hold what layer 0 (and, for ngram8, layer 1's
        offset-4 head) put there; those heads' weights; the copy head's query and key rows
        and its norm's weights on the dims it reads.  The copy head's value and output, and
        everything else, train."""
        hd = self.c.head_dim
        copy = {"ngram": 1, "ngram8": 2}[init]
        m = {n: torch.zeros_like(p, dtype=torch.bool) for n, p in self.named_parameters()}
        m["token_embd.weight"][:, 0] = True
        m["token_embd.weight"][:, slots_at:] = True
        for n in ("attn_q", "attn_k", "attn_v", "attn_output"):
            m["blocks.0.%s.weight" % n][:] = True
        m["blocks.0.attn_norm"][:] = True
        for i in range(copy):
            m["blocks.%d.attn_output.weight" % i][slots_at:] = True
            m["blocks.%d.ffn_down.weight" % i][slots_at:] = True
        if init == "ngram8":
            b = "blocks.1."
            m[b + "attn_q.weight"][0:hd] = True
            m[b + "attn_k.weight"][0:hd] = True
            m[b + "attn_v.weight"][0:hd] = True
            m[b + "attn_output.weight"][:, 0:hd] = True
            m[b + "attn_norm"][0] = True
            m[b + "attn_norm"][slots_at:] = True
        b = "blocks.%d." % copy
        m[b + "attn_q.weight"][0:hd] = True
        m[b + "attn_k.weight"][0:hd] = True
        m[b + "attn_norm"][0:1 + code] = True
        m[b + "attn_norm"][slots_at:] = True
        return m

    @torch.no_grad()
    def widen_previous_token_heads(self, pairs, n=4):
        """Widen layer 0's compiled previous-token heads (init_ngram_induction: query head h
        attends h+1 back through the constant in the three highest-frequency rotary pairs)
        to `pairs` pairs, each new one as strong as the mean of the three.  Three pairs
        alias: far positions score nearly as high as the offset, and in a long window
        they are many; measured on the committed reader, each head's weight on its token
        fell from 0.97 in a window's first 256 positions to 0.86 at 1,024-2,048 and 0.6 at
        2,048-4,096, so the n-gram head above matched blurred tokens.  With 8 pairs it is
        1.00 at every position.  The new pairs must be unused (zero: they start at zero
        and stay there in training, both factors of their scores being zero)."""
        c = self.c
        b0 = self.blocks[0]
        hd = c.head_dim

        def widen(w, head, what, row):
            """Head `head`'s rows of w: the new pairs' rows from row(i, a), a the mean
            strength of its three compiled pairs."""
            base = head * hd
            a = float(torch.stack([w[base + 2 * i:base + 2 * i + 2, 0].norm() for i in range(3)]).mean())
            for i in range(3, pairs):
                r = base + 2 * i
                if w[r:r + 2].abs().sum() > 0:
                    raise ValueError("layer 0, %s %d: rotary pair %d is in use" % (what, head, i))
                w[r, 0], w[r + 1, 0] = row(i, a)

        for kv in range(c.n_head_kv):
            widen(b0.attn_k.weight, kv, "KV head", lambda i, a: (a, 0.0))
        for h in range(min(n, c.n_head)):
            off = h + 1
            widen(b0.attn_q.weight, h, "query head",
                  lambda i, a: (a * math.cos(off * float(self.rope_step[i])),
                                -a * math.sin(off * float(self.rope_step[i]))))

    def rope(self, pos):
        ang = pos.double()[:, None, :, None] * self.rope_step
        return ang.cos().float(), ang.sin().float()

    def hidden(self, ids, pos, mask):
        """Final normalised hidden states [B, T, d]; mask: additive [B, 1, T, T]."""
        cos, sin = self.rope(pos)
        x = self.token_embd(ids)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        return rmsnorm(x, self.output_norm, self.c.eps)

    def hidden_split(self, pre, br, key_bias=None):
        """hidden() for a batch in two parts: pre = (ids, pos, valid) [B, P] and br = (ids,
        pos, valid) [B, nb, L]; returns final hidden states [B, P, d] and [B, nb, L, d].
        key_bias [B, P], if given, is added to every score a prefix token gets as a key."""
        (ip, pp, vp), (ib, pb, vb) = pre, br
        B, P = ip.shape
        nb, L = ib.shape[1], ib.shape[2]
        causal = torch.ones(P, P, dtype=torch.bool).tril()
        okp = (causal[None] & vp[:, None, :]) | torch.eye(P, dtype=torch.bool)[None]
        mask_p = torch.zeros(okp.shape).masked_fill_(~okp, float("-inf"))[:, None]
        own = torch.ones(L, L, dtype=torch.bool).tril()
        okb = torch.cat((vp[:, None, None, :].expand(B, nb, L, P),
                         own[None, None] & vb[:, :, None, :]), -1)
        okb[..., P:] |= torch.eye(L, dtype=torch.bool)
        mask_b = torch.zeros(okb.shape).masked_fill_(~okb, float("-inf"))[:, None]
        if key_bias is not None:
            mask_p = mask_p + key_bias[:, None, None, :]
            mask_b[..., :P] += key_bias[:, None, None, None, :]
        if torch.is_autocast_cpu_enabled():
            mask_p, mask_b = mask_p.bfloat16(), mask_b.bfloat16()
        rp = self.rope(pp)
        rb = self.rope(pb.reshape(B, nb * L))
        xp, xb = self.token_embd(ip), self.token_embd(ib)
        for b in self.blocks:
            xp, xb = b.forward_split(xp, xb, rp, rb, mask_p, mask_b)
        return rmsnorm(xp, self.output_norm, self.c.eps), rmsnorm(xb, self.output_norm, self.c.eps)

    def logits(self, h):
        return h @ self.token_embd.weight.t()

    def gguf_tensors(self):
        """(GGUF name, float32 tensor in GGUF row order) for every weight."""
        out = [("token_embd.weight", self.token_embd.weight)]
        for i, b in enumerate(self.blocks):
            for name in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                         "ffn_gate", "ffn_up", "ffn_down"):
                p = getattr(b, name)
                w = p if isinstance(p, nn.Parameter) else p.weight
                if name == "attn_q" and self.c.q_gain:
                    w = w * b.q_gain.exp().repeat_interleave(self.c.head_dim)[:, None]
                out.append(("blk.%d.%s.weight" % (i, name), w))
        out.append(("output_norm.weight", self.output_norm))
        return [(n, t.detach().float().contiguous()) for n, t in out]


def attention_mask(seg, valid):
    """Additive mask [B, 1, T, T]: causal, and a question/answer branch (seg > 0) sees the
    prefix (seg 0) and itself only; padding (valid false) sees and is seen by nothing
    but itself."""
    T = seg.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    same = (seg[:, None, :] == 0) | (seg[:, None, :] == seg[:, :, None])
    ok = causal[None] & same & valid[:, None, :]
    ok |= torch.eye(T, dtype=torch.bool)[None]
    m = torch.zeros(ok.shape, dtype=torch.float32)
    m.masked_fill_(~ok, float("-inf"))
    return m[:, None]
