# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Start a vhost-user block back-end on a unix socket and wait until it
# listens; source this file (after lib.sh).  The VM tests switch back-ends
# by the KIND argument alone:
#
#   vm_backend_blk_start KIND SOCKET IMAGE [readonly=on] [queues=N]
#                        [poll=MODE] [rpc=PATH] [in-order=on]   (the last
#                        three pviod's: --poll MODE, --rpc PATH, its control
#                        socket, and the device's in-order=on, VIRTIO_F_IN_ORDER)
#   ...boot the guest with run.sh --vhost-user-blk SOCKET,num-queues=N...
#   vm_backend_stop_all            (also call it from the test's EXIT trap)
#
# KIND: qsd    qemu-storage-daemon --export type=vhost-user-blk
#       pviod  pvio's daemon: pviod --device blk,socket=,file=,queues=
#              (binary: $PVIO_PVIOD, else build/pviod, else backend/pviod)
#
# The back-end's stdout and stderr go to SOCKET.log; vm_backend_log SOCKET
# prints it.  A back-end that exits non-zero or does not stop on SIGTERM
# within 10 s makes vm_backend_stop_all return 1.

VM_BACKEND_PIDS=()
VM_BACKEND_NAMES=()

# vm_pviod: path of the pviod binary, or nothing (returns 1).
vm_pviod()
{
	local p
	for p in "${PVIO_PVIOD:-}" "$VM_TOP/build/pviod" "$VM_TOP/backend/pviod"; do
		if [ -n "$p" ] && [ -x "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# vm_backend_can KIND: 0 when that back-end can be started here, else prints
# why and returns 1 (the tests SKIP on it).
vm_backend_can()
{
	case $1 in
	qsd)
		command -v qemu-storage-daemon >/dev/null 2>&1 && return 0
		echo "qemu-storage-daemon not installed (qemu-system-common)"
		;;
	pviod)
		vm_pviod >/dev/null && return 0
		echo "pviod not built (make; or set PVIO_PVIOD)"
		;;
	*) echo "unknown back-end '$1' (qsd or pviod)" ;;
	esac
	return 1
}

vm_backend_blk_start()
{
	local kind=$1 sock=$2 img=$3 o ro=off queues=1 inorder='' pid
	local cmd=() opts=()
	shift 3
	for o in "$@"; do
		case $o in
		readonly=on | readonly=off) ro=${o#readonly=} ;;
		queues=*) queues=${o#queues=} ;;
		in-order=on | in-order=off)
			[ "$kind" = pviod ] || {
				vm_log "vm_backend_blk_start: $o is pviod's"
				return 2
			}
			inorder=,$o
			;;
		poll=* | rpc=*)
			[ "$kind" = pviod ] || {
				vm_log "vm_backend_blk_start: $o is pviod's"
				return 2
			}
			opts+=("--${o%%=*}" "${o#*=}")
			;;
		*)
			vm_log "vm_backend_blk_start: unknown option '$o'"
			return 2
			;;
		esac
	done
	[ -e "$img" ] || {
		vm_log "back-end image $img: no such file"
		return 1
	}
	rm -f "$sock"
	case $kind in
	qsd)
		local writable=on
		[ "$ro" = on ] && writable=off
		cmd=(qemu-storage-daemon
			--blockdev "driver=file,node-name=file0,filename=$img,discard=unmap,read-only=$ro"
			--blockdev "driver=raw,node-name=disk0,file=file0,discard=unmap,read-only=$ro"
			--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=$writable,num-queues=$queues")
		;;
	pviod)
		local bin
		bin=$(vm_pviod) || {
			vm_log "pviod not built (make; or set PVIO_PVIOD)"
			return 1
		}
		local dev="blk,socket=$sock,file=$img,queues=$queues"
		[ "$ro" = on ] && dev+=",readonly=on"
		dev+=$inorder
		cmd=("$bin" --device "$dev" "${opts[@]}")
		;;
	*)
		vm_log "unknown back-end '$kind' (qsd or pviod)"
		return 2
		;;
	esac
	"${cmd[@]}" </dev/null >"$sock.log" 2>&1 &
	pid=$!
	VM_BACKEND_PIDS+=("$pid")
	VM_BACKEND_NAMES+=("$kind:$sock")
	if ! vm_wait_socket "$sock" 15 "$pid"; then
		vm_log "$kind failed to start: ${cmd[*]}"
		sed 's/^/#   /' "$sock.log" >&2
		return 1
	fi
	return 0
}

vm_backend_log()
{
	[ -f "$1.log" ] && sed 's/^/#   /' "$1.log" >&2
	return 0
}

# Stop every back-end started by this shell; 1 if one misbehaved.
vm_backend_stop_all()
{
	local i pid rc=0 st
	for i in "${!VM_BACKEND_PIDS[@]}"; do
		pid=${VM_BACKEND_PIDS[$i]}
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 200); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.05
			done
			if kill -0 "$pid" 2>/dev/null; then
				vm_log "${VM_BACKEND_NAMES[$i]} ignored SIGTERM for 10 s; killed"
				kill -KILL "$pid" 2>/dev/null || true
				rc=1
			fi
		fi
		st=0
		wait "$pid" 2>/dev/null || st=$?
		# 143: it died of our SIGTERM without a handler; qsd does that.
		if [ "$st" != 0 ] && [ "$st" != 143 ]; then
			vm_log "${VM_BACKEND_NAMES[$i]} exited with status $st"
			rc=1
		fi
	done
	VM_BACKEND_PIDS=()
	VM_BACKEND_NAMES=()
	return "$rc"
}
