#!/usr/bin/env bash
# CPU time per request, jwt-server against the pinned baseline: wrk drives
# each for DUR (8 s) at CONNS (32) connections, and the server's user and
# system CPU time (/proc/PID/stat) over that time is divided by the
# requests it answered. Twice each, interleaved: `me` (GET /api/v1/me/),
# `verify` (POST verify/) and the baseline's /me/. Needs a release build
# of the baseline (tools/bench-http.sh makes one). BACKEND as in
# tools/bench-lib.sh. OLD_BIN=path/to/an/older/jwt-server also measures
# that build, on the same database and token, in the same rounds: copy
# target/release/jwt-server away before rebuilding to compare two builds.
# ROUNDS (2) rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-8s}; CONNS=${CONNS:-32}
source tools/bench-lib.sh
ROUNDS=${ROUNDS:-2}
old_pid=
if [ -n "${OLD_BIN:-}" ]; then
  new_bin=$bin; bin=$OLD_BIN
  start_server
  old_pid=$server_pid; old_base=$base; bin=$new_bin
  trap 'kill "$old_pid" 2>/dev/null || true; stop_server; drop_db; rm -rf "$work"' EXIT
fi
start_server
pair=$(curl -sS -X POST -H "Content-Type: application/json" -d "$LOGIN" "$base/api/v1/auth/token/obtain/")
access=$(echo "$pair" | json_field access)
cargo build --release --manifest-path tools/baseline-app/Cargo.toml --target-dir target >&2
target/release/baseline-app 127.0.0.1:0 "$work/signing.key" > $work/b.out 2>&1 &
bpid=$!
bbase=$(listening_at $work/b.out)
cat > $work/post.lua <<LUA
wrk.method = "POST"
wrk.body = '{"token": "$access"}'
wrk.headers["Content-Type"] = "application/json"
LUA
ticks() { awk '{print $14+$15, $14, $15}' /proc/$1/stat; }
measure() { # pid url [lua]
  local pid=$1 url=$2; shift 2
  read t0 u0 s0 < <(ticks $pid)
  wrk -t2 -c$CONNS -d$DUR -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$@" "$url" > $work/wrk
  read t1 u1 s1 < <(ticks $pid)
  local rps=$(awk '/Requests\/sec/ {print $2}' $work/wrk)
  local d=${DUR%s}
  python3 -c "r=$rps; n=r*$d; print(f'rps {r:.0f}  cpu µs/req {($t1-$t0)*1e4/n:.1f} (user {($u1-$u0)*1e4/n:.1f}, sys {($s1-$s0)*1e4/n:.1f})')"
}
for i in $(seq 1 "$ROUNDS"); do
echo -n "baseline: "; measure $bpid $bbase/api/v1/me/
echo -n "ours me:  "; measure $server_pid $base/api/v1/me/
echo -n "verify:   "; measure $server_pid $base/api/v1/auth/token/verify/ -s $work/post.lua
if [ -n "$old_pid" ]; then
echo -n "old me:   "; measure $old_pid $old_base/api/v1/me/
echo -n "old verify: "; measure $old_pid $old_base/api/v1/auth/token/verify/ -s $work/post.lua
fi
done
kill "$bpid"
