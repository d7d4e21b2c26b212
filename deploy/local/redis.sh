#!/usr/bin/env bash
# Redis for local runs and tests: Debian's redis-server with its own config on
# 127.0.0.1:56379, no persistence, files in .data/services/redis.
# Usage: redis.sh up|down|status
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REDIS_PORT=56379
REDIS_HOME="$SERVICES_DIR/redis"
REDIS_CONF="$REDIS_HOME/redis.conf"
REDIS_PIDFILE="$RUN_DIR/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"
REDIS_READY_TIMEOUT="${REDIS_READY_TIMEOUT:-30}"

running_pid() {
  local pid
  pid="$(read_pid "$REDIS_PIDFILE")"
  pid_is "$pid" "redis-server 127.0.0.1:$REDIS_PORT" || return 1
  printf '%s\n' "$pid"
}

ready() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

write_config() {
  mkdir -p "$REDIS_HOME"
  cat >"$REDIS_CONF" <<EOF
# Written by deploy/local/redis.sh on each start; edit that script instead.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
logfile $REDIS_LOG
dir $REDIS_HOME
# Cache, rate limits and fan-out only: nothing needs to survive a restart.
save ""
appendonly no
databases 16
EOF
}

cmd_up() {
  local pid t0
  ensure_cmd redis-server redis-server
  ensure_cmd redis-cli redis-tools
  reserve_ports "$REDIS_PORT"
  if pid="$(running_pid)"; then
    say "redis: already running (pid $pid, port $REDIS_PORT)"
    return 0
  fi
  t0="$(now_ms)"
  claim_ports Redis "$REDIS_LOG" "$REDIS_PORT"
  write_config
  rotate_log "$REDIS_LOG"
  # In the background rather than `daemonize yes`, so that $! is the server
  # and a start-up failure is noticed at once, not at the timeout.  It logs to
  # its logfile; stdout only carries what comes before the config is read.
  (close_inherited_fds && exec nohup redis-server "$REDIS_CONF" >>"$REDIS_LOG" 2>&1 </dev/null) &
  pid=$!
  printf '%s\n' "$pid" >"$REDIS_PIDFILE"
  wait_ready Redis "$REDIS_READY_TIMEOUT" "$REDIS_LOG" "$pid" ready || {
    cmd_down >/dev/null 2>&1 || true # leave nothing half-started behind
    exit 1
  }
  say "redis: ready in $(elapsed "$t0" "$(now_ms)") s (pid $pid, port $REDIS_PORT)"
}

cmd_down() {
  local pid
  if pid="$(running_pid)"; then
    # SIGTERM: redis exits cleanly (and, with save "", writes nothing).
    stop_pid redis "$pid" 30
    rm -f "$REDIS_PIDFILE"
    say "redis: stopped"
  else
    say "redis: not running"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    status_line redis running "$pid" "$REDIS_PORT"
  else
    status_line redis stopped "" "$REDIS_PORT"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) fail "usage: $0 up|down|status" ;;
esac
