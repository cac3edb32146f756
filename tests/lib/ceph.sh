# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# A throwaway Ceph cluster for the tests (source it; bash): one ceph-mon and
# one ceph-osd (memstore: the data lives in the OSD's memory), auth none,
# pools of size 1, everything under one directory, the monitor on ports
# picked free at random.  Debian's ceph 16.2 packages; it comes up in a few
# seconds.  Run the tests that use it under flock /tmp/pvio-global.lock.
#
#   ceph_can                 0 when the ceph binaries are installed, else
#                            prints what is missing
#   ceph_start DIR           start a cluster in DIR (created); sets
#                            CEPH_CONF (DIR/ceph.conf) and CEPH_DIR; a pool
#                            "rbd" is ready for images (no mgr: ceph -s
#                            warns, which is fine).  1 on failure (the
#                            logs are in DIR/log)
#   ceph_cmd ARGS...         ceph -c $CEPH_CONF ARGS
#   ceph_rbd ARGS...         rbd -c $CEPH_CONF ARGS
#   ceph_osd_stop            SIGTERM the OSD and wait for it to exit
#   ceph_osd_start           start the OSD again (memstore saves its data
#                            on a clean stop and loads it back:
#                            osd fast shutdown is off)
#   ceph_stop                stop the daemons (ceph_start registers it at exit
#                            with pvt_at_exit when tests/lib/lib.sh is loaded)

CEPH_DIR=
CEPH_CONF=
CEPH_MON_PID=
CEPH_OSD_PID=

ceph_can()
{
	local c
	for c in ceph-mon ceph-osd ceph monmaptool rbd; do
		command -v "$c" >/dev/null 2>&1 || {
			echo "$c not installed (scripts/deps.sh installs ceph-mon, ceph-osd, ceph-common)"
			return 1
		}
	done
}

# A TCP port on 127.0.0.1 that nothing listens on.
ceph_free_port()
{
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

ceph_cmd()
{
	timeout 30 ceph -c "$CEPH_CONF" "$@"
}

ceph_rbd()
{
	timeout 60 rbd -c "$CEPH_CONF" "$@"
}

ceph_osd_start()
{
	ceph-osd -f -i 0 -c "$CEPH_CONF" >>"$CEPH_DIR/log/osd.0.out" 2>&1 &
	CEPH_OSD_PID=$!
}

# (From a subshell too: the OSD is not its child, so its exit is polled.)
ceph_osd_stop()
{
	[ -n "$CEPH_OSD_PID" ] || return 0
	kill -TERM "$CEPH_OSD_PID" 2>/dev/null
	for _ in $(seq 1 300); do
		kill -0 "$CEPH_OSD_PID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$CEPH_OSD_PID" 2>/dev/null
	CEPH_OSD_PID=
}

ceph_stop()
{
	ceph_osd_stop
	if [ -n "$CEPH_MON_PID" ]; then
		kill -TERM "$CEPH_MON_PID" 2>/dev/null
		wait "$CEPH_MON_PID" 2>/dev/null
		CEPH_MON_PID=
	fi
}

# ceph_wait_ready SECS: the pool answers (its PGs are active) within SECS.
# There is no mgr, so no `ceph pg stat`: listing the pool's images reads an
# object of it, which waits until its PG is active.
ceph_wait_ready()
{
	local secs=$1 start=$SECONDS
	while ((SECONDS - start < secs)); do
		timeout 5 rbd -c "$CEPH_CONF" ls rbd >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

ceph_start()
{
	local dir=$1 fsid p1 p2 i uuid
	CEPH_DIR=$dir
	CEPH_CONF=$dir/ceph.conf
	mkdir -p "$dir/log" "$dir/run" "$dir/mon.a" "$dir/osd.0"
	fsid=$(cat /proc/sys/kernel/random/uuid)
	p1=$(ceph_free_port) && p2=$(ceph_free_port) || return 1
	cat >"$CEPH_CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 1073741824
osd data = $dir/\$name
mon data = $dir/\$name
mgr data = $dir/\$name
osd max object name len = 256
osd max object namespace len = 64
osd op num shards = 1
osd fast shutdown = false
osd op num threads per shard = 2
[mon.a]
mon addr = [v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]
EOF
	ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' \
		>/dev/null &&
		monmaptool --create --addv a "[v2:127.0.0.1:$p2,v1:127.0.0.1:$p1]" --fsid "$fsid" \
			"$dir/monmap" >/dev/null &&
		ceph-mon --mkfs -i a -c "$CEPH_CONF" --monmap "$dir/monmap" \
			--keyring "$dir/keyring" >>"$dir/log/mkfs.out" 2>&1 || return 1
	ceph-mon -f -i a -c "$CEPH_CONF" >>"$dir/log/mon.a.out" 2>&1 &
	CEPH_MON_PID=$!
	declare -F pvt_at_exit >/dev/null && pvt_at_exit ceph_stop
	for ((i = 0; i < 40; i++)); do
		ceph_cmd mon stat >/dev/null 2>&1 && break
		sleep 0.25
	done
	uuid=$(cat /proc/sys/kernel/random/uuid)
	ceph_cmd osd new "$uuid" 0 >/dev/null &&
		ceph-osd -i 0 -c "$CEPH_CONF" --mkfs --osd-uuid "$uuid" \
			>>"$dir/log/mkfs.out" 2>&1 || return 1
	ceph_osd_start
	ceph_cmd osd pool create rbd 8 >/dev/null 2>&1 &&
		ceph_cmd osd pool application enable rbd rbd >/dev/null 2>&1 || return 1
	ceph_wait_ready 60
}
