# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh: sourced, never run on its own.
#
# Everything a service writes (data, logs, pid files, download caches) lives
# under <repo>/.data/services, so two checkouts never share state and
# `services.sh clean` can reset it all.  Download caches sit in
# .data/services/dist and survive `clean`.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd)"
SERVICES_DIR="$REPO_ROOT/.data/services"
LOG_DIR="$SERVICES_DIR/logs"
RUN_DIR="$SERVICES_DIR/run"
DIST_DIR="$SERVICES_DIR/dist"

say() { printf '%s\n' "$*"; }
fail() { printf '%s\n' "$*" >&2; exit 1; }

is_root() { [[ $EUID -eq 0 ]]; }

# Milliseconds since the epoch, for the "ready in N s" lines.
now_ms() { date +%s%3N; }
# Seconds with one decimal between two now_ms readings.
elapsed() { local ms=$(($2 - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

# apt-get install, with one `apt-get update` first per script run (a fresh
# machine's package lists may be empty or stale).
_APT_UPDATED=0
apt_install() {
  local sudo=()
  if ! is_root; then
    command -v sudo >/dev/null || fail "need root (or sudo) to apt-get install $*"
    sudo=(sudo)
  fi
  say "installing Debian packages: $*"
  if [[ $_APT_UPDATED -eq 0 ]]; then
    "${sudo[@]}" apt-get update -qq
    _APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ensure_cmd COMMAND PACKAGE: install PACKAGE when COMMAND is not on PATH.
ensure_cmd() { command -v "$1" >/dev/null || apt_install "$2"; }

# Maven and a JDK 17+ build and run Kafka / Elasticsearch; both are on the
# project's machine image, this only covers a bare Debian.
ensure_java_and_maven() {
  command -v java >/dev/null || apt_install openjdk-17-jdk-headless
  command -v mvn >/dev/null || apt_install maven
}

# maven_to_log LOG ARGS...: run Maven with its output in LOG (Maven 3.8
# prints colour codes even in batch mode); show the tail only when it fails.
maven_to_log() {
  local log=$1
  shift
  if ! mvn -B --no-transfer-progress "$@" >"$log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'ERROR|BUILD' | tail -n 20 >&2
    return 1
  fi
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
# (bash's /dev/tcp, so no client tool is needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# claim_ports NAME LOG PORT...: make sure a server about to start can bind
# its ports.  These ports lie inside Linux's ephemeral range (32768-60999), so
# an outgoing loopback connection (pg_isready, a test's client) may have been
# given one as its local port; it then sits in TIME_WAIT for 60 s and the
# server's bind fails with "Address already in use" (seen with Elasticsearch
# on 59300 right after a test run).  As root, the ports are added to the
# kernel's ip_local_reserved_ports (per network namespace, until reboot) so
# that this stops happening; a port still held that way is waited out.
claim_ports() {
  local name=$1 log=$2 port deadline
  shift 2
  reserve_ports "$@"
  for port in "$@"; do
    if port_open "$port"; then
      fail "$name cannot start: port $port is already taken by another process; see $log"
    fi
    deadline=$((SECONDS + 70))
    if local_port_in_use "$port"; then
      say "$name: port $port is still held by a closed connection (TIME_WAIT); waiting"
    fi
    while local_port_in_use "$port"; do
      if ((SECONDS >= deadline)); then
        fail "$name cannot start: port $port stayed in use for 70 s; see $log"
      fi
      sleep 1
    done
  done
}

# reserve_ports PORT...: see claim_ports.  Root only; a no-op otherwise.
reserve_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports cur want port
  if ! is_root || [[ ! -w $file ]]; then return 0; fi
  cur="$(cat "$file")"
  want=$cur
  for port in "$@"; do
    if [[ ",$cur," != *",$port,"* ]]; then want="${want:+$want,}$port"; fi
  done
  if [[ $want != "$cur" ]]; then printf '%s\n' "$want" >"$file" 2>/dev/null || true; fi
}

# local_port_in_use PORT: some TCP socket, in any state, has PORT as its
# local port (read from /proc, so no ss/netstat is needed).
local_port_in_use() {
  local hex
  hex="$(printf ':%04X' "$1")"
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# read_pid FILE: prints the pid stored in FILE, or nothing.
read_pid() {
  local pid=""
  # read fails on a last line without newline, yet sets pid.
  if [[ -s $1 ]]; then read -r pid <"$1" || true; fi
  if [[ $pid =~ ^[0-9]+$ ]]; then printf '%s\n' "$pid"; fi
}

# pid_is PID MARKER: PID is alive and its command line contains MARKER.  The
# marker (usually a config path inside this checkout) guards against a stale
# pid file whose number was reused by an unrelated process.
pid_is() {
  local pid=$1 marker=$2 cmdline
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ $cmdline == *"$marker"* ]]
}

# stop_pid NAME PID SECONDS: SIGTERM, wait up to SECONDS for a clean exit,
# then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 timeout=$3 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  say "$name: still running after ${timeout} s, killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
}

# wait_ready NAME TIMEOUT LOG PID CHECK...: run CHECK every 0.2 s until it
# succeeds.  Returns 1 after printing one line naming the service, the reason
# and the log when TIMEOUT seconds pass or when PID (if given) has exited.
wait_ready() {
  local name=$1 timeout=$2 log=$3 pid=$4 deadline
  shift 4
  deadline=$((SECONDS + timeout))
  until "$@"; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      printf '%s\n' "$name exited during startup; see $log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      printf '%s\n' "$name did not become ready in $timeout s; see $log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# rotate_log FILE: keep the previous run's log as FILE.1, so a readiness check
# that greps the log only sees this run's lines.
rotate_log() {
  mkdir -p "$(dirname "$1")"
  [[ -e $1 ]] && mv -f "$1" "$1.1"
  : >"$1"
}

# close_inherited_fds: in the subshell that starts a server, close every fd
# above 2.  Otherwise the server keeps, for its whole life, copies of pipes the
# caller had open (a CI runner's output pipe, say), and whoever reads that
# pipe waits for an end of file that never comes.
close_inherited_fds() {
  local fd n
  for fd in /proc/self/fd/*; do
    n=${fd##*/}
    if ((n > 2)); then eval "exec $n>&-"; fi
  done
}

# ensure_user NAME: an unprivileged system account for servers that refuse
# to run as root.
ensure_user() {
  id -u "$1" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$1"
}

# make_traversable DIR: let other users (postgres, marketplace-es) walk from
# / down to DIR by adding o+x (search, not list) to each ancestor lacking it.
# Only needed when the checkout sits under a private folder such as /root.
make_traversable() {
  local dir perm
  dir="$(cd "$1" && pwd -P)"
  while [[ $dir != / ]]; do
    perm="0$(stat -c '%a' "$dir")" # octal in bash arithmetic
    if (((perm & 1) == 0)); then
      say "chmod o+x $dir (so service users can reach .data/services)"
      chmod o+x "$dir"
    fi
    dir="$(dirname "$dir")"
  done
}

# as_user USER CMD...: run CMD as USER when we are root; as ourselves when we
# are not (an ordinary user is already unprivileged, which is all these
# servers want).
as_user() {
  local user=$1
  shift
  if is_root; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# service_user NAME: the account a server runs as (see as_user).
service_user() { if is_root; then printf '%s\n' "$1"; else id -un; fi; }

# status_line NAME STATE PID PORT: the one-line format of `status`.
status_line() { printf '%-14s %-8s pid %-8s port %s\n' "$1" "$2" "${3:--}" "$4"; }

mkdir -p "$LOG_DIR" "$RUN_DIR" "$DIST_DIR"
