# Shell library for muppy-snap's tests; each tests/*/*.test sources it.
#
# Exit codes (as in automake and strace): 0 pass, 1 fail, 77 skip,
# 99 framework failure.  Every test gets a private temp dir $T, removed on
# exit, and every victim started with start_victim is killed and reaped.
# A missing prerequisite is never a silent pass: skip (the whole test) or
# skip_part (one case; the rest runs, then the test exits 77), and
# scripts/run-tests fails on any skip unless ALLOW_SKIP=1.  Tools that
# scripts/install-deps installs are required: framework_failure if absent.
set -eu

: "${MUPPY_BUILD:?run the tests through scripts/run-tests}"
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
TESTNAME=${0#"$SRCDIR"/}
MUPPY_DIFF="$MUPPY_BUILD/muppy-diff"
MUPPY_SNAP="$MUPPY_BUILD/muppy-snap"
DATA="$SRCDIR/tests/data"

T=$(mktemp -d "${TMPDIR:-/tmp}/muppy-test.XXXXXX")
_victims=
_at_exit=

# at_exit CMD: CMD (one shell word list, run by eval) runs on exit,
# before the victims are killed and $T removed, without changing the
# test's exit status.
at_exit() { _at_exit="$_at_exit
$1"; }

_cleanup() {
	_rc=$?
	[ -z "$_at_exit" ] || eval "$_at_exit" || true
	# a test that passed all it could run, but not all of it, is a skip
	if [ "$_rc" = 0 ] && [ -s "$T/.skipped" ]; then _rc=77; fi
	for _p in $_victims; do
		kill -9 "$_p" 2>/dev/null || true
		wait "$_p" 2>/dev/null || true
	done
	rm -rf "$T"
	exit "$_rc"
}
trap _cleanup EXIT
trap 'exit 99' HUP INT TERM

fail() { echo "FAIL: $TESTNAME: $*" >&2; exit 1; }
skip() { echo "SKIP: $TESTNAME: $*" >&2; exit 77; }
framework_failure() { echo "ERROR: $TESTNAME: $*" >&2; exit 99; }

# skip_part REASON: one case of the test cannot run on this machine; says
# so, and the test exits 77 instead of 0 at the end (a failure still
# wins).  Works in subshells ($(list_pythons)): the note is a file in $T.
skip_part() {
	grep -qxF -e "$*" "$T/.skipped" 2>/dev/null && return 0
	echo "SKIP: $TESTNAME: $*" >&2
	echo "$*" >>"$T/.skipped"
}

# start_victim VAR CMD...: runs CMD in the background, stores its pid in VAR.
start_victim() {
	_var=$1; shift
	"$@" &
	_victims="$_victims $!"
	eval "$_var=\$!"
}

# stop_victim PID: kills and reaps one victim, prints its exit status.
stop_victim() {
	kill -9 "$1" 2>/dev/null || true
	_st=0; wait "$1" 2>/dev/null || _st=$?
	echo "$_st"
}

# wait_for_file PATH [SECONDS]: waits until PATH exists and is not empty.
wait_for_file() {
	_n=$(( ${2:-10} * 20 ))
	while [ ! -s "$1" ]; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || framework_failure "timed out waiting for $1"
		sleep 0.05
	done
}

# run_cmd EXPECTED_RC CMD...: runs CMD with stdout in $T/out and stderr in
# $T/err and fails unless it exits with EXPECTED_RC.
run_cmd() {
	_want=$1; shift
	_got=0
	"$@" >"$T/out" 2>"$T/err" </dev/null || _got=$?
	if [ "$_got" != "$_want" ]; then
		echo "--- stdout" >&2; head -c 4000 "$T/out" >&2
		echo "--- stderr" >&2; head -c 4000 "$T/err" >&2
		fail "exit $_got, want $_want: $*"
	fi
}

# match_file EXPECTED ACTUAL: compares with diff -u.
match_file() {
	diff -u "$1" "$2" >&2 || fail "output differs from $1"
}

# match_grep FILE PATTERN: FILE must contain a line matching PATTERN.
match_grep() {
	grep -q -e "$2" "$1" || { cat "$1" >&2; fail "no line matching '$2' in $1"; }
}

# list_pythons: every CPython 3 interpreter on the machine, one path a line:
# Debian's static /usr/bin/python3, its debug build python3-dbg, every
# 3.x that pyenv has (pyenv_pythons), then Debian sid's 3.13, 3.14,
# 3.14-dbg and 3.15 in their chroot (newer_pythons).  A source that has
# none is a skip_part of the calling test.
list_pythons() {
	for _p in /usr/bin/python3 /usr/bin/python3-dbg; do
		if [ -x "$_p" ]; then
			echo "$_p"
		else # (in $(...) an exit would go unseen)
			skip_part "no $_p (scripts/install-deps installs it)"
		fi
	done
	pyenv_pythons
	newer_pythons
}

# pyenv_pythons: every 3.x that pyenv has, one path a line; none is a
# skip_part (pyenv's interpreters are not Debian packages).
pyenv_pythons() {
	_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
	_n=0
	for _p in "$_root"/versions/3.*/bin/python3; do
		[ -x "$_p" ] || continue
		echo "$_p"; _n=$((_n + 1))
	done
	[ "$_n" -gt 0 ] || skip_part "no CPython of pyenv in $_root/versions"
	return 0
}

# newer_pythons: the wrappers that scripts/newer-pythons (make pythons)
# wrote into $MUPPY_BUILD/pythons, one path a line; each runs its
# interpreter in a Debian sid chroot as the same process.  None is a
# skip_part (make pythons needs root).
newer_pythons() {
	_n=0
	for _p in "$MUPPY_BUILD"/pythons/python3.*; do
		[ -x "$_p" ] || continue
		echo "$_p"; _n=$((_n + 1))
	done
	[ "$_n" -gt 0 ] ||
		skip_part "no CPython 3.13-3.15 of Debian sid in $MUPPY_BUILD/pythons (make pythons, as root)"
	return 0
}

# pick_python X.Y: the last interpreter of list_pythons (the newest
# source: sid's before pyenv's) that reports version X.Y and is not a
# debug build; prints nothing when none does, and that is a skip_part.
pick_python() {
	for _p in $(list_pythons | tac); do
		_v=$("$_p" -S -c 'import sys
print("%d.%d" % sys.version_info[:2], hasattr(sys, "gettotalrefcount"))' \
			2>/dev/null) || continue
		[ "$_v" = "$1 False" ] || continue
		echo "$_p"
		return 0
	done
	skip_part "no CPython $1 (pyenv, or make pythons)"
	return 0
}

# start_py_victim PYTHON MODE [COUNT]: starts tests/py/victim.py; sets VPID
# and keeps its control FIFO open on fd 9 (see victim_cmd).  In mode input
# its standard input is a FIFO open on fd 8 for the test to write to.
# VICTIM_WRAP, if set, is a command prefix (setpriv, unshare, ...); VPID
# is then the pid the victim wrote into its ready file as seen from here.
start_py_victim() {
	rm -f "$T/ctl" "$T/ready" "$T/stdin"
	mkfifo -m 666 "$T/ctl" "$T/stdin"
	_in=/dev/null
	[ "$2" != input ] || _in="$T/stdin"
	# shellcheck disable=SC2086
	start_victim VPID ${VICTIM_WRAP:-} sh -c 'exec "$@" <"$0"' "$_in" \
		"$1" "$SRCDIR/tests/py/victim.py" "$T/ctl" "$T/ready" "$2" \
		${3:+"$3"}
	[ "$2" != input ] || exec 8<>"$T/stdin"
	exec 9<>"$T/ctl" # read-write: opening never blocks
	wait_for_file "$T/ready" 60
	if [ -n "${VICTIM_WRAP:-}" ]; then
		# The victim is a descendant of the wrapper: find the python.
		for _c in $(pgrep -f "victim.py $T/ctl"); do
			[ "$(cat "/proc/$_c/comm")" = sh ] || VPID=$_c
		done
	fi
}

# victim_cmd WORDS: sends a command to the victim; with a file argument
# (oracle FILE, check FILE) waits until the victim has written it.
victim_cmd() {
	[ $# -lt 2 ] || rm -f "$2"
	echo "$*" >&9
	[ $# -lt 2 ] || wait_for_file "$2" 120
}

# victim_check: fails unless the victim's self-checks all passed.
victim_check() {
	victim_cmd check "$T/check"
	[ "$(cat "$T/check")" = OK ] || fail "victim: $(cat "$T/check")"
}

# proc_state PID: its mappings, descriptors and threads, to compare.
proc_state() {
	python3 "$SRCDIR/tests/py/procstate.py" "$1"
}

# snap_count FILE TYPE: the object count of TYPE's row in snapshot FILE,
# 0 when it has none; fails the test when FILE is no snapshot.
snap_count() {
	head -1 "$1" | grep -q '^# muppy-snapshot 1\.' || fail "$1 is not a snapshot"
	awk -F'\t' -v t="$2" '$3 == t { n += $1 } END { print n + 0 }' "$1"
}

# snap_header FILE KEY: the value of header line "# KEY VALUE" of FILE.
snap_header() {
	sed -n "s/^# $2 //p" "$1" | head -1
}
