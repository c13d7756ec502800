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
source tools/bench-lib.sh

start_server JWT__AUTH__TRANSPORT=cookie
curl -sS -c "$work/jar" -o /dev/null -X POST -H 'Content-Type: application/json' -d "$LOGIN" "$base/api/v1/auth/token/obtain/"
cookie() { awk -v n="$1" '$6 == n {print $7}' "$work/jar"; }
access=$(cookie access_token)
refresh=$(cookie refresh_token)
csrf=$(cookie csrftoken)
me_header=$(run_wrk -H "Authorization: Bearer $access" -H "User-Agent: $UA" "$base/api/v1/me/")
me_cookie=$(run_wrk -H "Cookie: access_token=$access; csrftoken=$csrf" -H "User-Agent: $UA" "$base/api/v1/me/")
post_lua "$work/refresh-cookie.lua" "'{}'" "wrk.headers[\"Cookie\"] = \"refresh_token=$refresh; csrftoken=$csrf\"
wrk.headers[\"X-CSRF-Token\"] = \"$csrf\""
refresh_cookie=$(run_wrk -s "$work/refresh-cookie.lua" "$base/api/v1/auth/token/refresh/")
stop_server

start_server JWT__AUTH__TRANSPORT=body
body_refresh=$(curl -sS -X POST -H 'Content-Type: application/json' -d "$LOGIN" "$base/api/v1/auth/token/obtain/" | json_field refresh)
post_lua "$work/refresh-body.lua" "'{\"refresh\":\"$body_refresh\"}'"
refresh_body=$(run_wrk -s "$work/refresh-body.lua" "$base/api/v1/auth/token/refresh/")
stop_server

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
echo "wrk -t$THREADS -c$CONNS -d$DUR, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "| request | cookie transport req/s | body transport req/s | cookie / body |"
echo "| --- | ---: | ---: | ---: |"
echo "| GET /api/v1/me/ | $me_cookie | $me_header | $(ratio "$me_cookie" "$me_header") |"
echo "| POST refresh/ | $refresh_cookie | $refresh_body | $(ratio "$refresh_cookie" "$refresh_body") |"
