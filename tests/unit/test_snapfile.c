/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for lib/model/snapfile.c: parsing, reading and writing snapshot
 * files.  Run from the top of the source tree (scripts/run-tests does);
 * the sample files are in tests/data.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

#define DATA "tests/data"

/* Inputs are mostly 1.0 files; the writer writes 1.1. */
#define HEAD "# muppy-snapshot 1.0\n"
#define HEAD11 "# muppy-snapshot 1.1\n"
#define FIELDS                                   \
	"# pid 4242\n"                           \
	"# cmdline python3 app.py --port 8080\n" \
	"# time 2026-11-25T12:52:54.123Z\n"      \
	"# python 3.11.2\n"                      \
	"# implementation cpython\n"             \
	"# executable /usr/bin/python3.11\n"     \
	"# rss 104857600\n"                      \
	"# gc yes\n"                             \
	"# gc_freed 17\n"                        \
	"# hold_us 183042\n"
#define TOTALS "# objects 120345\n# bytes 11876543\n# types 3\n"
#define ROWS                              \
	"98765\t5530840\t__main__.Leak\n" \
	"12000\t3100000\tdict\n"          \
	"9580\t3245703\tstr\n"
#define MAX_ROW                                       \
	"# objects 9223372036854775807\n"              \
	"# bytes 9223372036854775807\n# types 1\n"     \
	"9223372036854775807\t9223372036854775807\tT\n"
#define SORTED                            \
	"98765\t5530840\t__main__.Leak\n" \
	"9580\t3245703\tstr\n"            \
	"12000\t3100000\tdict\n"
/* The optional fields of 1.1, all of them, in the writer's order. */
#define WALK                          \
	"# frozen 12345\n"             \
	"# frozen_walked no\n"         \
	"# layout generic\n"           \
	"# checks_failed list,str\n"   \
	"# interpreters 3\n"
/* Owners (1.2): two sections, the first with holders out of order. */
#define HEAD12 "# muppy-snapshot 1.2\n"
#define OWNERS_IN                                          \
	"# owners 98765 5530840 3 2 __main__.Leak\n"          \
	"# held 5 280 app.Cache.recent\n"                     \
	"# held 98765 5530840 dict values of app.LEAKS\n"     \
	"# held 5 280 app.Cache.old\n"                        \
	"# path 140234567890\n"                               \
	"# step module app . LEAKS\n"                         \
	"# step dict['u\\x1b']\n"                             \
	"# step __main__.Leak\n"                              \
	"# path 140234567990\n"                               \
	"# step module app . CACHE\n"                         \
	"# step __main__.Leak\n"                              \
	"# owners 0 0 0 0 app.\\t\n"
#define OWNERS                                             \
	"# owners 98765 5530840 3 2 __main__.Leak\n"          \
	"# held 98765 5530840 dict values of app.LEAKS\n"     \
	"# held 5 280 app.Cache.old\n"                        \
	"# held 5 280 app.Cache.recent\n"                     \
	"# path 140234567890\n"                               \
	"# step module app . LEAKS\n"                         \
	"# step dict['u\\x1b']\n"                             \
	"# step __main__.Leak\n"                              \
	"# path 140234567990\n"                               \
	"# step module app . CACHE\n"                         \
	"# step __main__.Leak\n"                              \
	"# owners 0 0 0 0 app.\\t\n"
#define CANONICAL_OWNERS HEAD12 FIELDS WALK OWNERS TOTALS SORTED
#define OWN1 "# owners 10 100 1 1 T\n"
#define GOOD HEAD FIELDS TOTALS ROWS
#define CANONICAL HEAD11 FIELDS TOTALS SORTED
#define CANONICAL_WALK HEAD11 FIELDS WALK TOTALS SORTED

/* Parses len bytes from an exact-size heap copy, so ASan sees overreads. */
static int parse(const char *text, size_t len, struct muppy_snapshot **s,
		 struct muppy_error *err)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	muppy_error_clear(err);
	*s = NULL;
	rc = muppy_snapshot_parse(copy, len, "t.snap", s, err);
	free(copy);
	return rc;
}

/* Same through a stream, with getline(). */
static int read_stream(const char *text, size_t len,
		       struct muppy_snapshot **s, struct muppy_error *err)
{
	FILE *f = fmemopen((void *)text, len, "r");
	int rc;

	assert_non_null(f);
	muppy_error_clear(err);
	*s = NULL;
	rc = muppy_snapshot_read(f, "t.snap", s, err);
	fclose(f);
	return rc;
}

static char *write_mem(const struct muppy_snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(muppy_snapshot_write(f, s), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

struct parse_case {
	const char *what;
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *err; /* NULL: parses, and writes as canonical */
	const char *canonical; /* NULL: CANONICAL */
};

static const struct parse_case parse_cases[] = {
	{ "canonical", CANONICAL, 0, NULL, NULL },
	{ "unsorted rows", GOOD, 0, NULL, NULL },
	{ "no final newline", HEAD FIELDS TOTALS
	  "98765\t5530840\t__main__.Leak\n9580\t3245703\tstr\n"
	  "12000\t3100000\tdict", 0, NULL, NULL },
	{ "fields in any order", HEAD TOTALS
	  "# hold_us 183042\n"
	  "# gc_freed 17\n"
	  "# gc yes\n"
	  "# rss 104857600\n"
	  "# executable /usr/bin/python3.11\n"
	  "# implementation cpython\n"
	  "# python 3.11.2\n"
	  "# time 2026-11-25T12:52:54.123Z\n"
	  "# cmdline python3 app.py --port 8080\n"
	  "# pid 4242\n" ROWS, 0, NULL, NULL },
	{ "nine fractional digits",
	  HEAD "# time 2026-11-25T12:52:54.123456789Z\n"
	  "# pid 4242\n"
	  "# cmdline python3 app.py --port 8080\n"
	  "# python 3.11.2\n"
	  "# implementation cpython\n"
	  "# executable /usr/bin/python3.11\n"
	  "# rss 104857600\n"
	  "# gc yes\n"
	  "# gc_freed 17\n"
	  "# hold_us 183042\n" TOTALS ROWS, 0, NULL, NULL },
	{ "newer minor, unknown fields",
	  "# muppy-snapshot 1.12\n# zzz 1\n" FIELDS "# threads  4 \n"
	  TOTALS "# note \n" ROWS, 0, NULL, NULL },
	{ "no rows",
	  HEAD FIELDS "# objects 0\n# bytes 0\n# types 0\n", 0, NULL,
	  HEAD11 FIELDS "# objects 0\n# bytes 0\n# types 0\n" },
	{ "empty values and names",
	  HEAD "# pid 1\n# cmdline \n# time 2026-11-25T12:52:54.123Z\n"
	  "# python \n# implementation \n# executable \n# rss 0\n"
	  "# gc no\n# gc_freed 0\n# hold_us 0\n"
	  "# objects 2\n# bytes 0\n# types 2\n0\t0\t \n2\t0\t\n", 0, NULL,
	  HEAD11 "# pid 1\n# cmdline \n# time 2026-11-25T12:52:54.123Z\n"
	  "# python \n# implementation \n# executable \n# rss 0\n"
	  "# gc no\n# gc_freed 0\n# hold_us 0\n"
	  "# objects 2\n# bytes 0\n# types 2\n2\t0\t\n0\t0\t \n" },
	{ "largest values",
	  HEAD "# pid 9223372036854775807\n# cmdline \\x00\n"
	  "# time 9999-12-31T23:59:59.999Z\n"
	  "# python \xe2\x98\x83\n# implementation \\\\\n# executable \\t\n"
	  "# rss 9223372036854775807\n# gc no\n"
	  "# gc_freed 9223372036854775807\n"
	  "# hold_us 9223372036854775807\n"
	  "# objects 9223372036854775807\n# bytes 9223372036854775807\n"
	  "# types 2\n9223372036854775807\t0\ta\n0\t9223372036854775807\tb\n",
	  0, NULL,
	  HEAD11 "# pid 9223372036854775807\n# cmdline \\x00\n"
	  "# time 9999-12-31T23:59:59.999Z\n"
	  "# python \xe2\x98\x83\n# implementation \\\\\n# executable \\t\n"
	  "# rss 9223372036854775807\n# gc no\n"
	  "# gc_freed 9223372036854775807\n"
	  "# hold_us 9223372036854775807\n"
	  "# objects 9223372036854775807\n# bytes 9223372036854775807\n"
	  "# types 2\n0\t9223372036854775807\tb\n9223372036854775807\t0\ta\n" },
	/* The fields of 1.1: optional, in any order; newer minors keep them. */
	{ "1.1 without its fields", HEAD11 FIELDS TOTALS ROWS, 0, NULL, NULL },
	{ "1.1 with every field", HEAD11 FIELDS WALK TOTALS ROWS, 0, NULL,
	  CANONICAL_WALK },
	{ "1.1 fields in any order", HEAD11 "# interpreters 3\n"
	  "# frozen_walked no\n" TOTALS "# checks_failed list,str\n"
	  FIELDS "# layout generic\n# frozen 12345\n" ROWS, 0, NULL,
	  CANONICAL_WALK },
	{ "1.3 knows the fields of 1.1", "# muppy-snapshot 1.3\n" FIELDS WALK
	  "# later 1\n" TOTALS ROWS, 0, NULL, CANONICAL_WALK },
	/* Owners, 1.2: canonical order of holders; paths as they come;
	 * anywhere among the header lines. */
	{ "1.2 owners", HEAD12 FIELDS WALK OWNERS_IN TOTALS ROWS, 0, NULL,
	  CANONICAL_OWNERS },
	{ "1.2 owners first", HEAD12 OWNERS FIELDS WALK TOTALS ROWS, 0, NULL,
	  CANONICAL_OWNERS },
	{ "1.2 owners after the totals", HEAD12 FIELDS TOTALS WALK OWNERS
	  ROWS, 0, NULL, CANONICAL_OWNERS },
	{ "1.2 field between held lines", HEAD12 FIELDS
	  "# owners 98765 5530840 3 2 __main__.Leak\n"
	  "# held 5 280 app.Cache.recent\n" WALK
	  "# held 98765 5530840 dict values of app.LEAKS\n"
	  "# held 5 280 app.Cache.old\n"
	  "# path 140234567890\n"
	  "# step module app . LEAKS\n"
	  "# step dict['u\\x1b']\n"
	  "# step __main__.Leak\n"
	  "# path 140234567990\n"
	  "# step module app . CACHE\n"
	  "# step __main__.Leak\n"
	  "# owners 0 0 0 0 app.\\t\n" TOTALS ROWS, 0, NULL,
	  CANONICAL_OWNERS },
	{ "1.2 without owners is written as 1.1", HEAD12 FIELDS TOTALS ROWS,
	  0, NULL, NULL },
	/* A newer minor reads the owners and skips what it does not know,
	 * even between a path's steps. */
	{ "1.3 owners, unknown lines", "# muppy-snapshot 1.3\n" FIELDS WALK
	  "# owners 98765 5530840 3 2 __main__.Leak\n"
	  "# held 98765 5530840 dict values of app.LEAKS\n"
	  "# held_kind x\n"
	  "# held 5 280 app.Cache.old\n"
	  "# held 5 280 app.Cache.recent\n"
	  "# path 140234567890\n"
	  "# step module app . LEAKS\n"
	  "# step_kind dict\n"
	  "# step dict['u\\x1b']\n"
	  "# step __main__.Leak\n"
	  "# path 140234567990\n"
	  "# step module app . CACHE\n"
	  "# step __main__.Leak\n"
	  "# owners 0 0 0 0 app.\\t\n" "# later 1\n" TOTALS ROWS, 0, NULL,
	  CANONICAL_OWNERS },
	{ "1.2 largest owners", HEAD12 FIELDS
	  "# owners 9223372036854775807 9223372036854775807 "
	  "9223372036854775807 9223372036854775807 T\n"
	  "# held 9223372036854775807 9223372036854775807 \n"
	  "# path 9223372036854775807\n# step \n# step \n" MAX_ROW, 0,
	  NULL, HEAD12 FIELDS
	  "# owners 9223372036854775807 9223372036854775807 "
	  "9223372036854775807 9223372036854775807 T\n"
	  "# held 9223372036854775807 9223372036854775807 \n"
	  "# path 9223372036854775807\n# step \n# step \n" MAX_ROW },
	{ "1.2 owners of a type without a row", HEAD12 FIELDS
	  "# owners 0 0 0 0 T\n" TOTALS ROWS, 0, NULL,
	  HEAD12 FIELDS "# owners 0 0 0 0 T\n" TOTALS SORTED },
	{ "frozen 0, verified", HEAD11 FIELDS "# frozen 0\n# layout verified\n"
	  TOTALS ROWS, 0, NULL,
	  HEAD11 FIELDS "# frozen 0\n# layout verified\n" TOTALS SORTED },
	{ "frozen walked", HEAD11 FIELDS "# frozen 1\n# frozen_walked yes\n"
	  "# interpreters 1\n" TOTALS ROWS, 0, NULL,
	  HEAD11 FIELDS "# frozen 1\n# frozen_walked yes\n"
	  "# interpreters 1\n" TOTALS SORTED },
	{ "largest frozen, escaped checks", HEAD11 FIELDS
	  "# frozen 9223372036854775807\n# frozen_walked yes\n"
	  "# checks_failed a b,\\x1b\\\\\n"
	  "# interpreters 9223372036854775807\n" TOTALS ROWS, 0, NULL,
	  HEAD11 FIELDS "# frozen 9223372036854775807\n# frozen_walked yes\n"
	  "# checks_failed a b,\\x1b\\\\\n"
	  "# interpreters 9223372036854775807\n" TOTALS SORTED },

	/* Errors. */
	{ "empty", "", 0, "t.snap:1: empty file", NULL },
	{ "owners above the row", HEAD12 FIELDS
	  "# owners 12000 3100001 0 0 dict\n" TOTALS ROWS, 0,
	  "t.snap:12: owners of 'dict': 12000 objects of 3100001 bytes, more "
	  "than its row's 12000 and 3100000", NULL },
	{ "owners without a row", HEAD12 FIELDS
	  "# owners 1 8 0 0 T\n" TOTALS ROWS, 0,
	  "t.snap:12: owners of 'T': 1 objects of 8 bytes, more than its "
	  "row's 0 and 0", NULL },
	{ "only a newline", "\n", 1, "t.snap:1: not a muppy snapshot (the "
	  "first line is not '# muppy-snapshot 1.1')", NULL },
	{ "magic only", HEAD, 0, "t.snap:2: missing header field 'pid'", NULL },
	{ "magic without newline", "# muppy-snapshot 1.0", 0,
	  "t.snap:2: missing header field 'pid'", NULL },
	{ "magic prefix", "# muppy-snapshot", 0, "t.snap:1: not a muppy "
	  "snapshot (the first line is not '# muppy-snapshot 1.1')", NULL },
	{ "no minor", "# muppy-snapshot 1\n", 0,
	  "t.snap:1: bad format version '1'", NULL },
	{ "huge minor", "# muppy-snapshot 1.4294967296\n", 0,
	  "t.snap:1: bad format version '1.4294967296'", NULL },
	{ "major 0", "# muppy-snapshot 0.9\n", 0, "t.snap:1: unsupported "
	  "format version 0.9 (this muppy reads 1.x)", NULL },
	{ "major 10", "# muppy-snapshot 10.0\n" FIELDS, 0, "t.snap:1: "
	  "unsupported format version 10.0 (this muppy reads 1.x)", NULL },
	{ "hostile version", "# muppy-snapshot 2.0\x1b[2J\n", 0,
	  "t.snap:1: bad format version '2.0\\x1b[2J'", NULL },
	{ "BOM", "\xef\xbb\xbf" GOOD, 0, "t.snap:1: not a muppy snapshot "
	  "(the first line is not '# muppy-snapshot 1.1')", NULL },
	{ "CRLF magic", "# muppy-snapshot 1.0\r\n", 0,
	  "t.snap:1: carriage return in line", NULL },
	{ "NUL in row", GOOD "1\t1\tx\0y\n", sizeof(GOOD "1\t1\tx\0y\n") - 1,
	  "t.snap:18: NUL byte in line", NULL },
	{ "NUL after last newline", GOOD "\0", sizeof(GOOD), "t.snap:18: "
	  "NUL byte in line", NULL },
	{ "blank line at end", GOOD "\n", 0, "t.snap:18: empty line", NULL },
	{ "lone #", HEAD "#\n", 0, "t.snap:2: bad header line, expected "
	  "'# KEY VALUE'", NULL },
	{ "# and space", HEAD "# \n", 0, "t.snap:2: bad header line, expected "
	  "'# KEY VALUE'", NULL },
	{ "key only", HEAD "# pid\n", 0, "t.snap:2: bad header line, expected "
	  "'# KEY VALUE'", NULL },
	{ "two spaces", HEAD "#  pid 1\n", 0, "t.snap:2: bad header line, "
	  "expected '# KEY VALUE'", NULL },
	{ "uppercase key", HEAD "# PID 1\n", 0, "t.snap:2: bad header line, "
	  "expected '# KEY VALUE'", NULL },
	{ "tab separator", HEAD "# pid\t1\n", 0, "t.snap:2: bad header line, "
	  "expected '# KEY VALUE'", NULL },
	{ "unknown key in 1.0", HEAD "# threads 4\n", 0,
	  "t.snap:2: unknown header field 'threads'", NULL },
	{ "unknown key in 1.1", HEAD11 "# threads 4\n", 0,
	  "t.snap:2: unknown header field 'threads'", NULL },
	{ "unknown key, bad value", "# muppy-snapshot 1.3\n# threads \t4\n",
	  0, "t.snap:2: value not in escaped form at column 11: '\\t4'",
	  NULL },
	{ "duplicate in newer minor", "# muppy-snapshot 1.3\n" FIELDS
	  "# rss 1\n", 0, "t.snap:12: duplicate header field 'rss' (first "
	  "on line 8)", NULL },
	/* 1.0 files know none of the fields of 1.1. */
	{ "frozen in 1.0", HEAD FIELDS "# frozen 0\n", 0,
	  "t.snap:12: unknown header field 'frozen'", NULL },
	{ "frozen_walked in 1.0", HEAD "# frozen_walked yes\n", 0,
	  "t.snap:2: unknown header field 'frozen_walked'", NULL },
	{ "layout in 1.0", HEAD "# layout verified\n", 0,
	  "t.snap:2: unknown header field 'layout'", NULL },
	{ "checks_failed in 1.0", HEAD "# checks_failed list\n", 0,
	  "t.snap:2: unknown header field 'checks_failed'", NULL },
	{ "interpreters in 1.0", HEAD "# interpreters 1\n", 0,
	  "t.snap:2: unknown header field 'interpreters'", NULL },
	/* Bad values of 1.1. */
	{ "frozen -1", HEAD11 "# frozen -1\n", 0,
	  "t.snap:2: bad value for frozen: '-1'", NULL },
	{ "frozen 01", HEAD11 "# frozen 01\n", 0,
	  "t.snap:2: bad value for frozen: '01'", NULL },
	{ "frozen too big", HEAD11 "# frozen 9223372036854775808\n", 0,
	  "t.snap:2: bad value for frozen: '9223372036854775808'", NULL },
	{ "frozen empty", HEAD11 "# frozen \n", 0,
	  "t.snap:2: bad value for frozen: ''", NULL },
	{ "frozen_walked maybe", HEAD11 "# frozen_walked maybe\n", 0,
	  "t.snap:2: bad value for frozen_walked: 'maybe'", NULL },
	{ "frozen_walked Yes", HEAD11 "# frozen_walked Yes\n", 0,
	  "t.snap:2: bad value for frozen_walked: 'Yes'", NULL },
	{ "layout unknown", HEAD11 "# layout unknown\n", 0,
	  "t.snap:2: bad value for layout: 'unknown'", NULL },
	{ "layout with a space", HEAD11 "# layout verified \n", 0,
	  "t.snap:2: bad value for layout: 'verified '", NULL },
	{ "layout empty", HEAD11 "# layout \n", 0,
	  "t.snap:2: bad value for layout: ''", NULL },
	{ "checks_failed empty", HEAD11 "# checks_failed \n", 0,
	  "t.snap:2: bad value for checks_failed: ''", NULL },
	{ "checks_failed raw tab", HEAD11 "# checks_failed list\tstr\n", 0,
	  "t.snap:2: checks_failed not in escaped form at column 21: "
	  "'\\tstr'", NULL },
	{ "interpreters 0", HEAD11 "# interpreters 0\n", 0,
	  "t.snap:2: bad value for interpreters: '0'", NULL },
	{ "interpreters -1", HEAD11 "# interpreters -1\n", 0,
	  "t.snap:2: bad value for interpreters: '-1'", NULL },
	{ "duplicate frozen", HEAD11 "# frozen 1\n# frozen 1\n", 0,
	  "t.snap:3: duplicate header field 'frozen' (first on line 2)",
	  NULL },
	{ "duplicate layout", HEAD11 FIELDS "# layout generic\n" TOTALS
	  "# layout generic\n", 0, "t.snap:16: duplicate header field "
	  "'layout' (first on line 12)", NULL },
	/* frozen_walked comes with frozen objects, and only with them. */
	{ "frozen without frozen_walked", HEAD11 FIELDS "# frozen 5\n"
	  TOTALS ROWS, 0, "t.snap:16: missing header field 'frozen_walked' "
	  "(frozen is 5)", NULL },
	{ "frozen without frozen_walked, no rows", HEAD11 FIELDS
	  "# frozen 5\n# objects 0\n# bytes 0\n# types 0\n", 0,
	  "t.snap:16: missing header field 'frozen_walked' (frozen is 5)",
	  NULL },
	{ "frozen_walked with frozen 0", HEAD11 FIELDS "# frozen 0\n"
	  "# frozen_walked yes\n" TOTALS ROWS, 0, "t.snap:13: frozen_walked "
	  "without frozen objects (frozen is 0)", NULL },
	{ "frozen_walked without frozen", HEAD11 FIELDS TOTALS
	  "# frozen_walked no\n" ROWS, 0, "t.snap:15: frozen_walked without "
	  "frozen objects (no frozen field)", NULL },
	/* Owners. */
	{ "owners in 1.1", HEAD11 OWN1, 0,
	  "t.snap:2: unknown header field 'owners'", NULL },
	{ "held in 1.1", HEAD11 "# held 1 1 x\n", 0,
	  "t.snap:2: unknown header field 'held'", NULL },
	{ "held before owners", HEAD12 FIELDS "# held 1 1 x\n", 0,
	  "t.snap:12: held line before any owners line", NULL },
	{ "path before owners", HEAD12 "# path 1\n", 0,
	  "t.snap:2: path line before any owners line", NULL },
	{ "step before owners", HEAD12 "# step x\n", 0,
	  "t.snap:2: step line outside a path (after its path line and its "
	  "other steps only)", NULL },
	{ "step after held", HEAD12 OWN1 "# path 1\n# step a\n# step b\n"
	  "# held 1 1 x\n# step c\n", 0, "t.snap:7: step line outside a "
	  "path (after its path line and its other steps only)", NULL },
	{ "step after another field", HEAD12 OWN1 "# path 1\n# step a\n"
	  "# rss 1\n# step c\n", 0, "t.snap:3: path with 1 step (at least 2: "
	  "a root and the object)", NULL },
	{ "path without steps", HEAD12 OWN1 "# path 1\n# path 2\n", 0,
	  "t.snap:3: path with 0 steps (at least 2: a root and the object)",
	  NULL },
	{ "path of one step before rows", HEAD12 FIELDS OWN1 "# path 7\n"
	  "# step a\n" TOTALS ROWS, 0, "t.snap:13: path with 1 step (at least "
	  "2: a root and the object)", NULL },
	{ "path of one step at the end", HEAD12 FIELDS
	  "# objects 0\n# bytes 0\n# types 0\n" OWN1 "# path 7\n# step a\n",
	  0, "t.snap:16: path with 1 step (at least 2: a root and the "
	  "object)", NULL },
	{ "owners too few numbers", HEAD12 "# owners 1 2 3 T\n", 0,
	  "t.snap:2: bad owners line, expected '# owners COUNT BYTES SHARED "
	  "UNREACHABLE TYPE'", NULL },
	{ "owners a name for a number", HEAD12 "# owners 1 2 3 T x\n", 0,
	  "t.snap:2: bad number 'T' in owners line", NULL },
	{ "owners numbers only", HEAD12 "# owners 1 2 3 4\n", 0,
	  "t.snap:2: bad owners line, expected '# owners COUNT BYTES SHARED "
	  "UNREACHABLE TYPE'", NULL },
	{ "owners negative", HEAD12 "# owners 1 -2 0 0 T\n", 0,
	  "t.snap:2: bad number '-2' in owners line", NULL },
	{ "owners two spaces", HEAD12 "# owners 1 2  0 0 T\n", 0,
	  "t.snap:2: bad number '' in owners line", NULL },
	{ "owners too big", HEAD12 "# owners 9223372036854775808 0 0 0 T\n",
	  0, "t.snap:2: bad number '9223372036854775808' in owners line",
	  NULL },
	{ "shared above count", HEAD12 "# owners 3 2 4 0 T\n", 0,
	  "t.snap:2: shared 4 exceeds count 3", NULL },
	{ "unreachable above count", HEAD12 "# owners 3 2 0 4 T\n", 0,
	  "t.snap:2: unreachable 4 exceeds count 3", NULL },
	{ "raw tab in type", HEAD12 "# owners 3 2 0 0 a\tb\n", 0,
	  "t.snap:2: type name not in escaped form at column 19: '\\tb'",
	  NULL },
	{ "older writers' form in a step", HEAD12 OWN1 "# path 1\n"
	  "# step zw\xe2\x80\x8b\n", 0, "t.snap:4: step not in escaped "
	  "form at column 10: '\\xe2\\x80\\x8b'", NULL },
	{ "raw escape in holder", HEAD12 OWN1 "# held 1 1 \x1b[2J\n", 0,
	  "t.snap:3: holder not in escaped form at column 12: '\\x1b[2J'",
	  NULL },
	{ "held count above the type's", HEAD12 OWN1 "# held 11 1 x\n", 0,
	  "t.snap:3: held count 11 exceeds the type's count 10", NULL },
	{ "held bytes above the type's", HEAD12 OWN1 "# held 1 101 x\n", 0,
	  "t.snap:3: held bytes 101 exceeds the type's bytes 100", NULL },
	{ "held without holder", HEAD12 OWN1 "# held 1 1\n", 0,
	  "t.snap:3: bad held line, expected '# held COUNT BYTES HOLDER'",
	  NULL },
	{ "held bad number", HEAD12 OWN1 "# held 01 1 x\n", 0,
	  "t.snap:3: bad number '01' in held line", NULL },
	{ "duplicate holder", HEAD12 FIELDS OWN1 "# held 1 1 x\n"
	  "# held 2 2 y\n# held 3 3 x\n# held 3 3 y\n" TOTALS ROWS, 0,
	  "t.snap:15: duplicate holder 'x' (first on line 13)", NULL },
	{ "duplicate holder, next section", HEAD12 OWN1 "# held 1 1 x\n"
	  "# held 1 1 x\n# owners 1 1 0 0 U\n", 0,
	  "t.snap:4: duplicate holder 'x' (first on line 3)", NULL },
	{ "same holder in two sections", HEAD12 FIELDS
	  "# owners 10 100 1 1 dict\n# held 1 1 x\n"
	  "# owners 1 1 0 0 str\n# held 1 1 x\n" TOTALS ROWS, 0, NULL,
	  HEAD12 FIELDS "# owners 10 100 1 1 dict\n# held 1 1 x\n"
	  "# owners 1 1 0 0 str\n# held 1 1 x\n" TOTALS SORTED },
	{ "duplicate path id", HEAD12 FIELDS OWN1 "# path 5\n# step a\n"
	  "# step b\n# path 5\n# step a\n# step b\n" TOTALS ROWS, 0,
	  "t.snap:16: duplicate path id 5 (first on line 13)", NULL },
	{ "path id 0", HEAD12 OWN1 "# path 0\n", 0,
	  "t.snap:3: bad path id '0'", NULL },
	{ "path id hex", HEAD12 OWN1 "# path 0x7f\n", 0,
	  "t.snap:3: bad path id '0x7f'", NULL },
	{ "duplicate owners", HEAD12 OWN1 "# owners 1 1 0 0 U\n" OWN1, 0,
	  "t.snap:4: duplicate owners section for 'T' (first on line 2)",
	  NULL },
	{ "17 owners", HEAD12 "# owners 0 0 0 0 a\n# owners 0 0 0 0 b\n"
	  "# owners 0 0 0 0 c\n# owners 0 0 0 0 d\n# owners 0 0 0 0 e\n"
	  "# owners 0 0 0 0 f\n# owners 0 0 0 0 g\n# owners 0 0 0 0 h\n"
	  "# owners 0 0 0 0 i\n# owners 0 0 0 0 j\n# owners 0 0 0 0 k\n"
	  "# owners 0 0 0 0 l\n# owners 0 0 0 0 m\n# owners 0 0 0 0 n\n"
	  "# owners 0 0 0 0 o\n# owners 0 0 0 0 p\n# owners 0 0 0 0 q\n", 0,
	  "t.snap:18: more than 16 owners sections", NULL },
	{ "pid sign", HEAD "# pid +1\n", 0,
	  "t.snap:2: bad value for pid: '+1'", NULL },
	{ "pid too big", HEAD "# pid 9223372036854775808\n", 0,
	  "t.snap:2: bad value for pid: '9223372036854775808'", NULL },
	{ "pid empty", HEAD "# pid \n", 0, "t.snap:2: bad value for pid: ''",
	  NULL },
	{ "gc YES", HEAD "# gc YES\n", 0, "t.snap:2: bad value for gc: 'YES'",
	  NULL },
	{ "gc 1", HEAD "# gc 1\n", 0, "t.snap:2: bad value for gc: '1'",
	  NULL },
	{ "time with offset", HEAD "# time 2026-11-25T12:52:54+01:00\n", 0,
	  "t.snap:2: bad value for time: '2026-11-25T12:52:54+01:00'", NULL },
	{ "long bad value", HEAD "# rss 1234567890123456789012345678901234"
	  "5678901234567890\n", 0, "t.snap:2: bad value for rss: '1234567890"
	  "12345678901234567890123456789012345678...'", NULL },
	{ "bad cmdline", HEAD "# cmdline a\xc3(b\n", 0, "t.snap:2: cmdline "
	  "not in escaped form at column 12: '\\xc3(b'", NULL },
	{ "raw C1", HEAD "# python 3\xc2\x85\n", 0, "t.snap:2: python not "
	  "in escaped form at column 11: '\\xc2\\x85'", NULL },
	{ "row before fields", HEAD "1\t1\tx\n", 0,
	  "t.snap:2: missing header field 'pid'", NULL },
	{ "duplicate after totals", HEAD FIELDS "# objects 0\n# bytes 0\n"
	  "# types 0\n" "# rss 3\n", 0, "t.snap:15: duplicate header field "
	  "'rss' (first on line 8)", NULL },
	{ "header after row", GOOD "# types 3\n", 0,
	  "t.snap:18: header line after the first row", NULL },
	{ "space-separated row", HEAD FIELDS TOTALS "1 2 x\n", 0,
	  "t.snap:15: bad row, expected COUNT<TAB>BYTES<TAB>NAME: '1 2 x'",
	  NULL },
	{ "one tab", HEAD FIELDS TOTALS "1\t2\n", 0, "t.snap:15: bad row, "
	  "expected COUNT<TAB>BYTES<TAB>NAME: '1\\t2'", NULL },
	{ "empty count", HEAD FIELDS TOTALS "\t2\tx\n", 0,
	  "t.snap:15: bad count ''", NULL },
	{ "negative count", HEAD FIELDS TOTALS "-1\t2\tx\n", 0,
	  "t.snap:15: bad count '-1'", NULL },
	{ "hex count", HEAD FIELDS TOTALS "0x1\t2\tx\n", 0,
	  "t.snap:15: bad count '0x1'", NULL },
	{ "00 bytes", HEAD FIELDS TOTALS "1\t00\tx\n", 0,
	  "t.snap:15: bad byte count '00'", NULL },
	{ "space in bytes", HEAD FIELDS TOTALS "1\t 2\tx\n", 0,
	  "t.snap:15: bad byte count ' 2'", NULL },
	{ "bytes overflow", HEAD FIELDS TOTALS
	  "1\t18446744073709551616\tx\n", 0,
	  "t.snap:15: bad byte count '18446744073709551616'", NULL },
	{ "bytes sum overflows", HEAD FIELDS TOTALS
	  "1\t9223372036854775807\tx\n1\t1\ty\n", 0,
	  "t.snap:16: total bytes exceed 9223372036854775807", NULL },
	{ "tab in name", HEAD FIELDS TOTALS "1\t2\tx\ty\n", 0,
	  "t.snap:15: type name not in escaped form at column 6: '\\ty'",
	  NULL },
	{ "escaped valid UTF-8 in name", HEAD FIELDS TOTALS "1\t2\t\\xc3\\xa9\n",
	  0, "t.snap:15: type name not in escaped form at column 5: "
	  "'\\\\xc3\\\\xa9'", NULL },
	{ "duplicate name", HEAD FIELDS TOTALS "1\t2\tb\n1\t2\ta\n1\t3\tc\n"
	  "5\t5\ta\n1\t1\tb\n", 0,
	  "t.snap:18: duplicate type name 'a' (first on line 16)", NULL },
	/* Older writers wrote zero-width characters and variation
	 * selectors raw: read as escaped today (and then equal to it). */
	{ "older writers' raw invisible characters", HEAD FIELDS
	  "# objects 3\n# bytes 5\n# types 2\n"
	  "1\t2\tzw\xe2\x80\x8b" "sp\n" "2\t3\tvs\xef\xb8\x8f\n", 0, NULL,
	  HEAD11 FIELDS "# objects 3\n# bytes 5\n# types 2\n"
	  "2\t3\tvs\\xef\\xb8\\x8f\n" "1\t2\tzw\\xe2\\x80\\x8bsp\n" },
	{ "older writers' raw invisible characters in a field", HEAD
	  "# pid 4242\n"
	  "# cmdline python3 app\xc2\xad.py\n"
	  "# time 2026-11-25T12:52:54.123Z\n"
	  "# python 3.11.2\n"
	  "# implementation cpython\n"
	  "# executable /usr/bin/python3.11\xe2\x81\xa0\n"
	  "# rss 104857600\n# gc yes\n# gc_freed 17\n# hold_us 183042\n"
	  "# objects 0\n# bytes 0\n# types 0\n", 0, NULL,
	  HEAD11 "# pid 4242\n"
	  "# cmdline python3 app\\xc2\\xad.py\n"
	  "# time 2026-11-25T12:52:54.123Z\n"
	  "# python 3.11.2\n"
	  "# implementation cpython\n"
	  "# executable /usr/bin/python3.11\\xe2\\x81\\xa0\n"
	  "# rss 104857600\n# gc yes\n# gc_freed 17\n# hold_us 183042\n"
	  "# objects 0\n# bytes 0\n# types 0\n" },
	{ "raw and escaped zero-width space", HEAD FIELDS TOTALS
	  "1\t2\tzw\xe2\x80\x8b\n1\t3\tzw\\xe2\\x80\\x8b\n", 0,
	  "t.snap:16: duplicate type name 'zw\\xe2\\x80\\x8b' (first on "
	  "line 15)", NULL },
	{ "raw bidi control", HEAD FIELDS TOTALS "1\t2\ta\xe2\x80\xae\n", 0,
	  "t.snap:15: type name not in escaped form at column 6: "
	  "'\\xe2\\x80\\xae'", NULL },
	{ "duplicate escaped name", HEAD FIELDS TOTALS "1\t2\t\\x1b\n"
	  "1\t3\t\\x1b\n", 0,
	  "t.snap:16: duplicate type name '\\x1b' (first on line 15)", NULL },
	{ "objects wrong", HEAD FIELDS TOTALS "1\t2\tx\n", 0,
	  "t.snap:12: objects is 120345 but the rows sum to 1", NULL },
	{ "bytes wrong", HEAD FIELDS "# objects 1\n# bytes 3\n# types 1\n"
	  "1\t2\tx\n", 0, "t.snap:13: bytes is 3 but the rows sum to 2",
	  NULL },
	{ "types wrong", HEAD FIELDS "# objects 1\n# bytes 2\n# types 2\n"
	  "1\t2\tx\n", 0, "t.snap:14: types is 2 but there are 1 rows",
	  NULL },
	{ "types wrong, no rows", HEAD FIELDS "# objects 0\n# bytes 0\n"
	  "# types 1\n", 0, "t.snap:14: types is 1 but there are 0 rows",
	  NULL },
	{ "missing at end", HEAD FIELDS "# objects 0\n# bytes 0\n", 0,
	  "t.snap:14: missing header field 'types'", NULL },
};

static void check_parse_case(const struct parse_case *c, bool stream)
{
	size_t len = c->len ? c->len : strlen(c->text), wlen;
	const char *want = c->canonical ? c->canonical : CANONICAL;
	struct muppy_snapshot *s;
	struct muppy_error err;
	char *w;
	int rc;

	if (stream)
		rc = len ? read_stream(c->text, len, &s, &err) :
			   parse(c->text, len, &s, &err);
	else
		rc = parse(c->text, len, &s, &err);
	if (c->err) {
		if (rc != -EINVAL || strcmp(err.msg, c->err) != 0)
			fail_msg("%s%s: rc %d, message\n  '%s', want\n  '%s'",
				 c->what, stream ? " (stream)" : "", rc,
				 err.msg, c->err);
		assert_null(s);
		return;
	}
	if (rc != 0)
		fail_msg("%s%s: rc %d: %s", c->what, stream ? " (stream)" : "",
			 rc, err.msg);
	assert_string_equal(err.msg, "");
	w = write_mem(s, &wlen);
	if (wlen != strlen(want) || memcmp(w, want, wlen) != 0)
		fail_msg("%s: wrote\n%s\nwant\n%s", c->what, w, want);
	free(w);
	muppy_snapshot_free(s);
}

static void test_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(parse_cases); i++) {
		check_parse_case(&parse_cases[i], false);
		check_parse_case(&parse_cases[i], true);
	}
}

static void test_fields(void **state)
{
	struct muppy_snapshot *s;
	struct muppy_error err;

	(void)state;
	assert_int_equal(parse(GOOD, strlen(GOOD), &s, &err), 0);
	assert_int_equal(s->minor, 0);
	assert_int_equal(s->pid, 4242);
	assert_string_equal(s->cmdline, "python3 app.py --port 8080");
	assert_int_equal(s->time_ms, INT64_C(1795611174123));
	assert_string_equal(s->python, "3.11.2");
	assert_string_equal(s->implementation, "cpython");
	assert_string_equal(s->executable, "/usr/bin/python3.11");
	assert_int_equal(s->rss, 104857600);
	assert_true(s->gc);
	assert_int_equal(s->gc_freed, 17);
	assert_int_equal(s->hold_us, 183042);
	assert_int_equal(s->objects, 120345);
	assert_int_equal(s->bytes, 11876543);
	assert_int_equal(s->ntypes, 3);
	assert_string_equal(s->types[0].name, "__main__.Leak");
	assert_string_equal(s->types[1].name, "str");
	assert_int_equal(s->types[1].count, 9580);
	assert_int_equal(s->types[1].bytes, 3245703);
	assert_string_equal(s->types[2].name, "dict");
	/* Not in 1.0: unknown, nothing unusual. */
	assert_false(s->frozen_known);
	assert_int_equal(s->frozen, 0);
	assert_false(s->frozen_missed);
	assert_int_equal(s->layout, MUPPY_LAYOUT_UNKNOWN);
	assert_string_equal(s->checks_failed, "");
	assert_int_equal(s->interpreters, 0);
	muppy_snapshot_free(s);

	assert_int_equal(parse("# muppy-snapshot 1.3\n" FIELDS TOTALS ROWS,
			       strlen("# muppy-snapshot 1.3\n" FIELDS TOTALS
				      ROWS), &s, &err), 0);
	assert_int_equal(s->minor, 3);
	assert_false(s->frozen_known);
	assert_int_equal(s->layout, MUPPY_LAYOUT_UNKNOWN);
	muppy_snapshot_free(s);
}

/* The fields of 1.1, each value. */
static void test_fields_1_1(void **state)
{
	static const struct {
		const char *walk;
		bool frozen_known;
		uint64_t frozen;
		bool frozen_missed;
		enum muppy_layout layout;
		const char *checks_failed;
		uint64_t interpreters;
	} cases[] = {
		{ "", false, 0, false, MUPPY_LAYOUT_UNKNOWN, "", 0 },
		{ WALK, true, 12345, true, MUPPY_LAYOUT_GENERIC, "list,str", 3 },
		{ "# frozen 0\n# layout verified\n# interpreters 1\n", true, 0,
		  false, MUPPY_LAYOUT_VERIFIED, "", 1 },
		{ "# frozen 7\n# frozen_walked yes\n", true, 7, false,
		  MUPPY_LAYOUT_UNKNOWN, "", 0 },
		{ "# checks_failed \\x1b[2J\n", false, 0, false,
		  MUPPY_LAYOUT_UNKNOWN, "\\x1b[2J", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct muppy_snapshot *s;
		struct muppy_error err;
		char text[1024];

		print_message("case %zu\n", i);
		snprintf(text, sizeof(text), "%s%s%s%s%s", HEAD11, FIELDS,
			 cases[i].walk, TOTALS, ROWS);
		if (parse(text, strlen(text), &s, &err) != 0)
			fail_msg("%s", err.msg);
		assert_int_equal(s->minor, 1);
		assert_int_equal(s->frozen_known, cases[i].frozen_known);
		assert_int_equal(s->frozen, cases[i].frozen);
		assert_int_equal(s->frozen_missed, cases[i].frozen_missed);
		assert_int_equal(s->layout, cases[i].layout);
		assert_string_equal(s->checks_failed, cases[i].checks_failed);
		assert_int_equal(s->interpreters, cases[i].interpreters);
		muppy_snapshot_free(s);
	}
}

/* Every prefix of a good file fails cleanly, but for the last name. */
static void test_prefixes(void **state)
{
	const size_t len = strlen(GOOD);
	struct muppy_snapshot *s;
	struct muppy_error err;
	size_t n;

	(void)state;
	for (n = 0; n <= len; n++) {
		int rc = parse(GOOD, n, &s, &err);

		/* Cutting the last name ("str\n") keeps the totals right. */
		if (n >= len - 4) {
			assert_int_equal(rc, 0);
			muppy_snapshot_free(s);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_true(strncmp(err.msg, "t.snap:", 7) == 0);
		}
	}
}

/* A built snapshot round-trips field by field. */
static void test_roundtrip_built(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new(), *back;
	struct muppy_error err;
	char *w;
	size_t len, i;

	(void)state;
	assert_non_null(s);
	s->pid = 31337;
	s->time_ms = -1;
	s->rss = 1;
	s->gc = true;
	s->gc_freed = 2;
	s->hold_us = 3;
	assert_int_equal(muppy_snapshot_set_raw(&s->cmdline, "a\0b\n", 4), 0);
	assert_int_equal(muppy_snapshot_set_raw(&s->python, "3.13.0", 6), 0);
	assert_int_equal(muppy_snapshot_set_raw(&s->implementation, "\\", 1),
			 0);
	assert_int_equal(muppy_snapshot_set_raw(&s->executable, "\xff", 1), 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "x\ty", 3, 5, 6), 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "", 0, 1, 6), 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "\xe2\x80\xa8", 3, 7, 8),
			 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "x\ty", 3, 1, 1), 0);
	assert_int_equal(muppy_snapshot_finish(s), 0);
	s->frozen_known = true;
	s->frozen = 4;
	s->frozen_missed = true;
	s->layout = MUPPY_LAYOUT_GENERIC;
	assert_int_equal(muppy_snapshot_set_raw(&s->checks_failed,
						"list,\x1b", 6), 0);
	s->interpreters = 2;
	w = write_mem(s, &len);
	assert_string_equal(w,
		"# muppy-snapshot 1.1\n"
		"# pid 31337\n"
		"# cmdline a\\x00b\\n\n"
		"# time 1969-12-31T23:59:59.999Z\n"
		"# python 3.13.0\n"
		"# implementation \\\\\n"
		"# executable \\xff\n"
		"# rss 1\n"
		"# gc yes\n"
		"# gc_freed 2\n"
		"# hold_us 3\n"
		"# frozen 4\n"
		"# frozen_walked no\n"
		"# layout generic\n"
		"# checks_failed list,\\x1b\n"
		"# interpreters 2\n"
		"# objects 14\n"
		"# bytes 21\n"
		"# types 3\n"
		"7\t8\t\\xe2\\x80\\xa8\n"
		"6\t7\tx\\ty\n"
		"1\t6\t\n");
	assert_int_equal(muppy_snapshot_parse(w, len, "w", &back, &err), 0);
	assert_int_equal(back->pid, s->pid);
	assert_string_equal(back->cmdline, s->cmdline);
	assert_int_equal(back->time_ms, s->time_ms);
	assert_string_equal(back->python, s->python);
	assert_string_equal(back->implementation, s->implementation);
	assert_string_equal(back->executable, s->executable);
	assert_int_equal(back->rss, s->rss);
	assert_int_equal(back->gc, s->gc);
	assert_int_equal(back->gc_freed, s->gc_freed);
	assert_int_equal(back->hold_us, s->hold_us);
	assert_int_equal(back->frozen_known, s->frozen_known);
	assert_int_equal(back->frozen, s->frozen);
	assert_int_equal(back->frozen_missed, s->frozen_missed);
	assert_int_equal(back->layout, s->layout);
	assert_string_equal(back->checks_failed, s->checks_failed);
	assert_int_equal(back->interpreters, s->interpreters);
	assert_int_equal(back->objects, s->objects);
	assert_int_equal(back->bytes, s->bytes);
	assert_int_equal(back->ntypes, s->ntypes);
	for (i = 0; i < s->ntypes; i++) {
		assert_string_equal(back->types[i].name, s->types[i].name);
		assert_int_equal(back->types[i].count, s->types[i].count);
		assert_int_equal(back->types[i].bytes, s->types[i].bytes);
	}
	muppy_snapshot_free(back);
	muppy_snapshot_free(s);
	free(w);
}

/* The writer refuses what the parser would reject. */
static void test_write_invalid(void **state)
{
	struct muppy_snapshot *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int what;

	(void)state;
	for (what = 0; what < 16; what++) {
		s = muppy_snapshot_new();
		assert_non_null(s);
		s->pid = 1;
		assert_int_equal(muppy_snapshot_add_raw(s, "a", 1, 1, 1), 0);
		assert_int_equal(muppy_snapshot_add_raw(s, "b", 1, 1, 1), 0);
		assert_int_equal(muppy_snapshot_finish(s), 0);
		switch (what) {
		case 0: s->pid = 0; break;
		case 1: s->pid = -5; break;
		case 2: s->time_ms = MUPPY__TIME_MAX_MS + 1; break;
		case 3: s->time_ms = MUPPY__TIME_MIN_MS - 1; break;
		case 4: s->objects++; break;
		case 5: s->rss = UINT64_MAX; break;
		case 6: s->types[1].name[0] = 'a'; break; /* duplicate */
		case 7: s->types[0].name[0] = '\t'; break;
		case 8: free(s->python); s->python = strdup("\\x41");
			assert_non_null(s->python); break;
		/* The fields of 1.1. */
		case 9: s->frozen_known = true;
			s->frozen = UINT64_C(1) << 63; break;
		case 10: s->interpreters = UINT64_MAX; break;
		case 11: s->layout = (enum muppy_layout)3; break;
		case 12: free(s->checks_failed);
			s->checks_failed = strdup("a\tb");
			assert_non_null(s->checks_failed); break;
		case 13: s->frozen = 5; break; /* not frozen_known */
		case 14: s->frozen_missed = true; break;
		case 15: s->frozen_known = true;
			s->frozen_missed = true; break; /* frozen 0 */
		}
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		if (muppy_snapshot_write(f, s) != -EINVAL)
			fail_msg("case %d written", what);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(len, 0);
		free(buf);
		buf = NULL;
		muppy_snapshot_free(s);
	}
}

/* The writer refuses owners the parser would reject, writing nothing. */
static void test_write_invalid_owners(void **state)
{
	const void *steps[2] = { "module m . x", "T" };
	const size_t lens[2] = { 12, 1 };
	struct muppy_owners *o, *o2;
	struct muppy_snapshot *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int what;

	(void)state;
	for (what = 0; what < 15; what++) {
		s = muppy_snapshot_new();
		assert_non_null(s);
		s->pid = 1;
		assert_int_equal(muppy_snapshot_add_owners(s, "T", 1, 10, 100,
							   1, 1, &o), 0);
		assert_int_equal(muppy_owners_add_holder(o, "h", 1, 10, 100), 0);
		assert_int_equal(muppy_owners_add_holder(o, "i", 1, 1, 1), 0);
		assert_int_equal(muppy_owners_add_path(o, 5, 2, steps, lens), 0);
		assert_int_equal(muppy_snapshot_add_owners(s, "U", 1, 0, 0, 0,
							   0, &o2), 0);
		switch (what) {
		case 0: break; /* valid: written */
		case 1: o->shared = 11; break;
		case 2: o->unreachable = 11; break;
		case 3: o->holders[0].count = 11; break;
		case 4: o->holders[1].bytes = 101; break;
		case 5: o->holders[1].name[0] = 'h'; break; /* twice */
		case 6: o->paths[0].nsteps = 1; break;
		case 7: o->paths[0].id = 0; break;
		case 8: o->paths[0].steps[0][0] = '\t'; break;
		case 9: o2->type[0] = 'T'; break; /* a section twice */
		case 10: o->type[0] = '\x1b'; break;
		case 11: o->count = UINT64_MAX; break;
		case 12: o->holders[0].name[0] = '\n'; break;
		case 13: assert_int_equal(muppy_owners_add_path(o, 5, 2, steps,
								lens), 0);
			break; /* an id twice */
		case 14: s->nowners = MUPPY_OWNERS_MAX + 1; break;
		}
		f = open_memstream(&buf, &len);
		assert_non_null(f);
		if (what == 0) {
			assert_int_equal(muppy_snapshot_write(f, s), 0);
			assert_int_equal(fclose(f), 0);
			assert_true(strncmp(buf, "# muppy-snapshot 1.2\n", 21) == 0);
		} else {
			if (muppy_snapshot_write(f, s) != -EINVAL)
				fail_msg("case %d written", what);
			assert_int_equal(fclose(f), 0);
			assert_int_equal(len, 0);
		}
		free(buf);
		buf = NULL;
		if (what == 14)
			s->nowners = MUPPY_OWNERS_MAX;
		if (what == 6)
			o->paths[0].nsteps = 2; /* every step freed */
		muppy_snapshot_free(s);
	}
}

/* Built owners write as 1.2 and read back the same. */
static void test_roundtrip_owners(void **state)
{
	const void *steps[3] = { "module app . S", "dict['\xe2\x80\xae']",
				 "app.T" };
	const size_t lens[3] = { 14, 11, 5 };
	struct muppy_snapshot *s = muppy_snapshot_new(), *back;
	struct muppy_owners *o;
	struct muppy_error err;
	char *w;
	size_t len;

	(void)state;
	assert_non_null(s);
	s->pid = 7;
	assert_int_equal(muppy_snapshot_add_raw(s, "app.T", 5, 3, 150), 0);
	assert_int_equal(muppy_snapshot_finish(s), 0);
	assert_int_equal(muppy_snapshot_add_owners(s, "app.T", 5, 3, 150, 1,
						   1, &o), 0);
	assert_int_equal(muppy_owners_add_holder(o, "app.S\x00", 6, 1, 50),
			 0);
	assert_int_equal(muppy_owners_add_holder(o, "dict values of app.S",
						 20, 2, 100), 0);
	assert_int_equal(muppy_owners_add_path(o, 140000000000001, 3, steps,
					       lens), 0);
	w = write_mem(s, &len);
	assert_string_equal(w,
		"# muppy-snapshot 1.2\n"
		"# pid 7\n"
		"# cmdline \n"
		"# time 1970-01-01T00:00:00.000Z\n"
		"# python \n"
		"# implementation \n"
		"# executable \n"
		"# rss 0\n"
		"# gc no\n"
		"# gc_freed 0\n"
		"# hold_us 0\n"
		"# owners 3 150 1 1 app.T\n"
		"# held 2 100 dict values of app.S\n"
		"# held 1 50 app.S\\x00\n"
		"# path 140000000000001\n"
		"# step module app . S\n"
		"# step dict['\\xe2\\x80\\xae']\n"
		"# step app.T\n"
		"# objects 3\n"
		"# bytes 150\n"
		"# types 1\n"
		"3\t150\tapp.T\n");
	muppy_error_clear(&err);
	assert_int_equal(muppy_snapshot_parse(w, len, "w", &back, &err), 0);
	assert_int_equal(back->minor, 2);
	assert_int_equal(back->nowners, 1);
	o = &back->owners[0];
	assert_string_equal(o->type, "app.T");
	assert_int_equal(o->count, 3);
	assert_int_equal(o->bytes, 150);
	assert_int_equal(o->shared, 1);
	assert_int_equal(o->unreachable, 1);
	assert_int_equal(o->nholders, 2);
	assert_string_equal(o->holders[0].name, "dict values of app.S");
	assert_int_equal(o->holders[0].count, 2);
	assert_int_equal(o->holders[0].bytes, 100);
	assert_string_equal(o->holders[1].name, "app.S\\x00");
	assert_int_equal(o->npaths, 1);
	assert_int_equal(o->paths[0].id, 140000000000001);
	assert_int_equal(o->paths[0].nsteps, 3);
	assert_string_equal(o->paths[0].steps[0], "module app . S");
	assert_string_equal(o->paths[0].steps[1],
			    "dict['\\xe2\\x80\\xae']");
	assert_string_equal(o->paths[0].steps[2], "app.T");
	muppy_snapshot_free(back);
	muppy_snapshot_free(s);
	free(w);
}

/* At most MUPPY_PATHS_MAX paths a section. */
static void test_many_paths(void **state)
{
	struct muppy_snapshot *s;
	struct muppy_error err;
	char *text, *p;
	int i;

	(void)state;
	text = malloc(64 * 1024);
	assert_non_null(text);
	p = text + sprintf(text, HEAD12 "# owners 1 1 0 0 str\n");
	for (i = 1; i <= MUPPY_PATHS_MAX + 1; i++)
		p += sprintf(p, "# path %d\n# step a\n# step str\n", i);
	assert_int_equal(parse(text, strlen(text), &s, &err), -EINVAL);
	assert_string_equal(err.msg, "t.snap:303: more than 100 paths for 'str'");
	/* 100 are fine. */
	strcpy(strstr(text, "# path 101\n"), FIELDS TOTALS ROWS);
	if (parse(text, strlen(text), &s, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(s->owners[0].npaths, MUPPY_PATHS_MAX);
	muppy_snapshot_free(s);
	free(text);
}

static void test_write_error(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(s);
	if (!f) {
		muppy_snapshot_free(s);
		skip();
	}
	setvbuf(f, NULL, _IONBF, 0);
	s->pid = 1;
	assert_int_equal(muppy_snapshot_write(f, s), -ENOSPC);
	fclose(f);
	muppy_snapshot_free(s);
}

static void test_load_errors(void **state)
{
	struct muppy_snapshot *s = NULL;
	struct muppy_error err;
	FILE *f;

	(void)state;
	muppy_error_clear(&err);
	assert_int_equal(muppy_snapshot_load(DATA "/no-such.snap", &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg,
		DATA "/no-such.snap: No such file or directory");
	assert_null(s);

	/* File names with control characters are shown escaped. */
	muppy_error_clear(&err);
	assert_int_equal(muppy_snapshot_load("no\x1b[2J\\.snap", &s, &err),
			 -ENOENT);
	assert_string_equal(err.msg,
			    "no\\x1b[2J\\\\.snap: No such file or directory");
	muppy_error_clear(&err);
	assert_int_equal(muppy_snapshot_parse("x", 1, "a\tb", &s, &err),
			 -EINVAL);
	assert_string_equal(err.msg, "a\\tb:1: not a muppy snapshot (the "
			    "first line is not '# muppy-snapshot 1.1')");
	assert_null(s);

	/* Reading a directory fails in getline() with EISDIR. */
	muppy_error_clear(&err);
	f = fopen(DATA, "r");
	assert_non_null(f);
	assert_int_equal(muppy_snapshot_read(f, "dir", &s, &err), -EIO);
	assert_string_equal(err.msg, "dir: read error: Is a directory");
	assert_null(s);
	fclose(f);
}

/* Lines of any length, through both parsers. */
static void test_long_line(void **state)
{
	const size_t n = 300000;
	struct muppy_snapshot *s;
	struct muppy_error err;
	char *text, *w;
	size_t len, wlen;
	int stream;

	(void)state;
	text = malloc(n + 1024);
	assert_non_null(text);
	len = (size_t)sprintf(text, HEAD11 FIELDS "# objects 1\n# bytes 2\n"
			      "# types 1\n1\t2\t");
	memset(text + len, 'L', n);
	len += n;
	text[len++] = '\n';
	for (stream = 0; stream < 2; stream++) {
		if (stream)
			assert_int_equal(read_stream(text, len, &s, &err), 0);
		else
			assert_int_equal(parse(text, len, &s, &err), 0);
		assert_int_equal(strlen(s->types[0].name), n);
		w = write_mem(s, &wlen);
		assert_int_equal(wlen, len);
		assert_memory_equal(w, text, len);
		free(w);
		muppy_snapshot_free(s);
	}
	free(text);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * Every good sample loads; those of 1.1 and 1.2 are canonical, those of 1.0 too
 * but for the version line, and newer minor versions are not.
 */
static void test_data_files(void **state)
{
	DIR *d = opendir(DATA);
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		struct muppy_snapshot *s;
		struct muppy_error err;
		char path[512], *text, *w;
		size_t len, wlen, nl = strlen(e->d_name);

		if (nl < 5 || strcmp(e->d_name + nl - 5, ".snap") != 0)
			continue;
		snprintf(path, sizeof(path), DATA "/%s", e->d_name);
		muppy_error_clear(&err);
		if (muppy_snapshot_load(path, &s, &err) != 0)
			fail_msg("%s", err.msg);
		text = slurp(path, &len);
		if (s->minor == 0 && strncmp(text, HEAD, strlen(HEAD)) == 0)
			memcpy(text, HEAD11, strlen(HEAD11));
		w = write_mem(s, &wlen);
		if (s->minor <= 2 &&
		    (wlen != len || memcmp(w, text, len) != 0))
			fail_msg("%s is not canonical", path);
		free(w);
		free(text);
		muppy_snapshot_free(s);
		n++;
	}
	closedir(d);
	assert_true(n >= 5);
}

/* Every bad sample fails with exactly its .err message, both ways. */
static void test_bad_files(void **state)
{
	DIR *d = opendir(DATA "/bad");
	struct dirent *e;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		struct muppy_snapshot *s = NULL;
		struct muppy_error err;
		char path[512], *text, *want;
		size_t len, wlen, nl = strlen(e->d_name);
		FILE *f;

		if (nl < 5 || strcmp(e->d_name + nl - 5, ".snap") != 0)
			continue;
		snprintf(path, sizeof(path), DATA "/bad/%.*s.err",
			 (int)(nl - 5), e->d_name);
		want = slurp(path, &wlen);
		assert_true(wlen > 0 && want[wlen - 1] == '\n');
		want[wlen - 1] = '\0';
		snprintf(path, sizeof(path), DATA "/bad/%s", e->d_name);
		text = slurp(path, &len);

		assert_int_equal(parse(text, len, &s, &err), -EINVAL);
		if (strcmp(err.msg + strlen("t.snap"),
			   strchr(want, ':')) != 0)
			fail_msg("%s: got '%s', want '%s'", path, err.msg,
				 want);
		if (len > 0) {
			assert_int_equal(read_stream(text, len, &s, &err),
					 -EINVAL);
			assert_string_equal(err.msg + strlen("t.snap"),
					    strchr(want, ':'));
		}
		f = fopen(path, "r");
		assert_non_null(f);
		muppy_error_clear(&err);
		assert_int_equal(muppy_snapshot_read(f, e->d_name, &s, &err),
				 -EINVAL);
		assert_string_equal(err.msg, want);
		fclose(f);
		free(text);
		free(want);
		n++;
	}
	closedir(d);
	assert_true(n >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_fields_1_1),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_roundtrip_built),
		cmocka_unit_test(test_write_invalid),
		cmocka_unit_test(test_write_invalid_owners),
		cmocka_unit_test(test_roundtrip_owners),
		cmocka_unit_test(test_many_paths),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_data_files),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
