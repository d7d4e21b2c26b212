#!/usr/bin/env bash
# Elasticsearch for local runs and tests: one node on 127.0.0.1:59200
# (transport :59300), security off, data and logs in
# .data/services/elasticsearch.  The server comes from Maven Central's
# "integ-test-zip" distribution (elasticsearch/pom.xml unpacks it into
# .data/services/dist/elasticsearch-<version>): no bundled JDK and only the
# modules transport-netty4, x-pack-core, x-pack-security and apm, so no
# painless scripts, no analysis-common analyzers/filters, no ingest pipelines,
# and no root endpoint (GET / and HEAD /: client ping()/info() fail; use
# _cluster/health).  See README.md.
# It refuses to run as root, so it runs as the system user marketplace-es.
# Usage: elasticsearch.sh up|down|status
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ES_PORT=59200
ES_TRANSPORT_PORT=59300
ES_POM="$LOCAL_DIR/elasticsearch/pom.xml"
ES_VERSION="$(sed -n 's:.*<elasticsearch.version>\(.*\)</elasticsearch.version>.*:\1:p' "$ES_POM")"
ES_DIST="$DIST_DIR/elasticsearch-$ES_VERSION"
ES_NODE_HOME="$SERVICES_DIR/elasticsearch"
ES_CONF="$ES_NODE_HOME/config"
ES_PIDFILE="$ES_NODE_HOME/elasticsearch.pid" # written by the server as its user
ES_LAUNCHER_PIDFILE="$RUN_DIR/elasticsearch-launcher.pid"
ES_LOG="$LOG_DIR/elasticsearch.log"
ES_READY_TIMEOUT="${ES_READY_TIMEOUT:-180}"
ES_HEAP="${ES_HEAP:-512m}"
ES_OS_USER="$(service_user marketplace-es)"
ES_URL="http://127.0.0.1:$ES_PORT"

# Java 17 (the machine's default) runs Elasticsearch 8.19; ES_JAVA_HOME
# overrides it.
default_java_home() {
  local java
  java="$(command -v java)" || return 1
  dirname "$(dirname "$(readlink -f "$java")")"
}
ES_JAVA_HOME="${ES_JAVA_HOME:-}"

# The server's command line names no config path, but its temp folder
# (ES_TMPDIR, below) is unique to this checkout.
ES_MARKER="-Djava.io.tmpdir=$ES_NODE_HOME/tmp"

# The server's pid: from its pid file, or (while it is still starting and has
# not written one yet) found by the marker.
running_pid() {
  local pid
  pid="$(read_pid "$ES_PIDFILE")"
  if pid_is "$pid" "$ES_MARKER"; then
    printf '%s\n' "$pid"
    return 0
  fi
  pgrep -n -f -- "$ES_MARKER"
}

ready() {
  curl -fsS -o /dev/null --max-time 10 \
    "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null
}

# Unpack the distribution once per pom content.
ensure_dist() {
  local stamp want tmp
  stamp="$ES_DIST/.pom.sha256"
  want="$(sha256sum "$ES_POM" | cut -d' ' -f1)"
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && return 0
  say "elasticsearch: fetching Elasticsearch $ES_VERSION with Maven (cached in ~/.m2)"
  tmp="$DIST_DIR/elasticsearch-unpack.tmp"
  rm -rf "$tmp"
  maven_to_log "$LOG_DIR/maven-elasticsearch.log" -f "$ES_POM" \
    dependency:unpack@unpack-elasticsearch -Des.unpack.dir="$tmp" ||
    fail "elasticsearch: Maven could not fetch Elasticsearch $ES_VERSION; see $LOG_DIR/maven-elasticsearch.log"
  [[ -x $tmp/elasticsearch-$ES_VERSION/bin/elasticsearch ]] ||
    fail "elasticsearch: unpacked archive has no elasticsearch-$ES_VERSION/bin/elasticsearch"
  printf '%s\n' "$want" >"$tmp/elasticsearch-$ES_VERSION/.pom.sha256"
  rm -rf "$ES_DIST"
  mv "$tmp/elasticsearch-$ES_VERSION" "$ES_DIST"
  rm -rf "$tmp"
}

write_config() {
  mkdir -p "$ES_CONF/jvm.options.d" "$ES_NODE_HOME"/{data,logs,tmp}
  # Defaults (jvm.options, log4j2.properties, ...) from the distribution,
  # refreshed on each start; the node's own settings are written below.
  cp -f "$ES_DIST"/config/jvm.options "$ES_DIST"/config/log4j2.properties "$ES_CONF/"
  cat >"$ES_CONF/elasticsearch.yml" <<EOF
# Written by deploy/local/elasticsearch.sh on each start; edit that script instead.
cluster.name: marketplace-local
node.name: local
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $ES_NODE_HOME/data
path.logs: $ES_NODE_HOME/logs
xpack.security.enabled: false
# Tests must not fail because the build machine's disk is nearly full.
cluster.routing.allocation.disk.threshold_enabled: false
# Allow DELETE on wildcards, so tests can clean up their indices by prefix.
action.destructive_requires_name: false
EOF
  cat >"$ES_CONF/jvm.options.d/local.options" <<EOF
-Xms$ES_HEAP
-Xmx$ES_HEAP
EOF
  chown -R "$ES_OS_USER" "$ES_NODE_HOME"
}

cmd_up() {
  local pid t0 launcher as_es=()
  ensure_java_and_maven
  ensure_cmd curl curl
  if [[ -z $ES_JAVA_HOME ]]; then ES_JAVA_HOME="$(default_java_home)"; fi
  [[ -x $ES_JAVA_HOME/bin/java ]] || fail "elasticsearch: no java at ES_JAVA_HOME=$ES_JAVA_HOME"
  reserve_ports "$ES_PORT" "$ES_TRANSPORT_PORT"
  if pid="$(running_pid)"; then
    say "elasticsearch: already running (pid $pid, port $ES_PORT)"
    return 0
  fi
  t0="$(now_ms)"
  claim_ports Elasticsearch "$ES_LOG" "$ES_PORT" "$ES_TRANSPORT_PORT"
  if is_root; then
    ensure_user marketplace-es
    make_traversable "$SERVICES_DIR"
    as_es=(runuser -u "$ES_OS_USER" --)
  fi
  ensure_dist
  write_config
  rm -f "$ES_PIDFILE"
  rotate_log "$ES_LOG"
  # Started from its logs folder: the distribution's jvm.options write gc.log
  # and hs_err files relative to the working directory.  The launcher stays in
  # the foreground of this background job and forwards the server's console
  # to the log; -p makes the server write its own pid.
  (cd "$ES_NODE_HOME/logs" && close_inherited_fds && exec nohup env HOME="$ES_NODE_HOME" \
    ES_JAVA_HOME="$ES_JAVA_HOME" ES_PATH_CONF="$ES_CONF" \
    ES_TMPDIR="$ES_NODE_HOME/tmp" ES_JAVA_OPTS="" \
    "${as_es[@]}" "$ES_DIST/bin/elasticsearch" -p "$ES_PIDFILE" \
    >>"$ES_LOG" 2>&1 </dev/null) &
  launcher=$!
  printf '%s\n' "$launcher" >"$ES_LAUNCHER_PIDFILE"
  wait_ready Elasticsearch "$ES_READY_TIMEOUT" "$ES_LOG" "$launcher" ready || {
    cmd_down >/dev/null 2>&1 || true # leave nothing half-started behind
    exit 1
  }
  say "elasticsearch: ready in $(elapsed "$t0" "$(now_ms)") s (pid $(running_pid), port $ES_PORT)"
}

cmd_down() {
  local pid launcher i
  launcher="$(read_pid "$ES_LAUNCHER_PIDFILE")"
  if pid="$(running_pid)"; then
    stop_pid elasticsearch "$pid" 60
    say "elasticsearch: stopped"
  else
    say "elasticsearch: not running"
  fi
  # The launcher (runuser + the CLI JVM) exits with its server; stopping it
  # covers a launcher whose server never started.
  if pid_is "$launcher" "$ES_DIST/bin/elasticsearch"; then
    stop_pid elasticsearch-launcher "$launcher" 30
  fi
  rm -f "$ES_LAUNCHER_PIDFILE"
  # A server still starting when its launcher went away exits on its own
  # (its stdin closes): wait for that, so the ports are free on return.
  for ((i = 0; i < 300; i++)); do
    running_pid >/dev/null || break
    sleep 0.1
  done
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    status_line elasticsearch running "$pid" "$ES_PORT"
  else
    status_line elasticsearch stopped "" "$ES_PORT"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) fail "usage: $0 up|down|status" ;;
esac
