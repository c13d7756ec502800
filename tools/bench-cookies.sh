#!/usr/bin/env bash
# What the cookie transport costs over HTTP, with wrk, against the body
# transport measured in the same run (release build, SQLite in a temp dir,
# device registry on, rotation off so one refresh token serves the run):
#   - GET /api/v1/me/ with the access token in a cookie vs in the header
#     (one server in cookie mode: the header works there too);
#   - POST refresh/ with the refresh cookie and the CSRF header (cookie
#     mode) vs the refresh token in the JSON body (a server in body mode).
#
#   tools/bench-cookies.sh              # 20 s per measurement
#   DUR=5s tools/bench-cookies.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${DUR:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
USERNAME=alice
PASSWORD=wonderland-42

if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p jwt-server >&2
bin=$PWD/target/release/jwt-server

work=$(mktemp -d /tmp/jwt-bench-cookies.XXXXXX)
server_pid=
stop() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; server_pid=; }
trap 'stop; rm -rf "$work"' EXIT

(cd "$work" && printf '%s' "$PASSWORD" | RUST_LOG=warn "$bin" user create "$USERNAME" --password-stdin >/dev/null)

start() { # transport -> sets $base
  : >"$work/stdout"
  (cd "$work" && JWT__AUTH__TRANSPORT=$1 RUST_LOG=warn exec "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr") &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    sleep 0.1
  done
  base=$(sed -n 's|^listening on ||p' "$work/stdout")
  [ -n "$base" ] || { cat "$work/stderr" >&2; exit 1; }
}

run_wrk() { # wrk arguments... -> requests/sec
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s "$@")
  if echo "$out" | grep -q 'Non-2xx'; then
    echo "$out" >&2
    echo "non-2xx answers" >&2
    exit 1
  fi
  echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

post_lua() { # file body [extra header lines]
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["User-Agent"] = "%s"\n%s\n' "$2" "$UA" "${3:-}" >"$1"
}

login='{"username":"'$USERNAME'","password":"'$PASSWORD'"}'

start cookie
curl -sS -c "$work/jar" -o /dev/null -X POST -H 'Content-Type: application/json' -d "$login" "$base/api/v1/auth/token/obtain/"
cookie() { awk -v n="$1" '$6 == n {print $7}' "$work/jar"; }
access=$(cookie access_token)
refresh=$(cookie refresh_token)
csrf=$(cookie csrftoken)
me_header=$(run_wrk -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$base/api/v1/me/")
me_cookie=$(run_wrk -H "Cookie: access_token=$access; csrftoken=$csrf" -H "User-Agent: $UA" "$base/api/v1/me/")
post_lua "$work/refresh-cookie.lua" "'{}'" "wrk.headers[\"Cookie\"] = \"refresh_token=$refresh; csrftoken=$csrf\"
wrk.headers[\"X-CSRF-Token\"] = \"$csrf\""
refresh_cookie=$(run_wrk -s "$work/refresh-cookie.lua" "$base/api/v1/auth/token/refresh/")
stop

start body
body_refresh=$(curl -sS -X POST -H 'Content-Type: application/json' -d "$login" "$base/api/v1/auth/token/obtain/" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh"])')
post_lua "$work/refresh-body.lua" "'{\"refresh\":\"$body_refresh\"}'"
refresh_body=$(run_wrk -s "$work/refresh-body.lua" "$base/api/v1/auth/token/refresh/")
stop

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "wrk -t$THREADS -c$CONNS -d$DUR, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "| request | cookie transport req/s | body transport req/s | cookie / body |"
echo "| --- | ---: | ---: | ---: |"
echo "| GET /api/v1/me/ | $me_cookie | $me_header | $(ratio "$me_cookie" "$me_header") |"
echo "| POST refresh/ | $refresh_cookie | $refresh_body | $(ratio "$refresh_cookie" "$refresh_body") |"
