# Shared by the wrk benchmarks (tools/bench-http.sh, tools/bench-cookies.sh):
# source it. A release jwt-server on SQLite in a temp dir with one user, wrk,
# and helpers. Settings: DUR, THREADS, CONNS, and ALG: the signing algorithm
# (HS256 by default; EdDSA, RS256 or ES256 sign with a key openssl makes).
DUR=${DUR:-20s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
UA='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'
USERNAME=alice
PASSWORD=wonderland-42
LOGIN='{"username":"'$USERNAME'","password":"'$PASSWORD'"}'
ALG=${ALG:-HS256}

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
trap 'stop_server; rm -rf "$work"' EXIT

(cd "$work" && printf '%s' "$PASSWORD" | RUST_LOG=warn "$bin" user create "$USERNAME" --password-stdin >/dev/null)

# The signing key of ALG: HS256 uses the key the server makes on first run.
alg_env=()
case $ALG in
  HS256) ;;
  EdDSA) openssl genpkey -algorithm ed25519 -out "$work/signing.pem" 2>/dev/null ;;
  RS256) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/signing.pem" 2>/dev/null ;;
  ES256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/signing.pem" 2>/dev/null ;;
  *) echo "ALG must be HS256, EdDSA, RS256 or ES256" >&2; exit 2 ;;
esac
if [ "$ALG" != HS256 ]; then
  chmod 600 "$work/signing.pem"
  alg_env=(JWT__TOKENS__ALGORITHM="$ALG" JWT__TOKENS__SIGNING_KEY_FILE="$work/signing.pem")
fi

# start_server [NAME=VALUE ...]: serves on a free port with those variables;
# sets $base.
start_server() {
  : >"$work/stdout"
  (cd "$work" && exec env "${alg_env[@]}" "$@" RUST_LOG=warn "$bin" serve --bind 127.0.0.1:0 >"$work/stdout" 2>"$work/stderr") &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    sleep 0.1
  done
  base=$(sed -n 's|^listening on ||p' "$work/stdout")
  [ -n "$base" ] || { cat "$work/stderr" >&2; exit 1; }
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
