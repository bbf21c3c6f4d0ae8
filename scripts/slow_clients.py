#!/usr/bin/env python3
"""Slow clients against a Vigie binary on loopback: how long do they hold connections, and do
/healthz and intake still answer meanwhile?

Starts `BINARY serve` on 127.0.0.1 with a fresh SQLite file and a limit on open files (like a
default `ulimit -n 1024`), opens N connections that send the headers of a `POST /v1/comments`
and then its body one byte per second, and for `--watch` seconds probes `GET /healthz` and a
normal `POST /v1/comments` every 2 s (5 s timeout each). Prints what the slow connections got
and when, and how the probes fared. Bounded: loopback only, at most 5,000 connections, at most
300 s.

    scripts/slow_clients.py --binary target/debug/vigie --connections 1100 --nofile 1024
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"


def comment(n):
    return json.dumps({
        "external_id": f"probe-{n}",
        "thread": {"id": "t-1", "url": "https://example.fr/articles/t-1"},
        "author": {"id": "u-probe"},
        "body": f"Un avis posté normalement, numéro {n}.",
    }).encode()


async def slow_client(port, key, results, i):
    body_len = 2000
    head = (f"POST /v1/comments HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_len}\r\n\r\n").encode()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
    except (OSError, asyncio.TimeoutError):
        results[i] = ("not connected", None)
        return
    opened = time.monotonic()

    async def trickle():
        writer.write(head)
        for _ in range(body_len):
            await writer.drain()
            await asyncio.sleep(1)
            writer.write(b" ")

    sender = asyncio.ensure_future(trickle())
    try:
        first = await reader.readline()
        await reader.read()  # until the server closes
        status = first.split(b" ")[1].decode() if first else "closed without answer"
        results[i] = (status, time.monotonic() - opened)
    except OSError:
        results[i] = ("reset", time.monotonic() - opened)
    except asyncio.CancelledError:
        results[i] = ("open", None)
    finally:
        sender.cancel()
        writer.close()


async def request(port, raw, timeout=5.0):
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
        writer.write(raw)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout - (time.monotonic() - start))
        writer.close()
        status = line.split(b" ")[1].decode() if line else "closed"
        return status, time.monotonic() - start
    except (OSError, asyncio.TimeoutError, IndexError):
        return "no answer", time.monotonic() - start


async def probe(port, key, n):
    health = await request(port, f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n"
                                 "Connection: close\r\n\r\n".encode())
    body = comment(n)
    intake = await request(port, (f"POST /v1/comments HTTP/1.1\r\nHost: {HOST}\r\n"
                                  f"Authorization: Bearer {key}\r\n"
                                  "Content-Type: application/json\r\nConnection: close\r\n"
                                  f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return health, intake


async def attack(port, key, n, watch):
    started = time.monotonic()
    results = [None] * n
    tasks = [asyncio.ensure_future(slow_client(port, key, results, i))
             for i in range(n)]
    probes = []
    k = 0
    while time.monotonic() - started < watch:
        await asyncio.sleep(2)
        k += 1
        at = time.monotonic() - started
        probes.append((at, *await probe(port, key, k)))
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return results, probes


def summary(results, probes, watch):
    answered = {}
    durations = []
    still_open = 0
    for r in results:
        if r is None or r[0] == "open":
            still_open += 1
            continue
        status, held = r
        answered[status] = answered.get(status, 0) + 1
        if held is not None:
            durations.append(held)
    durations.sort()
    print(f"slow connections: {len(results)}; still open after {watch} s: {still_open}; "
          f"ended: {dict(sorted(answered.items()))}")
    if durations:
        print(f"  held before the server ended them: median {durations[len(durations) // 2]:.1f} s,"
              f" max {durations[-1]:.1f} s")
    for name, idx in (("GET /healthz", 1), ("POST /v1/comments", 2)):
        ok = [p for p in probes if p[idx][0] in ("200", "201")]
        worst = max((p[idx][1] for p in ok), default=0)
        first_ok = min((p[0] for p in ok), default=None)
        print(f"  {name}: {len(ok)}/{len(probes)} answered within 5 s"
              + (f" (first at {first_ok:.0f} s, slowest {worst:.2f} s)" if ok else "")
              + f"; statuses {[p[idx][0] for p in probes]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--connections", type=int, default=1100)
    ap.add_argument("--nofile", type=int, default=1024, help="open-file limit of the server")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--watch", type=int, default=60, help="seconds to watch (max 300)")
    ap.add_argument("--port", type=int, default=18470)
    ap.add_argument("--models", default="models")
    args = ap.parse_args()
    n = min(args.connections, 5000)
    watch = min(args.watch, 300)
    need = n + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, VIGIE_DATABASE_URL=f"{work}/slow.db",
                   VIGIE_LISTEN=f"{HOST}:{args.port}", VIGIE_LOG_LEVEL="error",
                   VIGIE_WORKERS=str(args.workers), VIGIE_MODEL_DIR=args.models)
        key = subprocess.run([args.binary, "keys", "create", "--site", "slow", "--role",
                              "ingest", "--quiet"], env=env, check=True, capture_output=True,
                             text=True).stdout.strip()
        limit = args.nofile
        server = subprocess.Popen(
            [args.binary, "serve"], env=env, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
        try:
            for _ in range(100):
                if asyncio.run(request(args.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                                  b"Connection: close\r\n\r\n", 1))[0] == "200":
                    break
                time.sleep(0.2)
            else:
                sys.exit("the server did not start")
            print(f"{args.binary}: {args.workers} workers, open-file limit {limit}, "
                  f"{n} slow clients (1 byte/s), watched {watch} s")
            results, probes = asyncio.run(attack(args.port, key, n, watch))
            summary(results, probes, watch)
        finally:
            server.terminate()
            server.wait(timeout=40)


if __name__ == "__main__":
    main()
