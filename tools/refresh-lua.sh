# Sourced by the wrk benchmarks. write_refresh_lua OUT TOKENS UA: a wrk
# script that POSTs refresh/ with the refresh tokens of the file TOKENS (one
# per line), each request taking the next in turn, as traffic from many
# logins is, with the User-Agent UA.
write_refresh_lua() {
  {
    echo 'local tokens, n, i = {}, 0, 0'
    echo "for line in io.lines(\"$2\") do n = n + 1; tokens[n] = line end"
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    echo "wrk.headers[\"User-Agent\"] = \"$3\""
    echo 'request = function()'
    echo '  i = i % n + 1'
    echo '  return wrk.format(nil, nil, nil, "{\"refresh\":\"" .. tokens[i] .. "\"}")'
    echo 'end'
  } >"$1"
}
