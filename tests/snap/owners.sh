# Helpers for the --owners tests (tests/snap/owners*.test); source after
# tests/lib.sh.
#
#   start_owners_victim PYTHON [HOLD]   starts tests/py/owners.py, sets VPID and
#       waits until it has written its reference ($T/ref.json), its pid
#       ($T/ready) and "ready" on its standard output ($T/victim.out); a
#       victim that exits first (3: its reference is not what it built,
#       said on $T/victim.err) fails the test.  It then sleeps until
#       killed, its heap unchanged (take snapshots with --no-gc).  With
#       HOLD, its main thread first keeps the GIL HOLD seconds in a
#       system call (ctypes.PyDLL's sleep): the walk runs on that thread.
#   stop_owners_victim PYTHON    fails unless it is still waiting, then
#       kills and reaps it.

start_owners_victim() {
	rm -f "$T/ref.json" "$T/ready" "$T/victim.out" "$T/victim.err"
	start_victim VPID "$1" "$SRCDIR/tests/py/owners.py" "$T/ref.json" \
		"$T/ready" ${2:+"$2"} >"$T/victim.out" 2>"$T/victim.err" </dev/null
	_n=1200
	while [ ! -s "$T/ready" ]; do
		if ! kill -0 "$VPID" 2>/dev/null; then
			cat "$T/victim.err" >&2
			fail "$1: owners.py exited before it was ready"
		fi
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || framework_failure "$1: owners.py never got ready"
		sleep 0.05
	done
	_n=100
	until grep -qx ready "$T/victim.out"; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || fail "$1: owners.py did not print ready"
		sleep 0.05
	done
}

stop_owners_victim() {
	kill -0 "$VPID" 2>/dev/null || fail "$1: owners.py did not wait to be killed"
	stop_victim "$VPID" >/dev/null
}
