#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL: initdb in a temp dir, a free
# port on 127.0.0.1, stopped and removed at the end whatever happens.
# The command sees MENTORFLOW_TEST_PG=postgresql://mentorflow@... (a role
# row security binds) and MENTORFLOW_TEST_PG_SUPER (the superuser). Tests run with
# fsync=off (nothing there must survive the machine); MENTORFLOW_PG_FSYNC=on
# gives the durable setting a real deployment has (bench/persist uses it).
# Tests run in parallel against this one cluster, each with its own
# processes and connections: 300 connections, not the default 100.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries not found (install the 'postgresql' package)" >&2
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  exec "$@"
fi
dir=$(mktemp -d /tmp/mentorflow-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
# A cancelled run (SIGTERM, Ctrl-C, a closed terminal) still stops the server
# and removes its directory.
trap 'exit 143' TERM INT HUP
"${as_pg[@]}" "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${MENTORFLOW_PG_FSYNC:-off} -c max_connections=300" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "with-postgres: PostgreSQL on 127.0.0.1:$port"
# The tests connect as a role that is neither a superuser nor BYPASSRLS, as
# mentorflow does in production: row-level security binds every statement.
# It may create databases (one per test) and owns those it creates.
"${as_pg[@]}" "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE mentorflow LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS" >/dev/null
export MENTORFLOW_TEST_PG="postgresql://mentorflow@127.0.0.1:$port/postgres"
# The cluster's superuser, for the tests that inspect roles and the catalogue.
export MENTORFLOW_TEST_PG_SUPER="postgresql://postgres@127.0.0.1:$port/postgres"
# PgBouncer in transaction mode in front of it, as a region deploys it: the
# tests that run through it see MENTORFLOW_TEST_PGBOUNCER (host:port).
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
  bouncer=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '"mentorflow" ""\n"postgres" ""\n' >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
server_reset_query =
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/pgbouncer.ini" "$dir/users.txt"
  "${as_pg[@]}" "$bouncer" -d -q "$dir/pgbouncer.ini" || { cat "$dir/pgbouncer.log" >&2; exit 1; }
  stop_bouncer() { [ -f "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; }
  trap 'stop_bouncer; cleanup' EXIT
  export MENTORFLOW_TEST_PGBOUNCER="127.0.0.1:$bport"
  echo "with-postgres: PgBouncer (transaction mode) on 127.0.0.1:$bport"
elif [ "${CI:-}" = "true" ]; then
  echo "with-postgres: pgbouncer not found (install the 'pgbouncer' package)" >&2
  exit 1
fi
set +e
"$@"
rc=$?
exit $rc
