# Golden-output helpers for tests/cli/*.test; source after tests/lib.sh.
#
#   golden NAME RC CMD...   runs CMD (through run_cmd: exit status RC) and
#                           compares stdout with expected/NAME.out and
#                           stderr with expected/NAME.err; a missing .err
#                           file means stderr must be empty.
#   golden_in NAME RC FILE CMD...   the same with FILE on standard input.
#
# With MUPPY_REGEN=1 (scripts/regen-goldens) the outputs are written to
# expected/ instead of compared; the exit status is still checked.
# Commands run in tests/data, so file names in messages are stable.

EXPECTED="$SRCDIR/tests/cli/expected"
unset ARGP_HELP_FMT
export LC_ALL=C
cd "$DATA"

_golden_check() { # NAME
	if [ -n "${MUPPY_REGEN:-}" ]; then
		cp "$T/out" "$EXPECTED/$1.out"
		if [ -s "$T/err" ]; then
			cp "$T/err" "$EXPECTED/$1.err"
		else
			rm -f "$EXPECTED/$1.err"
		fi
		return 0
	fi
	[ -e "$EXPECTED/$1.out" ] ||
		framework_failure "no $EXPECTED/$1.out: run scripts/regen-goldens"
	match_file "$EXPECTED/$1.out" "$T/out"
	if [ -e "$EXPECTED/$1.err" ]; then
		match_file "$EXPECTED/$1.err" "$T/err"
	elif [ -s "$T/err" ]; then
		cat "$T/err" >&2
		fail "$1: unexpected output on stderr"
	fi
}

golden() {
	_gname=$1; shift
	run_cmd "$@"
	_golden_check "$_gname"
}

golden_in() {
	_gname=$1 _grc=$2 _gin=$3; shift 3
	_got=0
	"$@" >"$T/out" 2>"$T/err" <"$_gin" || _got=$?
	if [ "$_got" != "$_grc" ]; then
		cat "$T/err" >&2
		fail "exit $_got, want $_grc: $* <$_gin"
	fi
	_golden_check "$_gname"
}

# json_valid FILE: FILE must parse as JSON.
json_valid() {
	python3 -m json.tool "$1" >/dev/null || fail "$1 is not valid JSON"
}
