#!/usr/bin/env python3
"""tests/api_server.py — a small OpenAI-compatible server for tests/cli_api.sh, well
behaved or faulty on purpose.  Python 3 standard library only.

It binds 127.0.0.1 on a free port, prints the port on stdout, appends every request it
receives to --log (one JSON object per line: method, path, headers, body), and exits by
itself after --lifetime seconds, so a test can never hang on it.

  GET  /v1/models            --models vllm (max_model_len), llama (meta.n_ctx_train,
                             with /props saying the running n_ctx), many, none (404),
                             bad (200, not JSON)
  POST /tokenize             --tokenizer vllm ({"prompt"} -> {"count","tokens"}), llama
                             ({"content"} -> {"tokens"}; no content: an empty list, as
                             llama-server does), none (404).  A token is 3 bytes.
  POST /v1/chat/completions  --chat MODE: ok (streams --answer as server-sent events;
                             refuses a prompt over the window with 400 as vLLM does;
                             plays a prefix cache: a prompt that mostly repeats the last
                             one is answered at once, others after --prefill-delay s),
                             500, 429-then-ok, 429, 429-long (Retry-After: 3600), cut
                             (chunked stream closed midway), cut-clean (stream ends with
                             no finish reason and no [DONE]), malformed (a data event
                             that is not JSON), wrong-json (choices not a list),
                             error-event (llama-server's "error:" event mid-stream),
                             stall (stops sending after two events), stall-first (never
                             answers), whole (ignores "stream": one JSON reply)

--blackhole instead listens with its accept queue full, so connecting times out.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A = None
LOCK = threading.Lock()
STATE = {"chat": 0, "last_prompt": ""}


def ntok(s):
    return (len(s.encode("utf-8")) + 2) // 3


def log(entry):
    with LOCK, open(A.log, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # each event leaves at once, as a real server's

    def log_message(self, fmt, *args):  # quiet
        pass

    # ------------------------------------------------------------ replies
    def reply(self, status, obj, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self, chunked=True):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.chunked = chunked

    def send(self, text):
        data = text.encode()
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.wfile.write(data)
        self.wfile.flush()

    def event(self, obj):
        self.send("data: " + json.dumps(obj) + "\n\n")

    def end_stream(self):
        if self.chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    @staticmethod
    def delta(content=None, finish=None):
        d = {} if content is None else {"content": content}
        return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": A.model,
                "choices": [{"index": 0, "delta": d, "finish_reason": finish}]}

    # ------------------------------------------------------------ requests
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        log({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
             "body": raw})
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def do_GET(self):
        self.read_body()
        if self.path == "/v1/models":
            self.models()
        elif self.path == "/props" and A.models == "llama":
            self.reply(200, {"default_generation_settings": {"n_ctx": A.window}, "total_slots": 1})
        else:
            self.reply(404, {"detail": "Not Found"})

    def models(self):
        m = A.models
        if m == "none":
            return self.reply(404, {"detail": "Not Found"})
        if m == "bad":
            return self.reply(200, None, raw=b"this is not json")
        if m == "llama":
            data = [{"id": A.model, "object": "model", "meta": {"n_ctx_train": 131072, "n_vocab": 128256}}]
        else:
            data = [{"id": A.model, "object": "model", "max_model_len": A.window}]
            if m == "many":
                data.append({"id": "other-model", "object": "model", "max_model_len": A.window})
        self.reply(200, {"object": "list", "data": data})

    def do_POST(self):
        body = self.read_body()
        if self.path == "/tokenize":
            self.tokenize(body or {})
        elif self.path == "/v1/chat/completions":
            self.chat(body)
        else:
            self.reply(404, {"detail": "Not Found"})

    def tokenize(self, body):
        t = A.tokenizer
        if t == "vllm":
            if "prompt" not in body:
                return self.reply(400, {"object": "error", "message": "Field required: prompt",
                                        "type": "BadRequestError", "code": 400})
            n = ntok(body["prompt"])
            return self.reply(200, {"count": n, "max_model_len": A.window, "tokens": list(range(n))})
        if t == "llama":
            return self.reply(200, {"tokens": list(range(ntok(body["content"]))) if "content" in body else []})
        self.reply(404, {"detail": "Not Found"})

    def chat(self, body):
        with LOCK:
            STATE["chat"] += 1
            k = STATE["chat"]
        mode = A.chat
        if body is None or not body.get("stream"):
            return self.reply(400, {"error": {"message": "expected a JSON body with stream: true"}})
        if mode == "500":
            return self.reply(500, {"error": {"message": "model exploded", "type": "server_error", "code": 500}})
        if mode == "429" or (mode == "429-then-ok" and k == 1):
            return self.reply(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                              {"Retry-After": "0"})
        if mode == "429-long":
            return self.reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "3600"})
        if mode == "stall-first":
            time.sleep(A.lifetime)
            return
        if mode == "whole":
            return self.reply(200, {"id": "x", "object": "chat.completion",
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": A.answer},
                                                 "finish_reason": "stop"}],
                                    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
        prompt = "".join(m.get("content", "") for m in body.get("messages", []))
        n_prompt = ntok(prompt) + 5 * len(body.get("messages", [])) + 3
        if n_prompt + int(body.get("max_tokens") or 0) > A.window:
            return self.reply(400, {"object": "error", "type": "BadRequestError", "code": 400,
                                    "message": "This model's maximum context length is %d tokens. However, you "
                                               "requested %d tokens." % (A.window, n_prompt + body["max_tokens"])})
        with LOCK:
            last = STATE["last_prompt"]
            STATE["last_prompt"] = prompt
        common = os.path.commonprefix([last, prompt])
        cached = ntok(common) if common else 0
        pieces = [A.answer[i:i + 7] for i in range(0, len(A.answer), 7)]
        self.start_stream(chunked=mode != "cut-clean")
        try:
            self.send(": keep-alive\n\n")
            if cached * 2 < ntok(prompt):
                time.sleep(A.prefill_delay)   # the prefill a prefix cache saves
            self.event({**self.delta(), "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                                    "finish_reason": None}]})
            for i, p in enumerate(pieces):
                if i == 2 and mode in ("cut", "cut-clean"):
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if i == 2 and mode == "stall":
                    time.sleep(A.lifetime)
                    return
                if i == 2 and mode == "malformed":
                    self.send("data: {\"choices\": [{\"delta\": {\"content\": \"x\"}\n\n")
                    break
                if i == 2 and mode == "wrong-json":
                    self.event({"choices": {"index": 0}})
                    break
                if i == 2 and mode == "error-event":
                    self.send("error: " + json.dumps({"code": 500, "message": "slot crashed",
                                                       "type": "server_error"}) + "\n\n")
                    break
                self.event(self.delta(p))
            else:
                self.event(self.delta(finish="stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    self.event({"id": "chatcmpl-test", "object": "chat.completion.chunk", "choices": [],
                                "usage": {"prompt_tokens": n_prompt, "completion_tokens": len(pieces),
                                          "total_tokens": n_prompt + len(pieces),
                                          "prompt_tokens_details": {"cached_tokens": cached}}})
                self.send("data: [DONE]\n\n")
            self.end_stream()
        except (BrokenPipeError, ConnectionResetError):
            pass


def blackhole():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    held = []
    for _ in range(3):   # fill the accept queue: later handshakes are dropped
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(c)
    time.sleep(0.2)
    print(port, flush=True)
    time.sleep(A.lifetime)


def main():
    global A
    p = argparse.ArgumentParser()
    p.add_argument("--log", default=os.devnull)
    p.add_argument("--models", default="vllm")
    p.add_argument("--tokenizer", default="vllm")
    p.add_argument("--chat", default="ok")
    p.add_argument("--model", default="test-model")
    p.add_argument("--window", type=int, default=8192)
    p.add_argument("--answer", default='The second line says "beta" [a.txt:2].')
    p.add_argument("--prefill-delay", type=float, default=0.0)
    p.add_argument("--lifetime", type=float, default=120)
    p.add_argument("--blackhole", action="store_true")
    A = p.parse_args()
    threading.Timer(A.lifetime, lambda: os._exit(0)).start()
    if A.blackhole:
        blackhole()
        return
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
