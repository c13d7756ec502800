#!/usr/bin/env bash
# HTTP throughput of jwt-server (release build, SQLite in a temp dir) with wrk:
# obtain, verify, GET /api/v1/me/ and refresh, each for $DUR with
# $THREADS threads and $CONNS connections (the peer's bench.sh settings).
# With PEER=1 the same load runs against ../shared/peer (wc-django-jwt, started
# with its start.sh if it is not running) in the same run, one after the other,
# and the table shows the ratio.
#
#   tools/bench-http.sh                 # jwt-server alone
#   PEER=1 DUR=10s tools/bench-http.sh  # beside the Django package
#   JWT__REGISTRY__PIPELINE=register_pairs,connecting_user tools/bench-http.sh
#                                       # without the device registry
# Every request carries a desktop Chrome User-Agent.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
PEER=${PEER:-0}
PEER_DIR=${PEER_DIR:-../shared/peer}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
USERNAME=alice
PASSWORD=wonderland-42

if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p jwt-server >&2
bin=$PWD/target/release/jwt-server

work=$(mktemp -d /tmp/jwt-bench.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && printf '%s' "$PASSWORD" | RUST_LOG=warn "$bin" user create "$USERNAME" --password-stdin >/dev/null)
(cd "$work" && RUST_LOG=warn exec "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr") &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
  sleep 0.1
done
ours=$(sed -n 's|^listening on ||p' "$work/stdout")
[ -n "$ours" ] || { cat "$work/stderr" >&2; exit 1; }

# wrk scripts and the requests per second of one endpoint.
lua() { # file body
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["User-Agent"] = "%s"\n' "$2" "$UA" >"$1"
}
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
measure() { # base name -> prints requests/sec
  local base=$1 name=$2 pair access refresh out
  pair=$(curl -sS -X POST -H 'Content-Type: application/json' -H "User-Agent: $UA" \
    -d "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$base/api/v1/auth/token/obtain/")
  access=$(echo "$pair" | json_field access)
  refresh=$(echo "$pair" | json_field refresh)
  case $name in
    obtain) lua "$work/req.lua" "'{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}'"
            out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s -s "$work/req.lua" "$base/api/v1/auth/token/obtain/") ;;
    verify) lua "$work/req.lua" "'{\"token\":\"$access\"}'"
            out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s -s "$work/req.lua" "$base/api/v1/auth/token/verify/") ;;
    me)     out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$base/api/v1/me/") ;;
    refresh) lua "$work/req.lua" "'{\"refresh\":\"$refresh\"}'"
            out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s -s "$work/req.lua" "$base/api/v1/auth/token/refresh/") ;;
  esac
  if echo "$out" | grep -q 'Non-2xx'; then
    echo "$out" >&2
    echo "non-2xx answers from $base ($name)" >&2
    exit 1
  fi
  echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

peer=
if [ "$PEER" = 1 ]; then
  peer=http://127.0.0.1:8765
  if ! curl -s -o /dev/null "$peer/api/v1/me/"; then
    "$PEER_DIR/start.sh" >&2
  fi
fi

echo "wrk -t$THREADS -c$CONNS -d$DUR, $(nproc) cores, $(date -u +%Y-%m-%d)"
if [ -n "$peer" ]; then
  echo "| endpoint | jwt-server req/s | wc-django-jwt req/s | ratio |"
  echo "| --- | ---: | ---: | ---: |"
else
  echo "| endpoint | jwt-server req/s |"
  echo "| --- | ---: |"
fi
for name in obtain verify me refresh; do
  a=$(measure "$ours" "$name")
  if [ -n "$peer" ]; then
    sleep 2
    b=$(measure "$peer" "$name")
    ratio=$(python3 -c "print(f'{$a / $b:.1f}×')")
    echo "| $name | $a | $b | $ratio |"
  else
    echo "| $name | $a |"
  fi
done
