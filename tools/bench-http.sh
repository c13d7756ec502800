#!/usr/bin/env bash
# HTTP throughput of jwt-server (release build, SQLite in a temp dir) with wrk:
# obtain, verify, GET /api/v1/me/ and refresh, each for $DUR with
# $THREADS threads and $CONNS connections (the peer's bench.sh settings).
# With PEER=1 the same load runs against the Django package (wc-django-jwt) of
# $PEER_DIR (started with its start.sh if it is not running) in the same run, one after the other,
# and the table shows the ratio.
#
#   tools/bench-http.sh                 # jwt-server alone
#   PEER=1 PEER_DIR=DIR DUR=10s tools/bench-http.sh  # beside the Django package
#   JWT__REGISTRY__PIPELINE=register_pairs,connecting_user tools/bench-http.sh
#                                       # without the device registry
#   ALG=EdDSA tools/bench-http.sh      # tokens signed with EdDSA (or RS256, ES256)
# Every request carries a desktop Chrome User-Agent.
set -euo pipefail
cd "$(dirname "$0")/.."
PEER=${PEER:-0}
PEER_DIR=${PEER_DIR:-}
if [ "$PEER" = 1 ] && [ -z "$PEER_DIR" ]; then
  echo "PEER=1 needs PEER_DIR: the Django package's checkout, with its start.sh" >&2
  exit 2
fi
source tools/bench-lib.sh

start_server
ours=$base

measure() { # base name -> prints requests/sec
  local base=$1 name=$2 pair access refresh
  pair=$(curl -sS -X POST -H 'Content-Type: application/json' -H "User-Agent: $UA" \
    -d "$LOGIN" "$base/api/v1/auth/token/obtain/")
  access=$(echo "$pair" | json_field access)
  refresh=$(echo "$pair" | json_field refresh)
  case $name in
    obtain) post_lua "$work/req.lua" "'$LOGIN'"
            run_wrk -s "$work/req.lua" "$base/api/v1/auth/token/obtain/" ;;
    verify) post_lua "$work/req.lua" "'{\"token\":\"$access\"}'"
            run_wrk -s "$work/req.lua" "$base/api/v1/auth/token/verify/" ;;
    me)     run_wrk -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$base/api/v1/me/" ;;
    refresh) post_lua "$work/req.lua" "'{\"refresh\":\"$refresh\"}'"
            run_wrk -s "$work/req.lua" "$base/api/v1/auth/token/refresh/" ;;
  esac
}

peer=
if [ "$PEER" = 1 ]; then
  peer=http://127.0.0.1:8765
  if ! curl -s -o /dev/null "$peer/api/v1/me/"; then
    "$PEER_DIR/start.sh" >&2
  fi
fi

echo "wrk -t$THREADS -c$CONNS -d$DUR, $ALG, $(nproc) cores, $(date -u +%Y-%m-%d)"
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
