# The harness's `--scale` preload (sourced by tools/bench-http.sh, after
# bench-lib.sh created the database): SCALE_TOKENS tokens (1 000 000) of
# 10 000 other users than the benchmark's, SCALE_REVOKED of them (100 000)
# force-expired and not yet past their own expiry, so that the revocation
# list holds them all. Rows carry what the registry reads (ids, jti, type,
# digest, login root, user, times); they have no user-connection rows.
# With SCALE_PAST=1 every row's own expiry passed two days ago instead (what
# the archiver deletes) and none is force-expired.
SCALE_TOKENS=${SCALE_TOKENS:-1000000}
SCALE_REVOKED=${SCALE_REVOKED:-100000}
SCALE_PAST=${SCALE_PAST:-0}

preload() {
  local started=$SECONDS
  case $BACKEND in
    sqlite)
      python3 - "$work/jwt.sqlite3" "$SCALE_TOKENS" "$SCALE_REVOKED" "$SCALE_PAST" <<'PY'
import sqlite3, sys
path, tokens, revoked, past = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode = WAL")
fmt = "strftime('%Y-%m-%d %H:%M:%f000', 'now', {})"
now, later, before = fmt.format("'+0 seconds'"), fmt.format("'+1 day'"), fmt.format("'-1 minute'")
if past:
    later = fmt.format("'-2 days'")
db.execute(f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {tokens})
INSERT INTO jwt_token (id, jti, token_type, token_digest, payload, parent_id, expired_at,
                       internal_expired_at, created_at, updated_at, root_id, user_id)
SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('5ca1e%027x', i),
       CASE WHEN i % 2 = 0 THEN 'access' ELSE 'refresh' END, printf('%064x', i), '{{}}', NULL,
       CASE WHEN i <= {revoked} THEN {before} ELSE {later} END, {later}, {now}, {now},
       printf('%08x-0000-4000-8000-%012x', i, i), CAST(2 + i % 10000 AS TEXT)
FROM n""")
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
      ;;
    postgres)
      local later="now() + interval '1 day'"
      [ "$SCALE_PAST" = 1 ] && later="now() - interval '2 days'"
      psql "${DATABASE_URL%/*}/$bench_db" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO jwt_token (id, jti, token_type, token_digest, payload, parent_id, expired_at,
                       internal_expired_at, created_at, updated_at, root_id, user_id)
SELECT md5(i::text)::uuid, '5ca1e' || lpad(to_hex(i), 27, '0'),
       CASE WHEN i % 2 = 0 THEN 'access' ELSE 'refresh' END, lpad(to_hex(i), 64, '0'), '{}', NULL,
       CASE WHEN i <= $SCALE_REVOKED THEN now() - interval '1 minute' ELSE $later END,
       $later, now(), now(), md5(i::text)::uuid, (2 + i % 10000)::text
FROM generate_series(1, $SCALE_TOKENS) AS i;
ANALYZE jwt_token;
SQL
      ;;
  esac
  echo "preloaded $SCALE_TOKENS tokens, $SCALE_REVOKED force-expired, past their expiry: $SCALE_PAST, in $((SECONDS - started)) s" >&2
}
