# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# NBD servers for the storage tests (source it; bash): nbdkit on a Unix
# socket or on 127.0.0.1 at a port picked free, one server at a time.
# nbdkit forks into the background: the server is not the shell's child, so
# its pid comes from its pid file and its end is polled for.
#
#   nbd_start SOCK ARGS...   nbdkit ARGS (plugin and its parameters) on the
#                            Unix socket SOCK (a stale one removed first);
#                            sets NBD_PID and NBD_PIDFILE (SOCK.pid).  1 when
#                            it did not come up
#   nbd_start_tcp PIDFILE ARGS...
#                            the same on 127.0.0.1 at a free port (random
#                            ones tried until nbdkit can bind one); sets
#                            NBD_PORT too.  NBD_PORT set beforehand: that
#                            port, no other (a restarted server)
#   nbd_stop                 SIGTERM NBD_PID and wait until it is gone (5 s);
#                            also for a server the caller started itself
#                            (qemu-nbd &) with NBD_PID set

NBD_PID=
NBD_PIDFILE=
NBD_PORT=

# nbd_wait_pidfile: the forked server wrote its pid file (5 s at most).
nbd_wait_pidfile()
{
	for _ in $(seq 1 100); do
		[ -s "$NBD_PIDFILE" ] && break
		sleep 0.05
	done
	[ -s "$NBD_PIDFILE" ] || return 1
	NBD_PID=$(cat "$NBD_PIDFILE")
}

nbd_start()
{
	local sock=$1
	shift
	rm -f "$sock" "$sock.pid"
	NBD_PIDFILE=$sock.pid
	nbdkit -U "$sock" -P "$NBD_PIDFILE" "$@" || return 1
	nbd_wait_pidfile || return 1
	for _ in $(seq 1 100); do
		[ -S "$sock" ] && return 0
		sleep 0.05
	done
	return 1
}

nbd_start_tcp()
{
	local pidfile=$1 fixed=$NBD_PORT
	shift
	NBD_PIDFILE=$pidfile
	for _ in $(seq 1 20); do
		rm -f "$pidfile"
		NBD_PORT=${fixed:-$((20000 + RANDOM % 30000))}
		# nbdkit binds before it forks: a port in use fails here, at once.
		if nbdkit -i 127.0.0.1 -p "$NBD_PORT" -P "$pidfile" "$@" 2>>"$pidfile.log"; then
			nbd_wait_pidfile
			return
		fi
		[ -z "$fixed" ] || sleep 0.2
	done
	return 1
}

nbd_stop()
{
	[ -n "$NBD_PID" ] || return 0
	kill "$NBD_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$NBD_PID" 2>/dev/null || break
		sleep 0.1
	done
	# A server started as the shell's child (qemu-nbd &) is reaped too.
	wait "$NBD_PID" 2>/dev/null || true
	NBD_PID=
}
