# Helpers of the reliability tests (sourced after tests/lib.sh).

# start_storm MODES...: starts tests/py/storm.py (see there) with its
# standard output in $T/victim.out; sets VPID, keeps the control FIFO on
# fd 9 so that victim_cmd and victim_check work.  STORM_WRAP, if set, is
# a command prefix (setpriv ...).
start_storm() {
	rm -f "$T/ctl" "$T/ready"
	mkfifo -m 666 "$T/ctl"
	# shellcheck disable=SC2086
	start_victim VPID ${STORM_WRAP:-} "${STORM_PY:-/usr/bin/python3}" \
		"$SRCDIR/tests/py/storm.py" "$T/ctl" "$T/ready" "$@" \
		>"$T/victim.out"
	exec 9<>"$T/ctl"
	wait_for_file "$T/ready" 60
	VPID=$(cat "$T/ready")
}

# leftovers PID: prints what of muppy-snap is in the process (a payload
# mapping or memfd, a socket, a traced or stopped thread); nothing if
# nothing.
leftovers() {
	grep -q 'muppy-snap' "/proc/$1/maps" && echo "mapping"
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q -e 'memfd:muppy' && echo "memfd"
	ls -l "/proc/$1/fd" 2>/dev/null | grep -q 'socket:' && echo "socket"
	for _s in /proc/"$1"/task/*/status; do
		grep -q '^TracerPid:[[:space:]]*0$' "$_s" || echo "traced"
		grep -q '^State:[[:space:]]*[tT]' "$_s" && echo "stopped"
	done
	return 0
}

# wait_clean PID THREADS [SECONDS]: waits until nothing of muppy-snap is
# left in the process and it has THREADS threads (0: any number).
wait_clean() {
	_n=$(( ${3:-12} * 20 ))
	while :; do
		_left=$(leftovers "$1" | sort -u | tr '\n' ' ')
		_nt=$(ls "/proc/$1/task" | wc -l)
		if [ -z "$_left" ] && { [ "$2" = 0 ] || [ "$_nt" = "$2" ]; }; then
			return 0
		fi
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || fail "left in process $1: $_left(threads $_nt, want $2)"
		sleep 0.05
	done
}

# threads PID: how many threads it has.
threads() { ls "/proc/$1/task" | wc -l; }
