#!/usr/bin/env bash
# PostgreSQL for local runs and tests: a private cluster (not the Debian
# "main" cluster) on 127.0.0.1:55432, data in .data/services/postgres, run
# with Debian's binaries as the `postgres` OS user (the server refuses root).
# Usage: postgres.sh up|down|status
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT=55432
PG_HOME="$SERVICES_DIR/postgres"
PG_DATA="$PG_HOME/data"
PG_LOG="$LOG_DIR/postgres.log"
PG_READY_TIMEOUT="${PG_READY_TIMEOUT:-60}"
PG_OS_USER="$(service_user postgres)"
APP_ROLE=marketplace
APP_PASSWORD=marketplace
APP_DATABASES=(marketplace marketplace_test)

# Unix sockets have a ~107-byte path limit; a deep checkout falls back to a
# short per-checkout folder in /tmp so the server still starts.
PG_SOCK="$PG_HOME/sock"
if ((${#PG_SOCK} > 80)); then
  PG_SOCK="/tmp/marketplace-pg-$(printf '%s' "$PG_HOME" | cksum | cut -d' ' -f1)"
fi

# Newest /usr/lib/postgresql/<ver>/bin that has initdb and pg_ctl, or nothing.
find_pg_bin() {
  local d best=""
  while read -r d; do
    [[ -x $d/initdb && -x $d/pg_ctl ]] && best=$d
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  printf '%s' "$best"
}

PG_BIN="$(find_pg_bin)"

# pg TOOL ARGS...: a PostgreSQL binary as the server's OS user, from a folder
# that user may enter (else it warns about the caller's working directory).
pg() {
  local tool=$1
  shift
  (cd / && as_user "$PG_OS_USER" "$PG_BIN/$tool" "$@")
}

running_pid() {
  [[ -n $PG_BIN && -f $PG_DATA/PG_VERSION ]] || return 1
  pg pg_ctl status -D "$PG_DATA" >/dev/null 2>&1 || return 1
  head -n1 "$PG_DATA/postmaster.pid"
}

ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }

# Idempotent: the app role (may create databases, for tests that want
# throwaway ones) and its databases.  Runs over the private socket, where the
# superuser is trusted, so the superuser needs no password.
ensure_role_and_databases() {
  local db sql
  sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  END IF;
END \$\$;"
  for db in "${APP_DATABASES[@]}"; do
    sql+="
SELECT 'CREATE DATABASE $db OWNER $APP_ROLE'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \\gexec"
  done
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
    -U postgres -d postgres >/dev/null <<<"$sql"
}

init_cluster() {
  say "postgres: initdb $PG_DATA"
  # Local (socket) connections are trusted: the socket folder is private to
  # this checkout.  TCP connections need the password.
  pg initdb -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  printf "\ninclude_if_exists = 'marketplace.conf'\n" >>"$PG_DATA/postgresql.conf"
}

write_config() {
  # Rewritten on every start, so edits here reach existing clusters.
  # fsync etc. off: throwaway test data, speed matters more than durability.
  cat >"$PG_DATA/marketplace.conf" <<EOF
# Written by deploy/local/postgres.sh on each start; edit that script instead.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  chown "$PG_OS_USER" "$PG_DATA/marketplace.conf"
}

cmd_up() {
  local pid t0
  if [[ -z $PG_BIN ]]; then
    apt_install postgresql
    PG_BIN="$(find_pg_bin)"
    [[ -n $PG_BIN ]] || fail "postgres: initdb/pg_ctl still missing after installing postgresql"
  fi
  reserve_ports "$PG_PORT"
  if pid="$(running_pid)"; then
    ensure_role_and_databases
    say "postgres: already running (pid $pid, port $PG_PORT)"
    return 0
  fi
  t0="$(now_ms)"
  mkdir -p "$PG_HOME" "$PG_SOCK"
  chown "$PG_OS_USER" "$PG_HOME" "$PG_SOCK"
  chmod 0755 "$PG_SOCK"
  if is_root; then make_traversable "$PG_HOME"; fi
  if [[ ! -f $PG_DATA/PG_VERSION ]]; then
    init_cluster
  elif [[ "$(cat "$PG_DATA/PG_VERSION")" != "$(basename "$(dirname "$PG_BIN")")" ]]; then
    fail "postgres: $PG_DATA was made by PostgreSQL $(cat "$PG_DATA/PG_VERSION") but $PG_BIN is another version; run 'deploy/local/services.sh clean postgres'"
  fi
  write_config
  claim_ports PostgreSQL "$PG_LOG" "$PG_PORT"
  touch "$PG_LOG"
  chown "$PG_OS_USER" "$PG_LOG"
  # pg_ctl -w watches the postmaster, so a failed start is reported at once.
  if ! (close_inherited_fds && pg pg_ctl start -w -t "$PG_READY_TIMEOUT" -s \
    -D "$PG_DATA" -l "$PG_LOG" </dev/null >/dev/null); then
    cmd_down >/dev/null 2>&1 || true
    fail "PostgreSQL did not start (exited, or not ready in $PG_READY_TIMEOUT s); see $PG_LOG"
  fi
  wait_ready PostgreSQL "$PG_READY_TIMEOUT" "$PG_LOG" "" ready || {
    cmd_down >/dev/null 2>&1 || true # leave nothing half-started behind
    exit 1
  }
  ensure_role_and_databases
  say "postgres: ready in $(elapsed "$t0" "$(now_ms)") s (pid $(running_pid), port $PG_PORT)"
}

cmd_down() {
  if running_pid >/dev/null; then
    pg pg_ctl stop -s -D "$PG_DATA" -m fast -w -t 60
    say "postgres: stopped"
  else
    say "postgres: not running"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    status_line postgres running "$pid" "$PG_PORT"
  else
    status_line postgres stopped "" "$PG_PORT"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) fail "usage: $0 up|down|status" ;;
esac
