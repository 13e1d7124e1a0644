#!/usr/bin/env bash
# bench.sh compares dfs with a local folder, go-fuse's loopback example and
# sshfs on the same workloads, and keeps the result in docs/bench/.
#
#   scripts/bench.sh [-size 1G] [-small 2000] [-many 10000]
#                    [-only local,loopback,sshfs,dfs] [-install-sshfs]
#                    [-profile DIR] [-no-save]
#
#   -size N          the big file for the sequential write and reads (1G, 256M, ...)
#   -small N         files of 4 KiB in the tarball (spread over 10 folders)
#   -many N          files in the one folder listed with ls -l
#   -only LIST       systems to run, comma-separated
#   -install-sshfs   apt-get install -y sshfs openssh-server first (root)
#   -profile DIR     save a CPU profile of dfsmount during the write and an
#                    allocation profile after it into DIR
#   -no-save         do not write docs/bench/STAMP.{json,txt}
#
# Every workload is durable when it returns: the write uses conv=fsync and
# the tar and rm runs end with sync (dfs uploads a file when it is closed).
# Page caches are dropped before every read (needs root). It runs as root:
# it drops caches and, for sshfs, starts a throwaway sshd on a loopback port.
# The dfs cluster is a separate one (its own data folder, DFS_PORT=11001,
# override with BENCH_DFS_PORT), so a cluster of your own is not touched.
# Environment: BENCH_TIMEOUT (seconds per timed command, default 900).
set -euo pipefail

usage() {
	sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size_arg=1G
small=2000
many=10000
only=local,loopback,sshfs,dfs
install_sshfs=0
profile_dir=
save=1
while [ $# -gt 0 ]; do
	case $1 in
	-size | --size) size_arg=${2:?}; shift 2 ;;
	-small | --small) small=${2:?}; shift 2 ;;
	-many | --many) many=${2:?}; shift 2 ;;
	-only | --only) only=${2:?}; shift 2 ;;
	-install-sshfs | --install-sshfs) install_sshfs=1; shift ;;
	-profile | --profile) profile_dir=$(realpath -m -- "${2:?}"); shift 2 ;;
	-no-save | --no-save) save=0; shift ;;
	-h | -help | --help) usage ;;
	*) echo "bench.sh: unknown argument $1" >&2; usage ;;
	esac
done
# numfmt --from=iec: 1G = 2^30, 256M = 2^28, plain numbers are bytes.
size=$(numfmt --from=iec -- "$size_arg") || { echo "bad -size $size_arg" >&2; exit 2; }
mib=$((size / 1048576))
[ "$mib" -ge 1 ] || { echo "-size must be at least 1M" >&2; exit 2; }
size=$((mib * 1048576)) # whole MiB, since dd copies blocks of 1 MiB
[[ $small =~ ^[0-9]+$ && $small -ge 10 ]] || { echo "-small must be a number >= 10" >&2; exit 2; }
[[ $many =~ ^[0-9]+$ && $many -ge 1 ]] || { echo "-many must be a number >= 1" >&2; exit 2; }
systems=()
IFS=, read -r -a want <<<"$only"
for s in local loopback sshfs dfs; do
	for w in "${want[@]}"; do [ "$w" = "$s" ] && systems+=("$s"); done
done
for w in "${want[@]}"; do
	case $w in local | loopback | sshfs | dfs) ;; *) echo "-only: unknown system $w" >&2; exit 2 ;; esac
done
[ ${#systems[@]} -gt 0 ] || { echo "-only names no system" >&2; exit 2; }
has() { [[ " ${systems[*]} " == *" $1 "* ]]; }
tmo=${BENCH_TIMEOUT:-900}
dfs_port=${BENCH_DFS_PORT:-11001}

if [ "$(id -u)" != 0 ]; then
	echo "bench.sh: not root: page caches cannot be dropped and sshd cannot be started;" >&2
	echo "  read figures will come from the cache. Run as root for real figures." >&2
fi

# --- helpers -----------------------------------------------------------

now() { date +%s.%N; }
# elapsed T0 T1: seconds between two `now` readings, 3 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# calc EXPR VARS...: awk arithmetic, e.g. calc 'a/b' a=1 b=2.
calc() {
	local e=$1; shift
	local args=() v
	for v in "$@"; do args+=(-v "$v"); done
	awk "${args[@]}" "BEGIN { printf \"%.2f\", $e }"
}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

can_drop=0
if (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then can_drop=1; fi
drop_caches() {
	sync
	if [ $can_drop = 1 ]; then echo 3 >/proc/sys/vm/drop_caches; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p=$1
	while port_open "$p"; do p=$((p + 1)); done
	echo "$p"
}

# mounted DIR: true if DIR is a mount point in /proc/mounts (field 2).
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
# wait_mounted DIR PID: up to 20 s for DIR to be mounted while PID lives.
wait_mounted() {
	local i
	for ((i = 0; i < 200; i++)); do
		mounted "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
fuse_unmount() {
	mounted "$1" || return 0
	# -u unmounts; -z (lazy) if it is busy, then umount -l as a last resort.
	fusermount3 -u "$1" 2>/dev/null || fusermount -u "$1" 2>/dev/null ||
		fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
}

# rss_kib PID FIELD: VmHWM (peak) or VmRSS (now) of PID in KiB.
rss_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# --- work dir and cleanup ------------------------------------------------

# Not /tmp if it is a tmpfs: the local figures must come from a disk, and a
# 1 GiB file in RAM would also skew the memory of the machine.
base=/var/tmp
if [ "$(df --output=fstype "$base" 2>/dev/null | tail -n 1)" = tmpfs ]; then base=$repo; fi
work=$(mktemp -d "$base/dfs-bench.XXXXXX")
bin=$work/bin
data=$work/dfs-data
dfsmnt=$work/dfs-mnt
loopmnt=$work/loop-mnt
loopsrc=$work/loop-orig
sshmnt=$work/sshfs-mnt
sshsrc=$work/sshfs-orig
sshdir=$work/sshd
loop_pid=
bg_pids=()

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	set +e
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	fuse_unmount "$dfsmnt"
	fuse_unmount "$loopmnt"
	fuse_unmount "$sshmnt"
	if [ -n "$loop_pid" ]; then kill "$loop_pid" 2>/dev/null; fi
	if [ -d "$data" ]; then DFS_PORT=$dfs_port "$repo/scripts/cluster.sh" stop "$data" "$dfsmnt" >/dev/null 2>&1; fi
	if [ -f "$sshdir/sshd.pid" ]; then kill "$(cat "$sshdir/sshd.pid")" 2>/dev/null; fi
	# Never rm -rf through a mount that is still there.
	if awk -v w="$work/" 'index($2, w) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
		echo "bench.sh: something is still mounted under $work; not removing it" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
# A Ctrl-C or kill runs the EXIT trap through exit.
trap 'exit 130' INT
trap 'exit 143' TERM

log "work dir $work (on $(df --output=fstype "$work" | tail -n 1)); caches $([ $can_drop = 1 ] && echo dropped before reads || echo NOT droppable: read figures are cached)"

# --- install and build ---------------------------------------------------

if [ $install_sshfs = 1 ] && has sshfs; then
	if ! command -v sshfs >/dev/null || [ ! -x /usr/sbin/sshd ]; then
		log "installing sshfs and openssh-server"
		# DEBIAN_FRONTEND: no questions. The package may start a system
		# sshd on port 22; the benchmark uses its own one on another port.
		DEBIAN_FRONTEND=noninteractive apt-get install -y sshfs openssh-server >&2 ||
			{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y sshfs openssh-server >&2; }
	fi
fi

log "building dfs and go-fuse's loopback example into $bin"
mkdir -p "$bin"
# cluster.sh builds dfs again into its data folder (a cached no-op then);
# building here first stops the run before any setup if the tree is broken.
(cd "$repo" && go build -o "$bin/" ./cmd/... && go build -o "$bin/loopback" github.com/hanwen/go-fuse/v2/example/loopback)
# The commit, marked dirty if the tree had changes when it was built.
commit=$(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?')
if [ -n "$(cd "$repo" && git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit+=-dirty; fi

# --- inputs, made once and untimed ---------------------------------------

src=$work/src
mkdir -p "$src"
log "making $mib MiB of random bytes and a tarball of $small files of 4 KiB"
# iflag=fullblock: a read of /dev/urandom may return less than 1 MiB.
dd if=/dev/urandom of="$src/big" bs=1M count="$mib" iflag=fullblock status=none
(
	cd "$src"
	for ((d = 0; d < 10; d++)); do mkdir -p "small/d$d"; done
	# One 4 KiB random file per name, dealt out over the 10 folders.
	head -c $((small * 4096)) /dev/urandom | split -a 6 -d -b 4096 - small/tmp.
	i=0
	for f in small/tmp.*; do
		mv "$f" "small/d$((i % 10))/f$(printf %06d "$i")"
		i=$((i + 1))
	done
	tar -cf small.tar small
	rm -rf small
)
sum_big=$(md5sum <"$src/big" | cut -d' ' -f1)
# What the 256 MiB file holds after changes: its first 256 MiB, 4 KiB of
# other bytes at 128 MiB, a line at its end.
dd if=/dev/urandom of="$src/4k" bs=4096 count=1 status=none
[ "$mib" -lt 256 ] || sum_log=$({ head -c $((128 << 20)) "$src/big"; cat "$src/4k"
	head -c $((256 << 20)) "$src/big" | tail -c $(((128 << 20) - 4096)); echo "one more line"; } | md5sum | cut -d' ' -f1)
# Touch the memory the runs will use for page cache once, for every system
# alike: on a VM whose host backs guest memory lazily, the first write into
# never-used memory costs several times more than later ones, and would
# fall on whichever system runs first.
dd if=/dev/zero of="$work/warm" bs=1M count=$((4 * mib)) status=none
rm -f "$work/warm"
sync # so no write below pays for flushing the inputs

# --- per system setup ----------------------------------------------------

declare -A R    # R[system.metric] = figure, "err" or empty
declare -A note # note[system] = why a system has no figures
errors=()       # things that failed or looked wrong, for the report
status=()

setup_local() { mkdir -p "$work/local"; target=$work/local; }

setup_loopback() {
	mkdir -p "$loopmnt" "$loopsrc"
	# -q: no per-request log lines; -directmount: mount(2) as root, as
	# dfsmount does, so fusermount need not be installed. It serves in the
	# foreground: run it in the background and wait for it in /proc/mounts.
	"$bin/loopback" -q -directmount "$loopmnt" "$loopsrc" >"$work/loopback.log" 2>&1 &
	loop_pid=$!
	bg_pids+=("$loop_pid")
	wait_mounted "$loopmnt" "$loop_pid" || { note[loopback]="loopback did not mount: $(tail -n 3 "$work/loopback.log")"; return 1; }
	target=$loopmnt
}

setup_sshfs() {
	if ! command -v sshfs >/dev/null || [ ! -x /usr/sbin/sshd ]; then
		note[sshfs]="not installed (run with -install-sshfs)"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then note[sshfs]="needs root for the throwaway sshd"; return 1; fi
	local port
	mkdir -p "$sshdir" "$sshsrc" "$sshmnt" /run/sshd # sshd wants /run/sshd (privilege separation)
	chmod 700 "$sshdir"
	# -q quiet, -N '' no passphrase.
	ssh-keygen -q -t ed25519 -N '' -f "$sshdir/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$sshdir/user_key"
	cp "$sshdir/user_key.pub" "$sshdir/authorized_keys"
	port=$(free_port 2222)
	cat >"$sshdir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $sshdir/host_key
AuthorizedKeysFile $sshdir/authorized_keys
# We are root; keys only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
# The key files live in a temp dir that sshd's ownership checks may dislike.
StrictModes no
UsePAM no
PidFile $sshdir/sshd.pid
Subsystem sftp internal-sftp
EOF
	# sshd needs an absolute path to itself to re-exec; -f its own config.
	/usr/sbin/sshd -f "$sshdir/sshd_config" -E "$sshdir/sshd.log" ||
		{ note[sshfs]="sshd did not start: $(tail -n 3 "$sshdir/sshd.log")"; return 1; }
	local i
	for ((i = 0; i < 50; i++)); do port_open "$port" && break; sleep 0.1; done
	# IdentityFile: the throwaway key; no host key checks for a throwaway
	# host key and no writes to ~/.ssh/known_hosts.
	sshfs -p "$port" -o "IdentityFile=$sshdir/user_key,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes" \
		"root@127.0.0.1:$sshsrc" "$sshmnt" 2>"$sshdir/sshfs.err" ||
		{ note[sshfs]="sshfs mount failed: $(tail -n 3 "$sshdir/sshfs.err")"; return 1; }
	target=$sshmnt
}

dfs_pprof=
setup_dfs() {
	local flags="-cache $work/dfs-cache" out
	if [ -n "$profile_dir" ]; then
		dfs_pprof=127.0.0.1:$(free_port 11060)
		flags="$flags -pprof $dfs_pprof" # serve net/http/pprof for the profiles
		mkdir -p "$profile_dir"
	fi
	if ! out=$(DFS_PORT=$dfs_port DFSMOUNT_FLAGS=$flags "$repo/scripts/cluster.sh" mount "$data" "$dfsmnt" 2>&1); then
		note[dfs]="cluster or mount failed: $(tail -n 5 <<<"$out")"
		return 1
	fi
	target=$dfsmnt/bench
	mkdir -p "$target" || { note[dfs]="mkdir $target on the mount failed"; return 1; }
}

# The daemon: dfsmount starts a background copy of itself with the same
# arguments and exits once the mount is up.
dfsmount_pid() { pgrep -n -f -- "$data/bin/dfsmount .*$dfsmnt" || true; }
node_pid() { cat "$data/DFS$1.pid" 2>/dev/null || true; }

# --- the workloads ---------------------------------------------------------

# timed VAR CMD...: run CMD under a timeout, store its seconds in VAR. A
# shell function runs in a child bash given its definition, since timeout
# runs programs only. CMD runs in the background and we wait for it: bash
# runs a trap (Ctrl-C, TERM) only after a foreground command ends, but
# interrupts a wait at once; the cleanup then kills it (timeout passes the
# TERM on).
timed() {
	local __v=$1 t0 t1 p; shift
	t0=$(now)
	if [ "$(type -t "$1")" = function ]; then
		timeout "$tmo" bash -c "$(declare -f "$1"); \"\$@\"" _ "$@" &
	else
		timeout "$tmo" "$@" &
	fi
	p=$!
	bg_pids+=("$p")
	wait "$p" || return
	t1=$(now)
	printf -v "$__v" %s "$(elapsed "$t0" "$t1")"
}
fail() { # fail SYSTEM METRIC WHAT
	R[$1.$2]=err
	errors+=("$1: $3")
	log "FAILED: $1: $3"
}

# These take everything as arguments: timed runs them in a child bash.
read_big() { dd if="$1" of=/dev/null bs=1M status=none; } # read_big FILE
tar_x() { tar -xf "$1" -C "$2" && sync; }                 # tar_x TARBALL DIR
rm_tree() { rm -rf "$1" && sync; }                        # rm_tree DIR
cat_small() { cat "$1"/small/d*/f* >/dev/null; }          # cat_small DIR
mk_many() { cd "$1" && seq -f 'f%06g' 1 "$2" | xargs touch; } # mk_many DIR N

sample_pids=()
# cache_kib PID DIR: the KiB on disk of the files PID holds open in DIR
# (the mount's spools are unlinked, so du cannot see them).
cache_kib() {
	local f l b=0 n
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l == "$2"/* ]] || continue
		n=$(stat -L -c '%b*%B' "$f" 2>/dev/null) || continue
		b=$((b + n))
	done
	echo $((b / 1024))
}

# sampler OUT PIDS...: the peak VmRSS (KiB) of each pid every 0.2 s, as
# "pid peak" lines, until killed (on TERM it writes them); with
# SAMPLE_CACHE set, also "cache peak" for the first pid's files open in it.
sampler() {
	local out=$1; shift
	declare -A peak
	local p v stop=0 cpeak=0
	trap 'stop=1' TERM
	while [ $stop = 0 ]; do
		for p in "$@"; do
			v=$(rss_kib "$p" VmRSS)
			[ -n "$v" ] && [ "$v" -gt "${peak[$p]:-0}" ] && peak[$p]=$v
		done
		if [ -n "${SAMPLE_CACHE:-}" ]; then
			v=$(cache_kib "$1" "$SAMPLE_CACHE")
			[ "$v" -gt "$cpeak" ] && cpeak=$v
		fi
		sleep 0.2
	done
	{ for p in "$@"; do echo "$p ${peak[$p]:-0}"; done; echo "cache $cpeak"; } >"$out"
}

run_workloads() { # run_workloads SYSTEM DIR
	local s=$1 d=$2 t mp n sp='' prof_pid=''
	local mbs="$mib*1.048576" # MB (10^6 bytes) in the big file

	log "$s: sequential write of $mib MiB (dd conv=fsync)"
	cat "$src/big" >/dev/null # the source comes from the page cache, not the disk
	sync                      # and nothing else is left to flush when dd fsyncs
	if [ "$s" = dfs ]; then
		mp=$(dfsmount_pid)
		sample_pids=("$mp" "$(node_pid 1)" "$(node_pid 2)" "$(node_pid 3)" "$(node_pid 4)")
		SAMPLE_CACHE=$work/dfs-cache sampler "$work/rss.txt" "${sample_pids[@]}" &
		sp=$!
		bg_pids+=("$sp")
		if [ -n "$dfs_pprof" ]; then
			# A CPU profile for about as long as the write should take.
			n=$((mib / 40)); [ $n -lt 5 ] && n=5; [ $n -gt 60 ] && n=60
			fetch_profile "http://$dfs_pprof/debug/pprof/profile?seconds=$n" "$profile_dir/cpu-write.pb.gz" &
			prof_pid=$!
			bg_pids+=("$prof_pid")
		fi
	fi
	# conv=fsync: fsync the output before dd exits, so the data is durable.
	if timed t dd if="$src/big" of="$d/big" bs=1M conv=fsync status=none; then
		R[$s.write]=$(calc "$mbs/$t" t="$t")
	else fail "$s" write "dd write of $mib MiB failed"; fi
	if [ "$s" = dfs ]; then
		local i p peak hwm
		kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
		# VmHWM is the peak since the process started: the nodes and the
		# mount are fresh, so that peak is the copy's.
		for i in 0 1 2 3 4; do
			p=${sample_pids[$i]}
			hwm=$(rss_kib "$p" VmHWM)
			peak=$(awk -v p="$p" '$1 == p { print $2 }' "$work/rss.txt" 2>/dev/null)
			[ -n "$hwm" ] || hwm=${peak:-0}
			if [ "$i" = 0 ]; then R[dfs.rss_mount]=$(calc 'v/1024' v="$hwm")
			else R[dfs.rss_node$i]=$(calc 'v/1024' v="$hwm"); fi
			R[dfs.rss_sampled$i]=$(calc 'v/1024' v="${peak:-0}")
		done
		peak=$(awk '$1 == "cache" { print $2 }' "$work/rss.txt" 2>/dev/null)
		R[dfs.cache_peak]=$(calc 'v/1024' v="${peak:-0}")
		if [ -n "$dfs_pprof" ]; then
			wait "$prof_pid" || true
			fetch_profile "http://$dfs_pprof/debug/pprof/allocs" "$profile_dir/allocs-after-write.pb.gz"
			fetch_profile "http://$dfs_pprof/debug/pprof/heap" "$profile_dir/heap-after-write.pb.gz"
		fi
	fi

	log "$s: sequential read (caches dropped)"
	drop_caches
	if timed t read_big "$d/big"; then
		R[$s.read]=$(calc "$mbs/$t" t="$t")
	else fail "$s" read "dd read failed"; fi

	if [ "$s" = dfs ]; then
		log "dfs: sequential read with DFS1 stopped (TERM)"
		local pid1
		pid1=$(node_pid 1)
		kill -TERM "$pid1"
		for ((i = 0; i < 100; i++)); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.1; done
		drop_caches
		if timed t read_big "$d/big"; then
			R[dfs.read_down]=$(calc "$mbs/$t" t="$t")
		else fail dfs read_down "dd read with DFS1 down failed"; fi
		# Untimed: is what comes back with a node down the bytes written?
		if [ "$(md5sum <"$d/big" | cut -d' ' -f1)" != "$sum_big" ]; then
			errors+=("dfs: the big file read with DFS1 down differs from what was written")
		fi
		DFS_PORT=$dfs_port "$repo/scripts/cluster.sh" start "$data" >"$work/restart.log" 2>&1 ||
			fail dfs restart "cluster.sh start did not restart DFS1: $(tail -n 3 "$work/restart.log")"
	fi
	rm -f "$d/big"

	changes "$s" "$d"

	log "$s: tar -x of $small files, then sync"
	if timed t tar_x "$src/small.tar" "$d"; then
		R[$s.tar]=$(calc "n/$t" n="$small" t="$t")
	else fail "$s" tar "tar -x failed"; fi

	log "$s: ls -lR, cat of every small file, rm -rf (caches dropped first)"
	drop_caches
	if timed t ls -lR "$d/small" >/dev/null; then R[$s.lsR]=$t; else fail "$s" lsR "ls -lR failed"; fi
	drop_caches
	if timed t cat_small "$d"; then R[$s.cat]=$t; else fail "$s" cat "cat of the small files failed"; fi
	drop_caches
	if timed t rm_tree "$d/small"; then R[$s.rm]=$t; else fail "$s" rm "rm -rf failed"; fi

	log "$s: ls -l of one folder of $many files"
	mkdir -p "$d/many"
	if timed t mk_many "$d/many" "$many"; then
		R[$s.many_create]=$t
		drop_caches
		if timed t ls -l "$d/many" >"$work/ls.out"; then
			R[$s.ls10k]=$t
			n=$(($(wc -l <"$work/ls.out") - 1)) # minus the "total" line
			[ "$n" = "$many" ] || errors+=("$s: ls -l of the many-files folder listed $n files, not $many")
		else fail "$s" ls10k "ls -l failed"; fi
	else fail "$s" ls10k "creating $many empty files failed"; fi
	# No rm -rf of the folder: it goes with the work dir (and the cluster),
	# and on dfs it would take minutes.
}

# changes SYSTEM DIR: what a change to a big file costs. A 256 MiB file
# (untimed), one line appended to it, 4 KiB overwritten in its middle with
# fsync, then truncate -s 10G of a new file (on dfs also the bytes that
# took on the nodes' disks); the changed file is then compared with what it
# should hold.
append_line() { echo "one more line" >>"$1"; } # append_line FILE
changes() {
	local s=$1 d=$2 t before after
	if [ "$mib" -lt 256 ]; then
		log "$s: no changes workload: it needs -size of at least 256M"
		return
	fi
	log "$s: changes to a 256 MiB file: append a line, overwrite 4 KiB + fsync; truncate -s 10G"
	if ! dd if="$src/big" of="$d/log" bs=1M count=256 conv=fsync status=none 2>/dev/null; then
		fail "$s" append "writing the 256 MiB file failed"
		return
	fi
	if timed t append_line "$d/log"; then R[$s.append]=$t; else fail "$s" append "append failed"; fi
	if timed t dd if="$src/4k" of="$d/log" bs=4096 count=1 seek=32768 conv=notrunc,fsync status=none; then
		R[$s.overwrite]=$t
	else fail "$s" overwrite "4 KiB overwrite failed"; fi
	drop_caches
	if [ "$(md5sum <"$d/log" | cut -d' ' -f1)" != "$sum_log" ]; then
		errors+=("$s: the 256 MiB file after the append and the overwrite differs from what was written")
	fi
	rm -f "$d/log"
	[ "$s" = dfs ] && before=$(du -sk "$data" | cut -f1)
	if timed t truncate -s 10G "$d/sparse"; then R[$s.truncate]=$t; else fail "$s" truncate "truncate -s 10G failed"; fi
	if [ "$s" = dfs ]; then
		sync
		after=$(du -sk "$data" | cut -f1)
		R[dfs.truncate_kib]=$((after - before))
	fi
	rm -f "$d/sparse"
}

fetch_profile() { # fetch_profile URL FILE
	if command -v curl >/dev/null; then
		curl -sf -o "$2" "$1" || log "profile $1 failed"
	else
		# go tool pprof -proto fetches the URL and writes the profile as is.
		(cd "$repo" && go tool pprof -proto "$1" >"$2" 2>/dev/null) || log "profile $1 failed"
	fi
}

# --- run -------------------------------------------------------------------

for s in "${systems[@]}"; do
	target=
	if "setup_$s"; then
		log "$s: running in $target"
		run_workloads "$s" "$target"
		status+=("$s")
	else
		log "$s: ${note[$s]}"
	fi
done

if has dfs && [ -d "$work/dfs-cache" ]; then
	# The mount's own log: any error or warning it wrote during the run.
	while IFS= read -r line; do errors+=("dfsmount log: $line"); done < <(
		grep -hiE 'level=(ERROR|WARN)' "$work/dfs-cache"/*.log 2>/dev/null | head -n 20 || true)
	for n in 1 2 3 4; do
		while IFS= read -r line; do errors+=("DFS$n log: $line"); done < <(
			grep -hiE 'level=(ERROR|WARN)|panic' "$data/DFS$n.log" 2>/dev/null | head -n 10 || true)
	done
fi

# --- report ---------------------------------------------------------------

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
metrics=(write read read_down append overwrite truncate tar lsR cat rm ls10k)
# Throughputs are better high, times better low: ratios are dfs/other for
# the former and other/dfs for the latter, so > 1 always means dfs is better.
declare -A higher=([write]=1 [read]=1 [read_down]=1 [tar]=1)
heads=("write MB/s" "read MB/s" "read 1 down MB/s" "append s" "4k+fsync s" "trunc 10G s" "tar files/s" "ls -lR s" "cat s" "rm -rf s" "ls -l ${many} s")

ratio() { # ratio METRIC OTHER_SYSTEM: empty if either figure is missing
	local m=$1 a=${R[dfs.$1]:-} b=${R[$2.$1]:-}
	[[ $a =~ ^[0-9.]+$ && $b =~ ^[0-9.]+$ ]] || return 0
	awk -v a="$a" -v b="$b" -v h="${higher[$m]:-0}" 'BEGIN {
		if (h) { if (b > 0) printf "%.2f", a / b }
		else if (a > 0) printf "%.2f", b / a
		else if (b > 0) printf "inf" }'
}

report() {
	local s m row
	echo "dfs benchmark $stamp on $(hostname), $(nproc) cores, kernel $(uname -r), commit $commit"
	echo "big file $mib MiB, $small small files of 4 KiB, $many files in one folder; MB = 10^6 bytes; times in seconds"
	[ $can_drop = 1 ] || echo "NOTE: page caches could not be dropped: read, cat and ls figures are from the cache"
	echo
	{
		printf 'system'
		for m in "${heads[@]}"; do printf '\t%s' "$m"; done
		printf '\tRSS dfsmount / nodes MiB\n'
		for s in local loopback sshfs dfs; do
			has "$s" || continue
			[ -z "${note[$s]:-}" ] || continue # listed below the table
			row=$s
			for m in "${metrics[@]}"; do row+=$'\t'${R[$s.$m]:--}; done
			if [ "$s" = dfs ]; then
				row+=$'\t'"${R[dfs.rss_mount]:--} / ${R[dfs.rss_node1]:--} ${R[dfs.rss_node2]:--} ${R[dfs.rss_node3]:--} ${R[dfs.rss_node4]:--}"
			else row+=$'\t-'; fi
			echo "$row"
		done
	} | column -t -s $'\t' # column -t: align the tab-separated cells
	for s in local loopback sshfs dfs; do
		if has "$s" && [ -n "${note[$s]:-}" ]; then printf '%-10s%s\n' "$s" "${note[$s]}"; fi
	done
	echo
	local o
	for o in sshfs loopback; do
		if ! has dfs || ! has "$o"; then continue; fi
		if [ -n "${note[$o]:-}" ] || [ -n "${note[dfs]:-}" ]; then continue; fi
		row="dfs vs $o:"
		for m in "${metrics[@]}"; do
			[ "$m" = read_down ] && continue
			row+=" $m $(ratio "$m" "$o" | sed 's/^$/-/')x"
		done
		echo "$row"
	done
	if has dfs && [ -z "${note[dfs]:-}" ]; then
		echo "(ratios: throughputs dfs/other, times other/dfs: > 1 means dfs is faster)"
	fi
	has dfs && [ -z "${note[dfs]:-}" ] && echo "peak RSS sampled every 0.2 s during the write (MiB): dfsmount ${R[dfs.rss_sampled0]:--}, nodes ${R[dfs.rss_sampled1]:--} ${R[dfs.rss_sampled2]:--} ${R[dfs.rss_sampled3]:--} ${R[dfs.rss_sampled4]:--}; creating the $many empty files took ${R[dfs.many_create]:--} s (local ${R[local.many_create]:--} s)"
	echo
	targets
	if [ ${#errors[@]} -gt 0 ]; then
		echo
		echo "problems seen during the run:"
		printf '  %s\n' "${errors[@]}"
	fi
}

T=() # "name|verdict|figure" for the JSON
target() { # target NAME OK FIGURE
	local v=missed
	# A missing comparison: "no sshfsx" reads badly.
	set -- "$1" "$2" "$(sed -E 's/^(no [a-z]+)x/\1/' <<<"$3")"
	case $2 in 1) v=met ;; na) v=n/a ;; esac
	T+=("$1|$v|$3")
	printf '  %-36s %-6s %s\n' "$1" "$v" "$3"
}
# check RATIO MIN: 1 if RATIO >= MIN, na if there is no ratio.
check() {
	[ -n "$1" ] || { echo na; return; }
	awk -v r="$1" -v m="$2" 'BEGIN { print (r == "inf" || r + 0 >= m + 0) ? 1 : 0 }'
}
targets() {
	has dfs && [ -z "${note[dfs]:-}" ] || return 0
	local r n i ok fig
	echo "targets:"
	r=$(ratio write sshfs); target "write >= 1.5x sshfs" "$(check "$r" 1.5)" "${r:-no sshfs}x"
	r=$(ratio write loopback); target "write >= 0.35x loopback" "$(check "$r" 0.35)" "${r:-no loopback}x"
	r=$(ratio read sshfs); target "read >= 3x sshfs" "$(check "$r" 3)" "${r:-no sshfs}x"
	r=$(ratio read loopback); target "read >= 0.6x loopback" "$(check "$r" 0.6)" "${r:-no loopback}x"
	r=
	if [[ ${R[dfs.read_down]:-} =~ ^[0-9.]+$ && ${R[dfs.read]:-} =~ ^[0-9.]+$ ]]; then
		r=$(calc 'a/b' a="${R[dfs.read_down]}" b="${R[dfs.read]}")
	fi
	target "read 1 node down >= 0.7x all up" "$(check "$r" 0.7)" "${r:--}x"
	r=$(ratio tar sshfs); target "tar >= 2x sshfs files/s" "$(check "$r" 2)" "${r:-no sshfs}x"
	r=$(ratio lsR sshfs); target "ls -lR no slower than sshfs" "$(check "$r" 1)" "${r:-no sshfs}x (sshfs time / dfs time)"
	r=$(ratio rm sshfs); target "rm -rf no slower than sshfs" "$(check "$r" 1)" "${r:-no sshfs}x (sshfs time / dfs time)"
	r=$(ratio append sshfs); target "append a line <= 3x sshfs's time" "$(check "$r" 0.3333)" "${r:-no sshfs}x (sshfs time / dfs time)"
	r=$(ratio overwrite sshfs); target "4 KiB overwrite+fsync <= 5x sshfs's" "$(check "$r" 0.2)" "${r:-no sshfs}x (sshfs time / dfs time)"
	fig=${R[dfs.truncate]:-} n=${R[dfs.truncate_kib]:-}
	if [[ $fig =~ ^[0-9.]+$ && $n =~ ^-?[0-9]+$ ]]; then ok=$(awk -v t="$fig" -v k="$n" 'BEGIN { print (t < 1 && k < 1024) }'); else ok=0; fi
	target "truncate -s 10G < 1 s, < 1 MiB stored" "$ok" "${fig:--} s, ${n:--} KiB on the nodes"
	fig=${R[dfs.cache_peak]:-}
	if [[ $fig =~ ^[0-9.]+$ ]]; then ok=$(awk -v t="$fig" 'BEGIN { print (t <= 64) }'); else ok=0; fi
	target "cache folder peak <= 64 MiB" "$ok" "${fig:--} MiB during the write"
	fig=${R[dfs.ls10k]:-}
	if [[ $fig =~ ^[0-9.]+$ ]]; then ok=$(awk -v t="$fig" 'BEGIN { print (t < 0.5) }'); else ok=0; fi
	target "ls -l of $many files < 0.5 s" "$ok" "${fig:--} s"
	fig=${R[dfs.rss_mount]:-}
	if [[ $fig =~ ^[0-9.]+$ ]]; then ok=$(awk -v t="$fig" 'BEGIN { print (t < 100) }'); else ok=0; fi
	target "dfsmount RSS < 100 MiB" "$ok" "${fig:--} MiB"
	ok=1 n=
	for i in 1 2 3 4; do
		fig=${R[dfs.rss_node$i]:-}
		n+=" ${fig:--}"
		[[ $fig =~ ^[0-9.]+$ ]] && [ "$(awk -v t="$fig" 'BEGIN { print (t < 64) }')" = 1 ] || ok=0
	done
	target "each node RSS < 64 MiB" "$ok" "${n# } MiB"
}

json_str() { jq -Rn --arg s "$1" '$s' 2>/dev/null || printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
json_num() { if [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then echo "$1"; else echo null; fi; }
to_json() {
	local s m first=1 k t
	echo "{"
	echo "  \"stamp\": \"$stamp\","
	echo "  \"commit\": $(json_str "$commit"),"
	echo "  \"host\": $(json_str "$(hostname)"), \"cores\": $(nproc), \"kernel\": $(json_str "$(uname -r)"),"
	echo "  \"size_bytes\": $size, \"small_files\": $small, \"many_files\": $many, \"caches_dropped\": $([ $can_drop = 1 ] && echo true || echo false),"
	echo "  \"units\": {\"write\": \"MB/s\", \"read\": \"MB/s\", \"read_down\": \"MB/s\", \"append\": \"s\", \"overwrite\": \"s\", \"truncate\": \"s\", \"truncate_kib\": \"KiB\", \"cache_peak\": \"MiB\", \"tar\": \"files/s\", \"lsR\": \"s\", \"cat\": \"s\", \"rm\": \"s\", \"ls10k\": \"s\", \"many_create\": \"s\", \"rss\": \"MiB\"},"
	echo "  \"systems\": {"
	for s in local loopback sshfs dfs; do
		has "$s" || continue
		[ $first = 1 ] || echo ","
		first=0
		printf '    "%s": {' "$s"
		if [ -n "${note[$s]:-}" ]; then
			printf '"note": %s}' "$(json_str "${note[$s]}")"
			continue
		fi
		k=
		for m in "${metrics[@]}" many_create; do k+="\"$m\": $(json_num "${R[$s.$m]:-}"), "; done
		if [ "$s" = dfs ]; then
			k+="\"truncate_kib\": $(json_num "${R[dfs.truncate_kib]:-}"), \"cache_peak\": $(json_num "${R[dfs.cache_peak]:-}"), "
			k+="\"rss_dfsmount\": $(json_num "${R[dfs.rss_mount]:-}"), \"rss_nodes\": [$(json_num "${R[dfs.rss_node1]:-}"), $(json_num "${R[dfs.rss_node2]:-}"), $(json_num "${R[dfs.rss_node3]:-}"), $(json_num "${R[dfs.rss_node4]:-}")], "
		fi
		printf '%s}' "${k%, }"
	done
	echo
	echo "  },"
	echo "  \"ratios\": {"
	first=1
	for s in sshfs loopback; do
		if ! has "$s" || ! has dfs || [ -n "${note[$s]:-}" ] || [ -n "${note[dfs]:-}" ]; then continue; fi
		[ $first = 1 ] || echo ","
		first=0
		k=
		for m in "${metrics[@]}"; do [ "$m" = read_down ] || k+="\"$m\": $(json_num "$(ratio "$m" "$s")"), "; done
		printf '    "dfs_vs_%s": {%s}' "$s" "${k%, }"
	done
	echo
	echo "  },"
	echo "  \"targets\": ["
	first=1
	for t in "${T[@]}"; do
		[ $first = 1 ] || echo ","
		first=0
		IFS='|' read -r k m s <<<"$t"
		printf '    {"target": %s, "verdict": "%s", "figure": %s}' "$(json_str "$k")" "$m" "$(json_str "$s")"
	done
	echo
	echo "  ],"
	echo "  \"problems\": ["
	first=1
	for t in "${errors[@]}"; do
		[ $first = 1 ] || echo ","
		first=0
		printf '    %s' "$(json_str "$t")"
	done
	echo
	echo "  ]"
	echo "}"
}

out_txt=$work/report.txt
report >"$out_txt"
echo
cat "$out_txt"
if [ $save = 1 ]; then
	mkdir -p "$repo/docs/bench"
	cp "$out_txt" "$repo/docs/bench/$stamp.txt"
	to_json >"$repo/docs/bench/$stamp.json"
	echo
	echo "saved docs/bench/$stamp.txt and docs/bench/$stamp.json"
fi
