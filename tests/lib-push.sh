# tests/lib-push.sh: the local servers of the aiops-push tests (t4100, t4110, t4120).
# Sourced after lib.sh, once the script knows it will run (after any test_skip_all):
#
#	. "$(dirname "$0")/lib.sh"
#	...
#	. "$TEST_DIRECTORY/lib-push.sh"
#
# Its name does not match tests/t[0-9]*.sh, so prove does not run it.
#
# Sourcing empties PIDFILE ($TRASH_DIRECTORY.out/servers.pids, one pid a line, of the
# servers still running), starts a watchdog that kills them if the script dies without
# running its traps, and sets traps on EXIT (stop_all, then lib.sh's exit trap), INT, TERM
# and HUP that stop them. Servers write to $TRASH_DIRECTORY.out/servers.log.
#
#   free_port              print a free TCP port of 127.0.0.1
#   start_bg CMD...        run a server in the background; bg_pid gets its pid
#   stop_pid PID           stop one server (TERM, then KILL after 5 s), wait for it, and
#                          drop it from PIDFILE
#   stop_all               stop every server in PIDFILE and the watchdog
#   wait_port_file FILE    wait (10 s at most) for a helper to write its port; print it
#   sha FILE               "sha256:HEX" of FILE
# shellcheck shell=sh

PIDFILE=$TRASH_DIRECTORY.out/servers.pids
: >"$PIDFILE"

free_port () {
	"$PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
'
}

start_bg () {
	"$@" </dev/null >>"$TRASH_DIRECTORY.out/servers.log" 2>&1 7>&- 8>&- &
	bg_pid=$!
	echo "$bg_pid" >>"$PIDFILE"
}

stop_pid () {
	kill "$1" 2>/dev/null
	sp_n=0
	while kill -0 "$1" 2>/dev/null && test $sp_n -lt 50
	do
		sleep 0.1
		sp_n=$((sp_n + 1))
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	grep -v -x "$1" "$PIDFILE" >"$PIDFILE.new"
	mv "$PIDFILE.new" "$PIDFILE"
	return 0
}

stop_all () {
	for sa_p in $(cat "$PIDFILE" 2>/dev/null)
	do
		stop_pid "$sa_p"
	done
	if test -n "$watch_pid"
	then
		kill "$watch_pid" 2>/dev/null
		wait "$watch_pid" 2>/dev/null
		watch_pid=
	fi
	return 0
}

# A watchdog stops the servers if this shell dies without running its traps.
(
	while kill -0 $$ 2>/dev/null
	do
		sleep 1
	done
	for p in $(cat "$PIDFILE" 2>/dev/null)
	do
		kill "$p" 2>/dev/null
	done
) </dev/null >/dev/null 2>&1 7>&- 8>&- &
watch_pid=$!
# shellcheck disable=SC2154
trap 'st_=$?; stop_all; (exit $st_); test_exit_trap_' EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all; exit 129' HUP

wait_port_file () {
	wp_n=0
	while ! test -s "$1" && test $wp_n -lt 100
	do
		sleep 0.1
		wp_n=$((wp_n + 1))
	done
	cat "$1"
}

sha () {
	echo "sha256:$(sha256sum <"$1" | cut -d" " -f1)"
}
