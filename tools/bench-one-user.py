#!/usr/bin/env python3
"""What one user's many tokens cost everybody else (jwt-server over HTTP, SQLite).

One user (alice) refreshes each of two logins N/2 times;
`sessions/revoke-others/` (from the second) and then `logout-all/`
force-expire them.
Measured, in one run:

- `GET /api/v1/me/` of another user right after a write (another user's
  refresh), before alice has any token and again once her N tokens are
  force-expired and inside their lifetime: the ratio is what her tokens add
  to everybody's protected requests (target <= 1.2);
- `GET sessions/` for alice (N tokens) beside bob (10 tokens): target <= 2;
- the longest time `revoke-others/`, `logout-all/` and `jwt-server archive`
  (of N expired tokens, in a second database) held SQLite's write lock,
  seen from outside by a probe that keeps trying `BEGIN IMMEDIATE` on the
  database file: target <= 50 ms.

Version-independent: it talks HTTP and runs the command line only, so the
same script measures any build.

    cargo build --release -p jwt-server
    python3 tools/bench-one-user.py --tokens 4000
    python3 tools/bench-one-user.py --tokens 100000 --bin /tmp/old/jwt-server
    python3 tools/bench-one-user.py --tokens 100000 --env JWT__REGISTRY__LIVE_ACCESS_TOKENS_PER_LOGIN=0
"""

import argparse
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PASSWORD = "wonderland-42"
PREFIX = "/api/v1/auth/token/"


class Server:
    def __init__(self, binary, workdir, env):
        self.binary, self.workdir = binary, workdir
        self.env = dict(os.environ, RUST_LOG="warn", **env)
        for name in list(self.env):
            if name.startswith("JWT__") and name not in env:
                del self.env[name]

    def cli(self, *args, stdin=""):
        return subprocess.run(
            [self.binary, *args], cwd=self.workdir, env=self.env, input=stdin,
            capture_output=True, text=True, check=True,
        ).stdout

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--bind", "127.0.0.1:0"], cwd=self.workdir,
            env=self.env, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://"), line
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.used = time.monotonic()

    def call(self, method, path, body=None, token=None):
        # The server closes a connection idle for 5 s: start a new one.
        if time.monotonic() - self.used > 3:
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            return self.request(method, path, body, token)
        finally:
            self.used = time.monotonic()

    def request(self, method, path, body, token):
        headers = {"User-Agent": "bench-one-user/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:200]!r}")
        return json.loads(raw) if raw else None

    def timed(self, method, path, body=None, token=None):
        started = time.perf_counter()
        self.call(method, path, body, token)
        return time.perf_counter() - started


class LockProbe:
    """Keeps trying to take SQLite's write lock; the longest wait is the
    longest time anybody else held it (within about a millisecond)."""

    def __init__(self, path):
        self.path, self.longest, self.running = path, 0.0, True
        self.waits = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        db = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        while self.running:
            waiting_since = None
            while self.running:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError:
                    waiting_since = waiting_since or time.perf_counter()
                    time.sleep(0.0002)
            else:
                break
            if waiting_since is not None:
                self.waits.append(time.perf_counter() - waiting_since)
                self.longest = max(self.longest, self.waits[-1])
            db.execute("COMMIT")
            time.sleep(0.001)
        db.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.running = False
        self.thread.join()


def login(client, name):
    return client.call("POST", PREFIX + "obtain/", {"username": name, "password": PASSWORD})


def refresh_many(port, refresh, count, threads=8):
    def work(n):
        client = Client(port)
        for _ in range(n):
            client.call("POST", PREFIX + "refresh/", {"refresh": refresh})

    share = [count // threads + (1 if i < count % threads else 0) for i in range(threads)]
    workers = [threading.Thread(target=work, args=(n,)) for n in share]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def median_ms(samples):
    return statistics.median(samples) * 1000


def me_after_write(client, writer_refresh, reader_access, rounds):
    samples = []
    for _ in range(rounds):
        client.call("POST", PREFIX + "refresh/", {"refresh": writer_refresh})
        samples.append(client.timed("GET", "/api/v1/me/", token=reader_access))
    return median_ms(samples)


def sessions_time(client, access, rounds):
    return median_ms([client.timed("GET", PREFIX + "sessions/", token=access) for _ in range(rounds)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="target/release/jwt-server")
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--checkpoint", action="store_true",
                        help="measure /me/ again after a WAL checkpoint")
    parser.add_argument("--skip-archive", action="store_true")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    env = dict(item.split("=", 1) for item in args.env)
    half = args.tokens // 2
    results = {"tokens": args.tokens, "bin": binary, "env": env}

    with tempfile.TemporaryDirectory(prefix="jwt-one-user.") as workdir:
        # Access tokens that outlive a slow run.
        server = Server(binary, workdir, dict(env, JWT__TOKENS__ACCESS_TOKEN_LIFETIME="3600"))
        for name in ("alice", "bob", "carol", "writer"):
            server.cli("user", "create", name, "--password-stdin", stdin=PASSWORD)
        server.start()
        client = Client(server.port)
        writer = login(client, "writer")["refresh"]
        carol = login(client, "carol")["access"]
        bob_pair = login(client, "bob")
        for _ in range(8):
            client.call("POST", PREFIX + "refresh/", {"refresh": bob_pair["refresh"]})

        results["me_after_write_ms_before"] = me_after_write(client, writer, carol, args.rounds)
        results["sessions_bob_ms"] = sessions_time(client, bob_pair["access"], args.rounds)

        # alice's two logins grow half the tokens each; revoke-others from
        # the second ends the first, logout-all then ends the second.
        first = login(client, "alice")
        second = login(client, "alice")
        started = time.perf_counter()
        refresh_many(server.port, first["refresh"], half)
        refresh_many(server.port, second["refresh"], args.tokens - half)
        results["seed_seconds"] = time.perf_counter() - started
        # A fresh access token of the second login (a cap on live access
        # tokens per login may have cut off its first).
        access = client.call("POST", PREFIX + "refresh/", {"refresh": second["refresh"]})["access"]
        with LockProbe(os.path.join(workdir, "jwt.sqlite3")) as probe:
            results["revoke_others_ms"] = client.timed(
                "POST", PREFIX + "sessions/revoke-others/", token=access) * 1000
        results["revoke_others_lock_ms"] = probe.longest * 1000
        with LockProbe(os.path.join(workdir, "jwt.sqlite3")) as probe:
            results["logout_all_ms"] = client.timed(
                "POST", PREFIX + "logout-all/", token=access) * 1000
        results["logout_all_lock_ms"] = probe.longest * 1000
        time.sleep(1.1)  # a login right after logout-all, in the next second
        third = login(client, "alice")

        results["me_after_write_ms_after"] = me_after_write(client, writer, carol, args.rounds)
        results["wal_bytes"] = os.path.getsize(os.path.join(workdir, "jwt.sqlite3-wal"))
        if args.checkpoint:
            db = sqlite3.connect(os.path.join(workdir, "jwt.sqlite3"), timeout=30)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()
            results["me_after_write_ms_after_checkpoint"] = me_after_write(
                client, writer, carol, args.rounds)
        results["sessions_alice_ms"] = sessions_time(client, third["access"], max(args.rounds // 6, 10))
        server.stop()

    # The archiver: N access tokens past their expiry, in a database of their own.
    with tempfile.TemporaryDirectory(prefix="jwt-one-user-archive.") as workdir:
        if args.skip_archive:
            return finish(results)
        server = Server(binary, workdir, dict(env, JWT__TOKENS__ACCESS_TOKEN_LIFETIME="2"))
        server.cli("user", "create", "alice", "--password-stdin", stdin=PASSWORD)
        server.start()
        client = Client(server.port)
        refresh_many(server.port, login(client, "alice")["refresh"], args.tokens)
        time.sleep(3)
        with LockProbe(os.path.join(workdir, "jwt.sqlite3")) as probe:
            started = time.perf_counter()
            out = server.cli("archive")
            results["archive_seconds"] = time.perf_counter() - started
        results["archive_output"] = out.strip()
        results["archive_lock_ms"] = probe.longest * 1000
        server.stop()

    finish(results)


def finish(results):
    results["me_ratio"] = results["me_after_write_ms_after"] / results["me_after_write_ms_before"]
    results["sessions_ratio"] = results["sessions_alice_ms"] / results["sessions_bob_ms"]
    json.dump(results, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
