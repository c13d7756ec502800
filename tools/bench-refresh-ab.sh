#!/usr/bin/env bash
# Two jwt-server binaries side by side on `refresh/`: for each, in turn and
# PAIRS (2) times, a fresh database, LOGINS (300) logins, then wrk for DUR
# (10 s) at CONNS (32) connections over their refresh tokens. Prints req/s,
# p99, the server's CPU time per request (user + system, /proc/PID/stat)
# and the bytes it wrote per request (/proc/PID/io `wchar`: the WAL and the
# checkpoints on SQLite, next to nothing on PostgreSQL).
#
#   tools/bench-refresh-ab.sh OLD_BIN NEW_BIN
#   BACKEND=postgres DATABASE_URL=postgres://postgres@127.0.0.1:5432/test tools/bench-refresh-ab.sh OLD_BIN NEW_BIN
#
# Build the older binary from a worktree of the older commit, with its own
# target directory, and copy it out before building the newer one.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
PAIRS=${PAIRS:-2}
LOGINS=${LOGINS:-300}
BACKEND=${BACKEND:-sqlite}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
source tools/refresh-lua.sh
LOGIN='{"username":"alice","password":"wonderland-42"}'
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
[ "$BACKEND" = sqlite ] || [ -n "${DATABASE_URL:-}" ] || { echo "BACKEND=postgres needs DATABASE_URL" >&2; exit 2; }

work=$(mktemp -d /tmp/jwt-ab.XXXXXX)
pid=
db=jwt_ab_$$
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ "$BACKEND" = sqlite ] || psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
chmod 600 "$work/key"
export JWT__TOKENS__SIGNING_KEY_FILE=$work/key RUST_LOG=warn
write_refresh_lua "$work/refresh.lua" "$work/refresh.txt" "$UA"

row=
run() { # BIN: one measure on a fresh database, into $row (not in a
  # subshell: a failure stops the script, and the trap stops the server)
  local bin=$1 base out t0 t1 w0 w1 n
  rm -rf "$work/run" && mkdir "$work/run"
  if [ "$BACKEND" != sqlite ]; then
    PGOPTIONS=--client-min-messages=warning psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    export JWT__REGISTRY__DATABASE_URL=${DATABASE_URL%/*}/$db
  fi
  (cd "$work/run" && printf 'wonderland-42' | "$bin" user create alice --password-stdin >/dev/null)
  (cd "$work/run" && exec "$bin" serve --bind 127.0.0.1:0 >"$work/run/out" 2>"$work/run/err") &
  pid=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$work/run/out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's|^listening on ||p' "$work/run/out")
  [ -n "$base" ] || { cat "$work/run/err" >&2; exit 1; }
  export base LOGIN
  # One write per answer, so that parallel answers never interleave.
  seq "$LOGINS" | xargs -P 4 -I{} sh -c 'out=$(curl -sS -X POST -H "Content-Type: application/json" -d "$LOGIN" "$base/api/v1/auth/token/obtain/"); printf "%s\n" "$out"' \
    | python3 -c 'import json, sys; [print(json.loads(l)["refresh"]) for l in sys.stdin if l.strip()]' >"$work/refresh.txt"
  if [ "$(wc -l <"$work/refresh.txt")" -ne "$LOGINS" ]; then
    echo "not every login answered with a refresh token" >&2
    exit 1
  fi
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); w0=$(awk '/^wchar/ {print $2}' "/proc/$pid/io")
  out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$work/refresh.lua" "$base/api/v1/auth/token/refresh/")
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); w1=$(awk '/^wchar/ {print $2}' "/proc/$pid/io")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  if echo "$out" | grep -q Non-2xx; then echo "$out" >&2; echo "non-2xx answers" >&2; exit 1; fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  row=$(printf '%s | %s | %s | %d | %d |' \
    "$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$BACKEND" "$(( (t1 - t0) * 1000000 / $(getconf CLK_TCK) / n ))" "$(( (w1 - w0) / n ))")
}

echo "| binary | req/s | p99 | backend | CPU µs/request | bytes written/request |"
echo "| --- | ---: | ---: | --- | ---: | ---: |"
for _ in $(seq "$PAIRS"); do
  run "$old"
  echo "| old | $row"
  run "$new"
  echo "| new | $row"
done
