# Helpers for tests/snapprint/*.test; source after tests/lib.sh.
#
# The tests print snapshot files through build/tests/progs/snapprint
# (tests/progs/snapprint.c: `snapprint FORMAT SORT LIMIT FILE`), a thin
# wrapper around muppy_snapshot_print().  They reuse the golden helpers of
# tests/cli/golden.sh with expected outputs in tests/snapprint/expected/;
# scripts/regen-goldens regenerates those too.  Commands run in tests/data;
# $SPDATA holds the inputs of these tests only.
. "$SRCDIR/tests/cli/golden.sh"

EXPECTED="$SRCDIR/tests/snapprint/expected"
SNAPPRINT="$MUPPY_BUILD/tests/progs/snapprint"
SPDATA="$SRCDIR/tests/snapprint/data"
[ -x "$SNAPPRINT" ] || framework_failure "no $SNAPPRINT: run make tests"
