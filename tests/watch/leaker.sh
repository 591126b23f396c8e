# Helpers for tests/watch/*.test; source after tests/lib.sh.

# start_leaker MODE: starts tests/py/leaker.py (step or auto) under a name
# no other process on the machine has, $LEAKER (for --pidof); sets VPID
# and keeps its control FIFO open on fd 9.
LEAKER=leaker-$$.py
start_leaker() {
	rm -f "$T/ctl" "$T/ready"
	mkfifo "$T/ctl"
	cp "$SRCDIR/tests/py/leaker.py" "$T/$LEAKER"
	start_victim VPID /usr/bin/python3 "$T/$LEAKER" "$T/ctl" "$T/ready" "$1"
	exec 9<>"$T/ctl"
	wait_for_file "$T/ready" 30
}

# leaker_step: one step of a leaker in step mode.
leaker_step() {
	rm -f "$T/stepped"
	echo "step $T/stepped" >&9
	wait_for_file "$T/stepped" 30
}
