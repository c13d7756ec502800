# Shared by the wrk benchmarks (tools/bench-http.sh, tools/bench-cookies.sh):
# source it. A release jwt-server with one user, wrk, and helpers. Settings:
# DUR, THREADS, CONNS; ALG, the signing algorithm (HS256 by default, with a
# key file of 64 random bytes; EdDSA, RS256 or ES256 sign with a key openssl
# makes); BACKEND, sqlite (a file in a temp dir, the default) or postgres (a
# fresh database on the server DATABASE_URL names, dropped afterwards).
DUR=${DUR:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
USERNAME=alice
PASSWORD=wonderland-42
LOGIN='{"username":"'$USERNAME'","password":"'$PASSWORD'"}'
ALG=${ALG:-HS256}
BACKEND=${BACKEND:-sqlite}

if ! command -v wrk >/dev/null; then
  apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p jwt-server >&2
bin=$PWD/target/release/jwt-server

work=$(mktemp -d /tmp/jwt-bench.XXXXXX)
server_pid=
base=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
bench_db=
drop_db() {
  if [ -n "$bench_db" ]; then
    psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $bench_db" >/dev/null 2>&1 || true
  fi
}
trap 'stop_server; drop_db; rm -rf "$work"' EXIT

# The signing key of ALG.
case $ALG in
  HS256) head -c 32 /dev/urandom | od -An -tx1 | tr -d " \n" >"$work/signing.key" ;;
  EdDSA) openssl genpkey -algorithm ed25519 -out "$work/signing.key" 2>/dev/null ;;
  RS256) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/signing.key" 2>/dev/null ;;
  ES256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/signing.key" 2>/dev/null ;;
  *) echo "ALG must be HS256, EdDSA, RS256 or ES256" >&2; exit 2 ;;
esac
chmod 600 "$work/signing.key"
alg_env=(JWT__TOKENS__ALGORITHM="$ALG" JWT__TOKENS__SIGNING_KEY_FILE="$work/signing.key")

# The database: the default SQLite file in $work, or a fresh PostgreSQL one.
case $BACKEND in
  sqlite) ;;
  postgres)
    if [ -z "${DATABASE_URL:-}" ]; then
      echo "BACKEND=postgres needs DATABASE_URL: a server where the benchmark may create a database" >&2
      exit 2
    fi
    bench_db="jwt_bench_$$"
    psql "$DATABASE_URL" -qc "CREATE DATABASE $bench_db" >/dev/null
    alg_env+=(JWT__REGISTRY__DATABASE_URL="${DATABASE_URL%/*}/$bench_db")
    ;;
  *) echo "BACKEND must be sqlite or postgres" >&2; exit 2 ;;
esac

(cd "$work" && printf '%s' "$PASSWORD" | env "${alg_env[@]}" RUST_LOG=warn "$bin" user create "$USERNAME" --password-stdin >/dev/null)

# start_server [NAME=VALUE ...]: serves on a free port with those variables;
# sets $base.
start_server() {
  : >"$work/stdout"
  (cd "$work" && exec env "${alg_env[@]}" "$@" RUST_LOG=warn "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr") &
  server_pid=$!
  base=$(listening_at "$work/stdout")
  [ -n "$base" ] || { cat "$work/stderr" >&2; exit 1; }
}

# listening_at FILE: the address a server prints as "listening on ADDRESS"
# in FILE, waiting up to 10 s for it; empty if it never does.
listening_at() {
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$1" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's|^listening on ||p' "$1"
}

# wrk_stats ARGS...: prints "requests/sec p99-in-ms"; any non-2xx answer
# stops the run.
wrk_stats() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s --latency "$@")
  if echo "$out" | grep -q 'Non-2xx'; then
    echo "$out" >&2
    echo "non-2xx answers: $*" >&2
    exit 1
  fi
  echo "$out" | awk '
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
                  p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v }
    END { printf "%s %.2f\n", rps, p99 }'
}

# run_wrk ARGS...: prints requests/sec; any non-2xx answer stops the run.
run_wrk() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DUR" --timeout 30s "$@")
  if echo "$out" | grep -q 'Non-2xx'; then
    echo "$out" >&2
    echo "non-2xx answers: $*" >&2
    exit 1
  fi
  echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

# post_lua FILE BODY [LUA LINES]: a wrk script POSTing the JSON BODY (a Lua
# string literal) with the benchmark's User-Agent.
post_lua() {
  printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["User-Agent"] = "%s"\n%s\n' "$2" "$UA" "${3:-}" >"$1"
}

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
