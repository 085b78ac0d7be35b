#!/usr/bin/python3
"""tests/reader/check_export.py — check that longread computes what PyTorch trained:
run one held-out prompt through the checkpoint (float32) and through `longread logits`
on the exported GGUF, and compare the logits (rel L2 over the positions checked).
Usage: check_export.py --ckpt CKPT --gguf MODEL.gguf --longread ./longread --data DIR
Training-data tooling, not part of longread."""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_data import load  # noqa: E402
from model import Config, Reader, attention_mask  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--longread", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--kv", default="f32")
    ap.add_argument("--max-rel", type=float, default=2e-3)
    args = ap.parse_args()
    st = torch.load(args.ckpt)
    model = Reader(Config(**st["config"]))
    model.load_state_dict(st["model"])
    model.eval()
    # a dense held-out sequence: the prefix and its first branch, at positions 0..n-1
    seqs = load(os.path.join(args.data, sorted(f for f in os.listdir(args.data) if f.startswith("eval"))[0]))
    s = next(x for x in seqs if x["prefix_len"] == int((x["seg"] == 0).sum()))
    keep = (s["seg"] == 0) | (s["seg"] == 1)
    ids = torch.from_numpy(s["ids"][keep].astype(np.int64))[None]
    n = ids.shape[1]
    pos = torch.arange(n)[None]
    with torch.no_grad():
        ref = model.logits(model.hidden(ids, pos, attention_mask(torch.zeros(1, n, dtype=torch.long),
                                                                   torch.ones(1, n, dtype=torch.bool))))[0]
    check = list(range(0, n, max(1, n // 24))) + [n - 1]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "ids"), "w") as f:
            f.write("".join("%d\n" % i for i in ids[0].tolist()))
        with open(os.path.join(tmp, "pos"), "w") as f:
            f.write("".join("%d\n" % p for p in check))
        subprocess.run([args.longread, "logits", "-m", args.gguf, "--ids", os.path.join(tmp, "ids"),
                        "--positions", os.path.join(tmp, "pos"), "--kv", args.kv,
                        "-o", os.path.join(tmp, "out")], check=True)
        got = np.fromfile(os.path.join(tmp, "out"), dtype="<f4").reshape(len(check), -1)
    want = ref[check].double().numpy()
    rel = np.linalg.norm(got - want) / np.linalg.norm(want)
    agree = float((got.argmax(-1) == want.argmax(-1)).mean())
    print("check_export: %d tokens, %d positions, kv %s: rel L2 %.2e, argmax agrees %.0f%%"
          % (n, len(check), args.kv, rel, 100 * agree))
    sys.exit(0 if rel <= args.max_rel else 1)


if __name__ == "__main__":
    main()
