#!/usr/bin/env bash
# Kafka for local runs and tests: one broker in KRaft combined mode
# (broker + controller in one JVM) on 127.0.0.1:59092 (controller :59093).
# The broker is not downloaded as a tarball: kafka/pom.xml lists
# org.apache.kafka:kafka_2.13 and Maven copies it and its dependencies from
# Maven Central into .data/services/dist/kafka-libs-<version> (cached there and
# in ~/.m2).  Runs on the machine's Java 17.
# Usage: kafka.sh up|down|status
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_PORT=59092
KAFKA_CONTROLLER_PORT=59093
KAFKA_POM="$LOCAL_DIR/kafka/pom.xml"
KAFKA_LOG4J="$LOCAL_DIR/kafka/log4j2.properties"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")"
KAFKA_LIBS="$DIST_DIR/kafka-libs-$KAFKA_VERSION"
KAFKA_HOME="$SERVICES_DIR/kafka"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_PIDFILE="$RUN_DIR/kafka.pid"
KAFKA_LOG="$LOG_DIR/kafka.log"
KAFKA_READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"
KAFKA_JAVA="${KAFKA_JAVA:-java}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

running_pid() {
  local pid
  pid="$(read_pid "$KAFKA_PIDFILE")"
  # The properties path is unique to this checkout.
  pid_is "$pid" "kafka.Kafka $KAFKA_PROPS" || return 1
  printf '%s\n' "$pid"
}

# Ready = the listener accepts connections and the broker logged that start-up
# finished (the port opens a little before the broker can serve metadata).
ready() {
  port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$KAFKA_LOG"
}

check_java() {
  local major
  major="$("$KAFKA_JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ ${major:-0} -ge 17 ]] || fail "kafka: needs Java 17+, '$KAFKA_JAVA' is ${major:-missing}"
}

# Copy the broker's jars once per pom content; a changed pom (new version,
# new logging jar) refreshes the folder.
ensure_libs() {
  local stamp want tmp
  stamp="$KAFKA_LIBS/.pom.sha256"
  want="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && return 0
  say "kafka: fetching Kafka $KAFKA_VERSION jars with Maven (cached in ~/.m2)"
  tmp="$KAFKA_LIBS.tmp"
  rm -rf "$tmp"
  maven_to_log "$LOG_DIR/maven-kafka.log" -f "$KAFKA_POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" ||
    fail "kafka: Maven could not fetch Kafka $KAFKA_VERSION; see $LOG_DIR/maven-kafka.log"
  printf '%s\n' "$want" >"$tmp/.pom.sha256"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

write_config() {
  mkdir -p "$KAFKA_HOME"
  cat >"$KAFKA_PROPS" <<EOF
# Written by deploy/local/kafka.sh on each start; edit that script instead.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
auto.create.topics.enable=true
# One broker: every internal topic gets a single replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# Tests create consumer groups constantly: don't wait 3 s for more members.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
}

# Format the storage once (KRaft needs a cluster id and a metadata log before
# the first start); --standalone makes this node the single voter.
ensure_formatted() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local cluster_id
  # A Kafka Uuid: 16 random bytes, base64url without padding.
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  say "kafka: formatting $KAFKA_DATA (cluster id $cluster_id)"
  "$KAFKA_JAVA" -Dlog4j2.configurationFile="$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" \
    kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$KAFKA_PROPS" \
    >>"$KAFKA_LOG" 2>&1 || fail "kafka: storage format failed; see $KAFKA_LOG"
}

cmd_up() {
  local pid t0 opts
  ensure_java_and_maven
  check_java
  reserve_ports "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  if pid="$(running_pid)"; then
    say "kafka: already running (pid $pid, port $KAFKA_PORT)"
    return 0
  fi
  t0="$(now_ms)"
  claim_ports Kafka "$KAFKA_LOG" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  ensure_libs
  write_config
  rotate_log "$KAFKA_LOG"
  ensure_formatted
  # shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of JVM flags
  opts=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$KAFKA_LOG4J")
  # nohup + &: the broker outlives this script; $! is the JVM itself (nohup
  # execs it), so the pid file points at the broker.
  (cd "$KAFKA_HOME" && close_inherited_fds && exec nohup "$KAFKA_JAVA" "${opts[@]}" -cp "$KAFKA_LIBS/*" \
    kafka.Kafka "$KAFKA_PROPS" >>"$KAFKA_LOG" 2>&1 </dev/null) &
  pid=$!
  printf '%s\n' "$pid" >"$KAFKA_PIDFILE"
  wait_ready Kafka "$KAFKA_READY_TIMEOUT" "$KAFKA_LOG" "$pid" ready || {
    cmd_down >/dev/null 2>&1 || true # leave nothing half-started behind
    exit 1
  }
  say "kafka: ready in $(elapsed "$t0" "$(now_ms)") s (pid $pid, port $KAFKA_PORT)"
}

cmd_down() {
  local pid
  if pid="$(running_pid)"; then
    # SIGTERM = controlled shutdown; a few seconds in combined mode.
    stop_pid kafka "$pid" 60
    rm -f "$KAFKA_PIDFILE"
    say "kafka: stopped"
  else
    say "kafka: not running"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    status_line kafka running "$pid" "$KAFKA_PORT"
  else
    status_line kafka stopped "" "$KAFKA_PORT"
    return 3
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) fail "usage: $0 up|down|status" ;;
esac
