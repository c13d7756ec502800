#!/usr/bin/env bash
# The HTTP harness: jwt-server (release build) against a pinned baseline in
# the same run, with wrk. Rounds are interleaved and each measure keeps its
# best round (requests/sec, with that round's p99).
#
#   tools/bench-http.sh                          # SQLite, HS256
#   BACKEND=postgres DATABASE_URL=postgres://postgres@127.0.0.1/test tools/bench-http.sh
#   ALG=EdDSA tools/bench-http.sh                # tokens signed with EdDSA (or RS256, ES256)
#   PEER_URL=http://127.0.0.1:8765 tools/bench-http.sh   # and a running Django package
#   tools/bench-http.sh --scale                  # 1 000 000 tokens, 100 000 revoked, preloaded
#
# Settings: DUR (10s), THREADS (2), CONNS (32), ROUNDS (3), LOGINS (1000).
#
# Measures, each request with a desktop Chrome User-Agent:
# - baseline: tools/baseline-app, GET /api/v1/me/ checking the same HS256
#   token with jsonwebtoken::decode and nothing else (HS256 only);
# - me: GET /api/v1/me/ (registry check and user lookup);
# - verify: POST verify/ with the access token;
# - refresh: POST refresh/, each request with one of LOGINS refresh tokens
#   taken in turn, as traffic from many logins is;
# - obtain: POST obtain/ (argon2 at its default parameters).
# Then jwt-server's peak RSS (VmHWM) over the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
ROUNDS=${ROUNDS:-3}
LOGINS=${LOGINS:-1000}
PEER_URL=${PEER_URL:-}
SCALE=0
[ "${1:-}" = --scale ] && SCALE=1
source tools/bench-lib.sh
source tools/bench-preload.sh
source tools/refresh-lua.sh

baseline_bin=
if [ "$ALG" = HS256 ]; then
  cargo build --release --manifest-path tools/baseline-app/Cargo.toml --target-dir target >&2
  baseline_bin=$PWD/target/release/baseline-app
fi

scale_note=
if [ "$SCALE" = 1 ]; then
  # Migrations first (the server's start runs them), then the rows, then
  # the server that loads them.
  start_server
  stop_server
  preload
  scale_note=", preloaded: $SCALE_TOKENS tokens, $SCALE_REVOKED of them force-expired"
fi
start_server
ours=$base
our_pid=$server_pid
rss_now() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$our_pid/status"; }
rss_at_rest=$(rss_now)

baseline_pid=
trap 'stop_server; [ -n "$baseline_pid" ] && kill "$baseline_pid" 2>/dev/null; drop_db; rm -rf "$work"' EXIT
baseline=
if [ -n "$baseline_bin" ]; then
  "$baseline_bin" 127.0.0.1:0 "$work/signing.key" >"$work/baseline.out" 2>&1 &
  baseline_pid=$!
  baseline=$(listening_at "$work/baseline.out")
  [ -n "$baseline" ] || { cat "$work/baseline.out" >&2; exit 1; }
fi

# LOGINS logins, four at a time: their refresh tokens, one per line.
login() {
  curl -sS -X POST -H 'Content-Type: application/json' -H "User-Agent: $UA" \
    -d "$LOGIN" "$1/api/v1/auth/token/obtain/"
}
export -f login
export LOGIN UA
pair=$(login "$ours")
access=$(echo "$pair" | json_field access)
# One write per answer (under PIPE_BUF), so parallel answers never interleave.
seq "$LOGINS" | xargs -P 4 -I{} bash -c 'out=$(login "$0"); printf "%s\n" "$out"' "$ours" \
  | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        print(json.loads(line)["refresh"])
    except (ValueError, KeyError):
        sys.stderr.write("a login answered: " + line[:200] + "\n")
' >"$work/refresh.txt"
if [ "$(wc -l <"$work/refresh.txt")" -ne "$LOGINS" ]; then
  echo "not every login answered with a refresh token" >&2
  exit 1
fi
write_refresh_lua "$work/refresh.lua" "$work/refresh.txt" "$UA"
rss_after_logins=$(rss_now)
post_lua "$work/verify.lua" "'{\"token\":\"$access\"}'"
post_lua "$work/obtain.lua" "'$LOGIN'"

declare -A best_rps best_p99
measure() { # NAME ARGS... : runs wrk, keeps the best round
  local name=$1 stats rps p99
  shift
  stats=$(wrk_stats "$@")
  read -r rps p99 <<<"$stats"
  if [ -z "${best_rps[$name]:-}" ] || python3 -c "import sys; sys.exit(0 if $rps > ${best_rps[$name]} else 1)"; then
    best_rps[$name]=$rps
    best_p99[$name]=$p99
  fi
}

names=()
[ -n "$baseline" ] && names+=(baseline)
names+=(me verify refresh obtain)
[ -n "$PEER_URL" ] && names+=(peer_me)
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  [ -n "$baseline" ] && measure baseline -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$baseline/api/v1/me/"
  measure me -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$ours/api/v1/me/"
  measure verify -s "$work/verify.lua" "$ours/api/v1/auth/token/verify/"
  measure refresh -s "$work/refresh.lua" "$ours/api/v1/auth/token/refresh/"
  [ "$round" = 1 ] && rss_before_obtain=$(rss_now)
  measure obtain -s "$work/obtain.lua" "$ours/api/v1/auth/token/obtain/"
  if [ -n "$PEER_URL" ]; then
    peer_access=$(login "$PEER_URL" | json_field access)
    measure peer_me -H "Authorization: Bearer $peer_access" -H "User-Agent: $UA" "$PEER_URL/api/v1/me/"
  fi
done
rss_mb=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$our_pid/status")

echo
echo "wrk -t$THREADS -c$CONNS -d$DUR, best of $ROUNDS rounds, $BACKEND, $ALG, $LOGINS logins for refresh$scale_note, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
refresh_gate=3000
[ "$BACKEND" = postgres ] && refresh_gate=1500
# gate NAME: the issue-13 target of a measure, and whether it holds.
gate() {
  local rps=${best_rps[$1]} p99=${best_p99[$1]} base=${best_rps[baseline]:-}
  python3 - "$1" "$rps" "$p99" "$base" "$refresh_gate" <<'PY'
import sys
name, rps, p99, base, refresh_gate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
ratio = rps / float(base) if base else None
checks = {
    "me": ("≥ 0.85× baseline, p99 ≤ 5 ms", ratio is not None and ratio >= 0.85 and p99 <= 5),
    "verify": ("≥ 0.8× baseline", ratio is not None and ratio >= 0.8),
    "refresh": (f"≥ {refresh_gate:.0f} req/s, p99 ≤ 50 ms", rps >= refresh_gate and p99 <= 50),
}
target, ok = checks.get(name, ("", None))
ratio_text = f"{ratio:.2f}" if ratio is not None and name in ("me", "verify") else ""
print(f"{ratio_text}|{target}|{'' if ok is None else ('holds' if ok else 'missed')}")
PY
}
echo "| measure | req/s | p99 ms | × baseline | gate | |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
for name in "${names[@]}"; do
  IFS='|' read -r ratio target verdict <<<"$(gate "$name")"
  echo "| $name | ${best_rps[$name]} | ${best_p99[$name]} | $ratio | $target | $verdict |"
done
rss_verdict=missed
[ "$rss_mb" -le 64 ] && rss_verdict=holds
echo "| jwt-server peak RSS | ${rss_mb} MB | | | ≤ 64 MB | $rss_verdict |"
echo
echo "jwt-server RSS: ${rss_at_rest} MB at rest; ${rss_after_logins} MB after the $LOGINS logins, 4 at a time; ${rss_before_obtain} MB after round 1's me, verify and refresh; $(rss_now) MB at the end, after the 32-connection logins"
