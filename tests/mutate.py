#!/usr/bin/python3
"""tests/mutate.py — hostile inputs for every kind longread reads (issue 18): mutated
GGUF models, PDFs, HTML pages, text files, saved contexts (.lrc, with their header
checksum redone for half of them so the damage gets past it), tokenizer input, and
requests to `longread serve`.  Each mutant is a seed with 1-4 random edits (bit flips,
interesting integers, inserted, deleted, duplicated or cut bytes); each is run through
the command a user would, and must end with a documented exit code, by itself (no
signal, no sanitizer report, within the time limit), with every line on stderr
longread's own — and a failure must name the file.  Reproducible: --seed.

Usage: mutate.py --longread PATH --model GGUF --work DIR [--per-kind N] [--seed S]
                 [--kinds gguf,pdf,html,text,lrc,tok,http] [--jobs J]
Prints TAP: one line per kind, with the failures as diagnostics."""
import argparse
import concurrent.futures
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

DOCUMENTED = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
               0x7fffffffffffffff, 0xffffffffffffffff, 1 << 20, 1 << 31, 1 << 40]


def mutate(rng, data):
    d = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        n = len(d)
        if n == 0:
            d += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
            continue
        at = rng.randrange(n)
        if op == 0:                                   # flip a bit
            d[at] ^= 1 << rng.randrange(8)
        elif op == 1:                                 # an interesting integer, 1-8 bytes
            w = rng.choice([1, 2, 4, 8])
            v = rng.choice(INTERESTING) & ((1 << (8 * w)) - 1)
            d[at:at + w] = v.to_bytes(w, "little")
        elif op == 2:                                 # insert random bytes
            d[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 3:                                 # delete a range
            del d[at:at + rng.randint(1, 256)]
        elif op == 4:                                 # duplicate a range
            ln = rng.randint(1, 512)
            d[at:at] = d[at:at + ln]
        elif op == 5:                                 # cut the file
            del d[at:]
        else:                                         # random bytes over a range
            ln = rng.randint(1, 16)
            d[at:at + ln] = bytes(rng.randrange(256) for _ in range(ln))
    return bytes(d)


def mutate_json(rng, v, depth=0):
    """A structural change that keeps the body valid JSON: a value of another type, an
    extreme number or string, a key dropped or added, deep nesting."""
    choices = [None, True, -1, 0, 2 ** 31, 2 ** 63, 1e308, -1e308, 0.5, "", "x" * rng.choice([1, 1000, 100000]),
               "\u0000<|eot_id|>", [], {}, [[[[[[[[[[[]]]]]]]]]]], {"role": "user"}]
    if isinstance(v, dict) and v and rng.random() < 0.7:
        v = dict(v)
        k = rng.choice(list(v))
        r = rng.random()
        if r < 0.2:
            del v[k]
        elif r < 0.3:
            v[rng.choice(["n", "stream", "logprobs", "tools", "model", "n_predict", "top_k"])] = rng.choice(choices)
        else:
            v[k] = mutate_json(rng, v[k], depth + 1)
        return v
    if isinstance(v, list) and v and rng.random() < 0.7:
        v = list(v)
        i = rng.randrange(len(v))
        if rng.random() < 0.2:
            v.append(v[i])
        else:
            v[i] = mutate_json(rng, v[i], depth + 1)
        return v
    return rng.choice(choices)


def crc32c(b):
    c = 0xffffffff
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82f63b78 & -(c & 1))
    return c ^ 0xffffffff


def mutate_lrc(rng, data):
    """Damage inside the 1,024-byte header (with its checksum redone: a forger's file),
    or anywhere (caught by a checksum)."""
    if rng.random() < 0.5 and len(data) > 1024:
        d = bytearray(data)
        head = bytearray(mutate(rng, bytes(d[16:1020])))[:1004]
        head += bytes(1004 - len(head))
        d[16:1020] = head
        d[1020:1024] = crc32c(bytes(d[:1020])).to_bytes(4, "little")
        return bytes(d)
    return mutate(rng, data)


def check(kind, path, argv, proc, dt, limit, failures):
    """Record what is wrong with one run."""
    err = proc.stderr.decode("utf-8", "replace")
    lines = [l for l in err.splitlines() if l]
    what = "%s %s" % (kind, os.path.basename(path))
    if proc.returncode is None or dt > limit:
        failures.append("%s: no end within %d s" % (what, limit))
    elif proc.returncode < 0:
        failures.append("%s: killed by signal %d (%s)" % (what, -proc.returncode, " ".join(argv)))
    elif proc.returncode not in DOCUMENTED:
        failures.append("%s: exit %d is not documented" % (what, proc.returncode))
    elif "Sanitizer" in err or "runtime error:" in err:
        failures.append("%s: sanitizer report: %s" % (what, err[:300]))
    elif any(not (l.startswith("longread") or l.startswith("Try 'longread")) for l in lines):
        failures.append("%s: stray stderr: %s" % (what, err[:300]))
    elif proc.returncode in (3, 4, 5, 7, 8, 9) and os.path.basename(path) not in err and path not in err:
        failures.append("%s: exit %d without naming the file: %s" % (what, proc.returncode, err[:200]))


def run_one(kind, path, argv, limit):
    t0 = time.time()
    try:
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=limit,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        proc = subprocess.CompletedProcess(argv, None, None, e.stderr or b"")
    return kind, path, argv, proc, time.time() - t0


def files_kind(a, kind, seeds, command, rng, limit, mutator=mutate):
    """Write a.per_kind mutants of the seeds and run command(path) on each."""
    d = os.path.join(a.work, kind)
    os.makedirs(d, exist_ok=True)
    blobs = [open(s, "rb").read() for s in seeds]
    jobs = []
    for i in range(a.per_kind):
        src = blobs[i % len(blobs)]
        ext = os.path.splitext(seeds[i % len(seeds)])[1] or {"pdf": ".pdf", "html": ".html"}.get(kind, ".txt")
        p = os.path.join(d, "m%03d%s" % (i, ext))
        with open(p, "wb") as f:
            f.write(mutator(rng, src))
        jobs.append((kind, p, command(p), limit))
    failures = []
    codes = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for r in ex.map(lambda j: run_one(*j), jobs):
            check(*r, limit, failures)
            codes[r[3].returncode] = codes.get(r[3].returncode, 0) + 1
    files_kind.codes = codes
    return failures


def http_kind(a, rng):
    """Mutated JSON bodies (and a few non-JSON ones) to a running server: each gets an HTTP
    answer, and the server is alive at the end."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    logf = open(os.path.join(a.work, "serve.log"), "wb")
    srv = subprocess.Popen([a.longread, "serve", "-m", a.model, "--port", str(port), "-c", "2048", "-n", "16"],
                           stdout=logf, stderr=logf)
    failures = []
    statuses = {}
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        seeds = [
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "What is the code?"}],
                                      "max_tokens": 8, "temperature": 0}),
            ("/v1/chat/completions", {"messages": [{"role": "system", "content": "Be brief."},
                                                   {"role": "user", "content": "Hi"}], "stream": True,
                                      "max_tokens": 4, "stop": ["x"]}),
            ("/v1/completions", {"prompt": "The code is", "max_tokens": 8, "seed": 3}),
            ("/tokenize", {"content": "hello world"}),
            ("/detokenize", {"tokens": [1, 2, 3]}),
        ]
        for i in range(a.per_kind):
            path, body = seeds[i % len(seeds)]
            if i % 3 == 0:
                raw = mutate(rng, json.dumps(body).encode())
            else:
                raw = json.dumps(mutate_json(rng, body)).encode()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                c.request("POST", path, body=raw, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status >= 500 and r.status != 503:
                    failures.append("http %s: status %d for %r" % (path, r.status, raw[:80]))
            except (OSError, http.client.HTTPException) as e:
                failures.append("http %s: no answer (%s) for %r" % (path, e, raw[:80]))
            if srv.poll() is not None:
                failures.append("http: the server ended (exit %s) after %r" % (srv.returncode, raw[:80]))
                break
    finally:
        if srv.poll() is None:
            srv.send_signal(signal.SIGINT)
            try:
                srv.wait(30)
            except subprocess.TimeoutExpired:
                srv.kill()
                failures.append("http: the server did not stop on SIGINT")
        logf.close()
    log = open(os.path.join(a.work, "serve.log"), "rb").read().decode("utf-8", "replace")
    if "Sanitizer" in log or "runtime error:" in log:
        failures.append("http: sanitizer report: %s" % log[:300])
    if srv.returncode not in (0, 130):
        failures.append("http: the server exited %s" % srv.returncode)
    http_kind.statuses = statuses
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--longread", required=True)
    ap.add_argument("--model", required=True, help="a small model (tests/models/reader.gguf)")
    ap.add_argument("--srcdir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--work", required=True)
    ap.add_argument("--per-kind", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=60, help="seconds a run may take")
    ap.add_argument("--kinds", default="gguf,pdf,html,text,lrc,tok,http")
    a = ap.parse_args()
    S = a.srcdir
    L = a.longread
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    kinds = a.kinds.split(",")
    n = 0
    bad = 0
    for kind in kinds:
        rng = random.Random("%d/%s" % (a.seed, kind))
        t0 = time.time()
        if kind == "gguf":
            seeds = [os.path.join(S, "tests/fuzz/gguf", f) for f in ("valid_tiny_f32.gguf", "valid_tiny_q8.gguf")]
            f = files_kind(a, kind, seeds, lambda p: [L, "inspect", p], rng, a.limit)
        elif kind == "pdf":
            seeds = [os.path.join(S, p) for p in ("tests/fuzz/extract/pdf-minimal", "tests/fixtures/twocol-tight.pdf",
                                                  "tests/fixtures/huge-page-labels.pdf")]
            seeds = [s for s in seeds if os.path.exists(s)]
            f = files_kind(a, kind, seeds, lambda p: [L, "extract", p], rng, a.limit)
        elif kind == "html":
            seeds = [os.path.join(S, p) for p in ("corpora/html/install-en.html", "tests/fuzz/extract/html-basic",
                                                  "tests/fuzz/extract/html-nested-table")]
            f = files_kind(a, kind, seeds, lambda p: [L, "extract", p], rng, a.limit)
        elif kind == "text":
            seeds = [os.path.join(S, p) for p in ("tests/fuzz/extract/text-bad-utf8", "tests/fuzz/extract/text-latin1",
                                                  "corpora/text/debian-reference.zh-cn.head.txt")]
            f = files_kind(a, kind, seeds, lambda p: [L, "extract", p], rng, a.limit)
        elif kind == "tok":
            seeds = [os.path.join(S, p) for p in ("tests/fuzz/extract/text-bad-utf8",
                                                  "corpora/text/debian-reference.zh-cn.head.txt")]
            f = files_kind(a, kind, seeds, lambda p: [L, "tokenize", "-m", a.model, "--special", p], rng, a.limit)
        elif kind == "lrc":
            doc = os.path.join(a.work, "doc.txt")
            with open(doc, "w") as fh:
                fh.write("The access code of Project Kalivo is 4821.\n" * 20)
            seed = os.path.join(a.work, "seed.lrc")
            p = subprocess.run([L, "pack", "-m", a.model, "-c", "1024", "-n", "8", doc, "-o", seed],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if p.returncode != 0:
                f = ["lrc: cannot pack the seed: %s" % p.stderr.decode()[:200]]
            else:
                f = files_kind(a, kind, [seed], lambda p: [L, "ask", p, "-m", a.model, "-q", "What is the code?",
                                                          "-n", "4", "--temp", "0", "--no-source-check"],
                               rng, a.limit, mutate_lrc)
        elif kind == "http":
            f = http_kind(a, rng)
        else:
            print("Bail out! unknown kind %s" % kind)
            return 1
        n += 1
        bad += bool(f)
        print("%s %d - %s: %d mutants, %d bad (%.0f s)" % ("not ok" if f else "ok", n, kind, a.per_kind, len(f),
                                                            time.time() - t0))
        for x in f[:20]:
            print("#   " + x)
        if kind == "http":
            print("#   HTTP statuses: %s" % json.dumps(getattr(http_kind, "statuses", {}), sort_keys=True))
        elif getattr(files_kind, "codes", None):
            print("#   exit codes: %s" % ", ".join("%s x%d" % (k, v) for k, v in sorted(files_kind.codes.items(),
                                                                                       key=lambda kv: str(kv[0]))))
            files_kind.codes = None
        sys.stdout.flush()
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
