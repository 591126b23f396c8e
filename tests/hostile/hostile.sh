# Helpers of the hostile-target tests (sourced after tests/lib.sh): an
# attack program (attack.py) run as nobody, and muppy-snap run as root
# against it, timed.
[ "$(id -u)" = 0 ] || skip "needs root"
command -v setpriv >/dev/null || skip "no setpriv"
NOBODY="setpriv --reuid=nobody --regid=nogroup --clear-groups"
chmod 755 "$T"
mkdir -m 777 "$T/evil"

# attack MODE [ARG]: starts attack.py MODE as nobody; sets VPID.
attack() {
	rm -f "$T/evil/ready"
	start_victim _apid $NOBODY /usr/bin/python3 \
		"$SRCDIR/tests/hostile/attack.py" "$1" "$T/evil" "$T/evil/ready" \
		${2:+"$2"}
	wait_for_file "$T/evil/ready" 60
	VPID=$(cat "$T/evil/ready")
}

# snap_within WANT SECONDS ARGS...: runs muppy-snap ARGS (as root, under
# PREFIX if set: setpriv ...); it must exit WANT within SECONDS, saying at
# most one line on stderr.  $took is how long it took (s).
snap_within() {
	_w=$1 _s=$2; shift 2
	_t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	run_cmd "$_w" timeout -s KILL 60 ${PREFIX:-} "$MUPPY_SNAP" "$@"
	took=$(awk -v a="$_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	awk -v t="$took" -v m="$_s" 'BEGIN { exit !(t <= m) }' ||
		fail "muppy-snap took $took s, more than $_s s"
	[ "$(wc -l <"$T/err")" -le 1 ] || fail "more than one line: $(cat "$T/err")"
}

# alive PID: the attacker, or the victim, still runs.
alive() {
	kill -0 "$1" 2>/dev/null || fail "process $1 died"
}
