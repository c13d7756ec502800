#!/usr/bin/env bash
# Authentication while the archiver deletes: jwt-server (release build)
# serves GET /api/v1/me/ under wrk while `jwt-server archive` deletes
# ARCHIVE_TOKENS (1 000 000) preloaded tokens past their own expiry.
# Prints /me/ alone, then each window of DUR while the archiver runs (its
# req/s and p99) as it goes, then their median and worst, and how long the
# archiver took.
#
#   tools/bench-archive.sh
#   BACKEND=postgres DATABASE_URL=postgres://postgres@127.0.0.1/test tools/bench-archive.sh
#
# Settings: DUR (5s, one window), THREADS (2), CONNS (32), ARCHIVE_TOKENS.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-5s}
CONNS=${CONNS:-32}
source tools/bench-lib.sh
SCALE_TOKENS=${ARCHIVE_TOKENS:-1000000}
SCALE_REVOKED=0
SCALE_PAST=1
source tools/bench-preload.sh

# Migrations first (the server's start runs them), then the rows.
start_server
stop_server
preload
start_server
# A fresh access token each window: the archiver may outlast one.
me() {
  local access
  access=$(curl -sS -X POST -H 'Content-Type: application/json' -d "$LOGIN" \
    "$base/api/v1/auth/token/obtain/" | json_field access)
  wrk_stats -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$base/api/v1/me/"
}

read -r quiet_rps quiet_p99 <<<"$(me)"
echo "/me/ alone: $quiet_rps req/s, p99 $quiet_p99 ms" >&2

(cd "$work" && exec env "${alg_env[@]}" RUST_LOG=warn "$bin" archive >"$work/archive.out" 2>&1) &
archive_pid=$!
started=$SECONDS
windows=()
while kill -0 "$archive_pid" 2>/dev/null; do
  read -r rps p99 <<<"$(me)"
  windows+=("$rps req/s p99 $p99 ms")
  echo "window ${#windows[@]}: $rps req/s, p99 $p99 ms" >&2
done
wait "$archive_pid" || { cat "$work/archive.out" >&2; echo "the archiver failed" >&2; exit 1; }
took=$((SECONDS - started))
[ "${#windows[@]}" -gt 0 ] || { echo "the archiver finished before the first window: raise ARCHIVE_TOKENS" >&2; exit 1; }
case $BACKEND in
  sqlite) left=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM jwt_token').fetchone()[0])" "$work/jwt.sqlite3") ;;
  postgres) left=$(psql "${DATABASE_URL%/*}/$bench_db" -Atc "SELECT COUNT(*) FROM jwt_token") ;;
esac

echo
echo "wrk -t$THREADS -c$CONNS, windows of $DUR, $BACKEND, $SCALE_TOKENS tokens past their expiry, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
# Each window as "rps p99": the median, 90th-percentile and worst p99 of
# them, how many passed 10 ms, and the windows' median and slowest req/s.
summary=$(printf '%s\n' "${windows[@]}" | awk '{print $1, $4}' | python3 -c '
import statistics, sys
rows = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
p99s = sorted(p for _, p in rows)
p90 = p99s[min(len(p99s) - 1, int(len(p99s) * 0.9))]
over = sum(1 for p in p99s if p > 10)
rps = [r for r, _ in rows]
print(f"{len(rows)} {statistics.median(p99s):.2f} {p90:.2f} {p99s[-1]:.2f} {over} {statistics.median(rps):.0f} {min(rps):.0f}")')
read -r count median_p99 p90_p99 worst_p99 over median_rps slowest <<<"$summary"
echo "| /me/ | req/s | p99 ms |"
echo "| --- | ---: | ---: |"
echo "| alone | $quiet_rps | $quiet_p99 |"
echo "| while archiving: the median of $count windows | $median_rps | $median_p99 |"
echo "| while archiving: the 90th percentile of the windows' p99 | | $p90_p99 |"
echo "| while archiving: the worst window | $slowest (slowest) | $worst_p99 (worst) |"
echo
echo "windows with a p99 over 10 ms: $over of $count"
echo
echo "worst p99 while archiving: $worst_p99 ms (goal < 10 ms); the archiver took ${took} s and left $left tokens; it said: $(tr '\n' ' ' <"$work/archive.out")"
