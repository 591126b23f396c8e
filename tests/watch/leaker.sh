# Helpers for tests/watch/*.test; source after tests/lib.sh.

# start_leaker MODE: starts tests/py/leaker.py (step or auto); sets VPID
# and keeps its control FIFO open on fd 9.
start_leaker() {
	rm -f "$T/ctl" "$T/ready"
	mkfifo "$T/ctl"
	start_victim VPID /usr/bin/python3 "$SRCDIR/tests/py/leaker.py" \
		"$T/ctl" "$T/ready" "$1"
	exec 9>"$T/ctl"
	wait_for_file "$T/ready" 30
}

# leaker_step: one step of a leaker in step mode.
leaker_step() {
	rm -f "$T/stepped"
	echo "step $T/stepped" >&9
	wait_for_file "$T/stepped" 30
}
