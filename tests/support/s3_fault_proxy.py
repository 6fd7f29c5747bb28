#!/usr/bin/env python3
"""s3_fault_proxy.py -- an HTTP proxy for fault tests of the S3 client.

    s3_fault_proxy.py --upstream HOST:PORT|none --log FILE --rules JSON

Listens on a free 127.0.0.1 port and prints "PORT <n>" on stdout once
ready. Each request is forwarded to the upstream S3 server unchanged
(its Host header too, so SigV4 signatures stay valid) unless a rule fires;
every response is sent with Connection: close. Each request is logged as
one line "METHOD TARGET ACTION" (ACTION is "forward" or the rule's action).

Rules (a JSON list, first match wins), each a dict with
  method   request method to match (optional)
  match    substring of the request target, path and query (optional)
  skip     let this many matching requests through first (default 0)
  times    fire this many times (default 1; -1 = always)
  action   what to do when it fires:
    status    answer {status, body, content_type} without forwarding
    truncate  forward; pass the response head and only `bytes` body
              bytes, then close (Content-Length still says the full size)
    shorten   forward; say Content-Length: `bytes` and send that many bytes
              (a consistent but wrong answer)
    kill      SIGKILL process `pid` (the S3 server), then close without
              answering
    hang      read the request, never answer (until the client goes away)
    drop      close without answering

Stopped with SIGTERM/SIGINT. Test-only: no TLS, HTTP/1.1 with
Content-Length bodies only (what libcurl and S3 send).
"""
import argparse
import json
import os
import signal
import socket
import socketserver
import sys
import threading

LOCK = threading.Lock()


def log(path, line):
    with LOCK:
        with open(path, "a") as f:
            f.write(line + "\n")


def read_head(sock, buf=b""):
    """Reads until the end of an HTTP head; returns (head, rest) or (None, b"")."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buf += chunk
        if len(buf) > 1 << 20:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def header(lines, name):
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def with_header(lines, name, value):
    out = [ln for ln in lines if ln.partition(":")[0].strip().lower() != name]
    if value is not None:
        out.append(f"{name}: {value}")
    return out


class Rules:
    def __init__(self, rules):
        self.rules = rules
        for r in rules:
            r.setdefault("skip", 0)
            r.setdefault("times", 1)

    def pick(self, method, target):
        with LOCK:
            for r in self.rules:
                if r.get("method") and r["method"] != method:
                    continue
                if r.get("match") and r["match"] not in target:
                    continue
                if r["skip"] > 0:
                    r["skip"] -= 1
                    return None
                if r["times"] == 0:
                    continue
                if r["times"] > 0:
                    r["times"] -= 1
                return r
        return None


def pump(src, dst, n=None):
    """Copies n bytes (or until EOF) from src to dst; False on a socket error."""
    try:
        while n is None or n > 0:
            chunk = src.recv(65536 if n is None else min(65536, n))
            if not chunk:
                return n is None
            dst.sendall(chunk)
            if n is not None:
                n -= len(chunk)
        return True
    except OSError:
        return False


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        client = self.request
        head, rest = read_head(client)
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target = lines[0].split(" ")[0], lines[0].split(" ")[1]
        length = int(header(lines, "content-length") or 0)
        expect = (header(lines, "expect") or "").lower() == "100-continue"
        rule = srv.rules.pick(method, target)
        action = rule["action"] if rule else "forward"
        log(srv.log, f"{method} {target} {action}")
        if action == "status":
            if not expect:  # read the body the client is sending
                left = length - len(rest)
                while left > 0:
                    chunk = client.recv(min(65536, left))
                    if not chunk:
                        break
                    left -= len(chunk)
            body = rule.get("body", "").encode()
            resp = (f"HTTP/1.1 {rule['status']} Injected\r\n"
                    f"Content-Type: {rule.get('content_type', 'application/xml')}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
            client.sendall(resp + (b"" if method == "HEAD" else body))
            return
        if action == "drop":
            return
        if action == "hang":
            try:
                while client.recv(65536):
                    pass
            except OSError:
                pass
            return
        if action == "kill":
            try:
                os.kill(int(rule["pid"]), signal.SIGKILL)
            except OSError:
                pass
            return
        if srv.upstream is None:
            return
        try:
            up = socket.create_connection(srv.upstream, timeout=30)
        except OSError:
            return  # the server is gone: the client sees an empty reply
        with up:
            lines = with_header(lines, "connection", "close")
            up.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + rest)
            body_left = length - len(rest)
            t = threading.Thread(target=pump, args=(client, up, body_left), daemon=True)
            t.start()
            if action == "forward":
                pump(up, client)
                return
            # truncate / shorten: rewrite the final response
            buf = b""
            while True:
                rhead, rbody = read_head(up, buf)
                if rhead is None:
                    return
                if rhead.startswith(b"HTTP/1.1 100"):
                    client.sendall(rhead + b"\r\n\r\n")
                    buf = rbody
                    continue
                break
            rlines = rhead.decode("latin-1").split("\r\n")
            n = int(rule.get("bytes", 0))
            if action == "shorten":
                rlines = with_header(rlines, "content-length", str(n))
            client.sendall(("\r\n".join(rlines) + "\r\n\r\n").encode("latin-1"))
            if method == "HEAD":
                return
            send = rbody[:n]
            client.sendall(send)
            if len(send) < n:
                pump(up, client, n - len(send))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--rules", default="[]")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.upstream = None
    if a.upstream != "none":
        host, _, port = a.upstream.rpartition(":")
        srv.upstream = (host, int(port))
    srv.log = a.log
    srv.rules = Rules(json.loads(a.rules))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
