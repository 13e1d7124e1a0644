#!/usr/bin/env bash
# cluster.sh runs a local dfs cluster: four dfsnode processes on loopback
# ports, with the proof of concept's demo users, and optionally a mount.
#
#   scripts/cluster.sh start   [DATA_DIR]              build, make confs, start DFS1..DFS4
#   scripts/cluster.sh stop    [DATA_DIR]              stop the nodes
#   scripts/cluster.sh status  [DATA_DIR]              which nodes run
#   scripts/cluster.sh mount   [DATA_DIR] [MOUNTPOINT] start if needed, mount with dfsmount
#   scripts/cluster.sh unmount [DATA_DIR] [MOUNTPOINT] unmount
#
# DATA_DIR defaults to ./dfs-data, relative to the current folder, and
# MOUNTPOINT to ~/dfs: outside the source tree, so that go's ./... patterns
# (make test) never walk into the mount. Environment: DFS_PORT (first port,
# default 10001; the nodes use DFS_PORT..DFS_PORT+3), DFSMOUNT_FLAGS (extra
# dfsmount flags), DFSNODE_FLAGS (extra dfsnode flags, e.g. -flush-delay 50ms).
set -euo pipefail

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -ge 1 ] || usage
cmd=$1
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Resolve DATA_DIR against the caller's folder before any cd.
data=$(realpath -m -- "${2:-dfs-data}") # -m: the folder need not exist yet
mnt=$(realpath -m -- "${3:-$HOME/dfs}")
port0=${DFS_PORT:-10001}
bin=$data/bin
users=("Alice:Crimson33" "Bob:Velvet77" "Eve:Magellan101")

# pid_alive PID: true if the process exists and is not a zombie (a dead
# child nobody has waited for yet; field 3 of /proc/PID/stat is its state).
pid_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# alive PIDFILE: true if the pid file names a live process; a stale pid file
# (the process is gone) counts as not running.
alive() {
	local pid
	[ -f "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	# The pid may have been reused by another program since: check the name.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q dfsnode
}

# port_open PORT: true if 127.0.0.1:PORT accepts a connection (bash opens a
# TCP connection for /dev/tcp/HOST/PORT redirections).
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID: wait up to 10 s until PORT accepts, while PID lives.
wait_port() {
	local i
	for ((i = 0; i < 100; i++)); do
		port_open "$1" && return 0
		pid_alive "$2" || return 1
		sleep 0.1
	done
	return 1
}

running() {
	local n k=0
	for n in 1 2 3 4; do
		if alive "$data/DFS$n.pid"; then k=$((k + 1)); fi
	done
	echo "$k"
}

build() {
	mkdir -p "$bin"
	echo "building into $bin"
	# go build -o DIR/ (trailing slash) writes one binary per main package.
	(cd "$repo" && go build -o "$bin/" ./cmd/...)
}

make_server_conf() {
	local u
	[ -e "$data/dfs.conf" ] && return 0
	for u in "${users[@]}"; do
		# dfsnode reads the password from stdin when it is not a terminal,
		# so it never appears on a command line.
		printf '%s\n' "${u#*:}" | "$bin/dfsnode" user add "${u%%:*}" -conf "$data/dfs.conf" 2>/dev/null ||
			{ echo "dfsnode user add ${u%%:*} failed" >&2; exit 1; }
	done
	echo "made $data/dfs.conf with users Alice, Bob, Eve"
}

# node_conf N: the node's own copy of dfs.conf, made at its first start, as
# separate machines would have (the file holds login verifiers, the same for
# every node; "dfc passwd" changes each copy through its node). To add a
# user later, run dfsnode user add on each.
node_conf() {
	local f=$data/DFS$1.conf
	[ -e "$f" ] || cp -p "$data/dfs.conf" "$f"
	echo "$f"
}

start_node() {
	local n=$1 port=$((port0 + $1 - 1)) conf
	if alive "$data/DFS$n.pid"; then
		echo "DFS$n already running (pid $(cat "$data/DFS$n.pid"))"
		return 0
	fi
	if port_open "$port"; then
		echo "port $port is already in use (another cluster? set DFS_PORT)" >&2
		exit 1
	fi
	mkdir -p "$data/DFS$n"
	# setsid: the node gets its own session, so a Ctrl-C in this terminal
	# does not reach it; nohup-like, output goes to the log.
	conf=$(node_conf "$n")
	# DFSNODE_FLAGS is split into words on purpose.
	# shellcheck disable=SC2086
	setsid "$bin/dfsnode" -conf "$conf" ${DFSNODE_FLAGS:-} "$data/DFS$n" "$port" >>"$data/DFS$n.log" 2>&1 </dev/null &
	echo $! >"$data/DFS$n.pid"
	if ! wait_port "$port" $!; then
		echo "DFS$n did not start listening on port $port; see $data/DFS$n.log:" >&2
		tail -n 20 "$data/DFS$n.log" >&2 || true
		exit 1
	fi
	echo "DFS$n listening on 127.0.0.1:$port (pid $(cat "$data/DFS$n.pid"), log $data/DFS$n.log)"
}

write_client_conf() {
	local n port pin tmp
	tmp=$(mktemp "$data/.dfc.conf.XXXXXX")
	{
		echo "# dfc.conf for the local cluster made by scripts/cluster.sh"
		for n in 1 2 3 4; do
			port=$((port0 + n - 1))
			pin=$("$bin/dfsnode" fingerprint "$data/DFS$n")
			echo "Server DFS$n 127.0.0.1:$port $pin"
		done
		echo "Username: Alice"
		echo "Password: Crimson33"
	} >"$tmp"
	chmod 600 "$tmp"
	mv "$tmp" "$data/dfc.conf"
}

start() {
	if [ "$(running)" = 4 ]; then
		echo "cluster already running in $data"
		return 0
	fi
	mkdir -p "$data"
	build
	make_server_conf
	local n
	for n in 1 2 3 4; do start_node "$n"; done
	write_client_conf
	cat <<EOF

cluster running (logs in $data/DFSn.log). Try:
  $bin/dfc -conf $data/dfc.conf put FILE
  $bin/dfc -conf $data/dfc.conf list
  $bin/dfc -conf $data/dfc.conf get FILE
  $bin/dfc $data/dfc.conf
      (the interactive prompt: PUT, GET, LIST, RM, EXIT)
  $0 mount $data MOUNTPOINT
  $0 stop $data
EOF
}

stop() {
	local n pid i pids=()
	# A mount over stopped nodes would only fail: unmount it first.
	if mountpoint -q "$mnt" 2>/dev/null; then do_unmount; fi
	for n in 1 2 3 4; do
		if alive "$data/DFS$n.pid"; then
			pid=$(cat "$data/DFS$n.pid")
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$n:$pid")
		fi
		rm -f "$data/DFS$n.pid"
	done
	if [ ${#pids[@]} -eq 0 ]; then
		echo "no node running in $data"
		return 0
	fi
	for ((i = 0; i < 50; i++)); do
		local left=0 p
		for p in "${pids[@]}"; do
			if pid_alive "${p#*:}"; then left=1; fi
		done
		[ $left = 0 ] && break
		sleep 0.1
	done
	for p in "${pids[@]}"; do
		if pid_alive "${p#*:}"; then
			echo "DFS${p%%:*} ignored TERM for 5 s; killing it" >&2
			kill -KILL "${p#*:}" 2>/dev/null || true
		fi
		echo "stopped DFS${p%%:*}"
	done
}

status() {
	local n port k=0
	for n in 1 2 3 4; do
		port=$((port0 + n - 1))
		if alive "$data/DFS$n.pid"; then
			echo "DFS$n running on 127.0.0.1:$port (pid $(cat "$data/DFS$n.pid"))"
			k=$((k + 1))
		else
			echo "DFS$n stopped"
		fi
	done
	if mountpoint -q "$mnt" 2>/dev/null; then echo "mounted at $mnt"; fi
	[ $k -gt 0 ] # exit 1 when nothing runs
}

do_mount() {
	if [ "$(running)" != 4 ]; then start; fi
	mkdir -p "$mnt"
	if mountpoint -q "$mnt"; then
		echo "already mounted at $mnt"
		return 0
	fi
	# Mounting over files would hide them; a dead mount lists nothing
	# here (ls fails) and dfsmount cleans it up.
	if [ -n "$(ls -A "$mnt" 2>/dev/null)" ]; then
		echo "$mnt is not empty; mounting would hide its files. Pick another folder: make run MNT=DIR" >&2
		exit 1
	fi
	# dfsmount goes to the background by itself once the mount is usable
	# (unless DFSMOUNT_FLAGS has -f). DFSMOUNT_FLAGS is split into words on
	# purpose: it may hold several flags.
	# shellcheck disable=SC2086
	"$bin/dfsmount" -conf "$data/dfc.conf" ${DFSMOUNT_FLAGS:-} "$mnt"
	echo "mounted at $mnt"
}

do_unmount() {
	if ! mountpoint -q "$mnt"; then
		echo "nothing mounted at $mnt"
		return 0
	fi
	# -u: unmount as the user who mounted; fall back to umount (root).
	fusermount3 -u "$mnt" 2>/dev/null || fusermount -u "$mnt" 2>/dev/null || umount "$mnt"
	echo "unmounted $mnt"
}

case $cmd in
start) start ;;
stop) stop ;;
status) status ;;
mount) do_mount ;;
unmount | umount) do_unmount ;;
*) usage ;;
esac
