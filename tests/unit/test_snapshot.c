/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/model/snapshot.c: building and finishing a snapshot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

#define MAXROWS 8
#define MAX ((uint64_t)MUPPY_MAX_VALUE)

struct row {
	const char *name; /* raw bytes, NUL-terminated */
	uint64_t count, bytes;
};

struct finish_case {
	const char *what;
	struct row in[MAXROWS];
	int rc;
	struct row out[MAXROWS]; /* escaped names, canonical order */
	uint64_t objects, bytes;
};

static const struct finish_case finish_cases[] = {
	{ "empty", { { NULL } }, 0, { { NULL } }, 0, 0 },
	{ "one row", { { "dict", 3, 300 } }, 0, { { "dict", 3, 300 } }, 3, 300 },
	{
		"bytes descending",
		{ { "a", 1, 10 }, { "b", 1, 30 }, { "c", 1, 20 } },
		0,
		{ { "b", 1, 30 }, { "c", 1, 20 }, { "a", 1, 10 } },
		3, 60,
	},
	{
		"ties by name, bytewise",
		{ { "b", 1, 8 }, { "B", 2, 8 }, { "a", 3, 8 }, { "\xc3\xa9", 1, 8 },
		  { "", 1, 8 }, { "a.b", 1, 8 } },
		0,
		{ { "", 1, 8 }, { "B", 2, 8 }, { "a", 3, 8 }, { "a.b", 1, 8 },
		  { "b", 1, 8 }, { "\xc3\xa9", 1, 8 } },
		9, 48,
	},
	{
		/* Escaped names sort by their escaped bytes: '\' < 'a'. */
		"escaped names",
		{ { "a", 1, 8 }, { "\x01", 1, 8 }, { "\t", 1, 8 } },
		0,
		{ { "\\t", 1, 8 }, { "\\x01", 1, 8 }, { "a", 1, 8 } },
		3, 24,
	},
	{
		"equal names merge",
		{ { "str", 1, 50 }, { "dict", 2, 10 }, { "str", 4, 5 },
		  { "dict", 1, 100 }, { "str", 0, 0 } },
		0,
		{ { "dict", 3, 110 }, { "str", 5, 55 } },
		8, 165,
	},
	{
		"zero rows stay",
		{ { "x", 0, 0 } },
		0,
		{ { "x", 0, 0 } },
		0, 0,
	},
	{
		"maximum values",
		{ { "a", MAX, 0 }, { "b", 0, MAX } },
		0,
		{ { "b", 0, MAX }, { "a", MAX, 0 } },
		MAX, MAX,
	},
	{
		"count above the maximum",
		{ { "a", MAX + 1, 0 } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
	{
		"bytes above the maximum",
		{ { "a", 0, UINT64_MAX } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
	{
		"merged count overflows",
		{ { "a", MAX, 1 }, { "b", 1, 1 }, { "a", 1, 1 } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
	{
		"merged bytes overflow",
		{ { "a", 1, MAX }, { "a", 1, 1 }, { "c", 1, 1 } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
	{
		"total count overflows",
		{ { "a", MAX, 1 }, { "b", 1, 1 } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
	{
		"total bytes overflow",
		{ { "a", 1, MAX - 1 }, { "b", 1, 2 } },
		-EOVERFLOW, { { NULL } }, 0, 0,
	},
};

static void test_finish(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(finish_cases); i++) {
		const struct finish_case *c = &finish_cases[i];
		struct muppy_snapshot *s = muppy_snapshot_new();
		int rc;

		assert_non_null(s);
		for (j = 0; j < MAXROWS && c->in[j].name; j++)
			assert_int_equal(muppy_snapshot_add_raw(s, c->in[j].name,
					 strlen(c->in[j].name), c->in[j].count,
					 c->in[j].bytes), 0);
		rc = muppy_snapshot_finish(s);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->what, rc, c->rc);
		if (rc == 0) {
			for (j = 0; j < MAXROWS && c->out[j].name; j++) {
				assert_true(j < s->ntypes);
				if (strcmp(s->types[j].name, c->out[j].name))
					fail_msg("%s: row %zu is '%s', want '%s'",
						 c->what, j, s->types[j].name,
						 c->out[j].name);
				assert_int_equal(s->types[j].count,
						 c->out[j].count);
				assert_int_equal(s->types[j].bytes,
						 c->out[j].bytes);
			}
			assert_int_equal(s->ntypes, j);
			assert_int_equal(s->objects, c->objects);
			assert_int_equal(s->bytes, c->bytes);
		}
		/* Even after -EOVERFLOW the snapshot frees cleanly (ASan). */
		muppy_snapshot_free(s);
	}
}

/* finish() is idempotent. */
static void test_finish_twice(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();

	(void)state;
	assert_non_null(s);
	assert_int_equal(muppy_snapshot_add_raw(s, "b", 1, 1, 1), 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "a", 1, 2, 2), 0);
	assert_int_equal(muppy_snapshot_add_raw(s, "b", 1, 3, 3), 0);
	assert_int_equal(muppy_snapshot_finish(s), 0);
	assert_int_equal(muppy_snapshot_finish(s), 0);
	assert_int_equal(s->ntypes, 2);
	assert_string_equal(s->types[0].name, "b");
	assert_int_equal(s->types[0].count, 4);
	assert_int_equal(s->objects, 6);
	muppy_snapshot_free(s);
}

static void test_new(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->cmdline, "");
	assert_string_equal(s->python, "");
	assert_string_equal(s->implementation, "");
	assert_string_equal(s->executable, "");
	assert_int_equal(s->minor, 0);
	assert_int_equal(s->pid, 0);
	assert_int_equal(s->ntypes, 0);
	assert_null(s->types);
	muppy_snapshot_free(s);
	muppy_snapshot_free(NULL);
}

static void test_set_raw(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();

	(void)state;
	assert_non_null(s);
	assert_int_equal(muppy_snapshot_set_raw(&s->cmdline,
			 "python3\0-c\0x\ty", 14), 0);
	assert_string_equal(s->cmdline, "python3\\x00-c\\x00x\\ty");
	assert_int_equal(muppy_snapshot_set_raw(&s->cmdline, "", 0), 0);
	assert_string_equal(s->cmdline, "");
	assert_int_equal(muppy_snapshot_set_raw(&s->executable,
			 "/tmp/\xe2\x80\xae/py", 11), 0);
	assert_string_equal(s->executable, "/tmp/\\xe2\\x80\\xae/py");
	muppy_snapshot_free(s);
}

/* Names keep embedded NULs (escaped) and the rows grow past any cap. */
static void test_add_many(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();
	char name[32];
	size_t i;
	int n;

	(void)state;
	assert_non_null(s);
	assert_int_equal(muppy_snapshot_add_raw(s, "a\0b", 3, 1, 1), 0);
	assert_string_equal(s->types[0].name, "a\\x00b");
	for (i = 0; i < 10000; i++) {
		n = snprintf(name, sizeof(name), "mod.C%zu", i % 5000);
		assert_int_equal(muppy_snapshot_add_raw(s, name, (size_t)n, 1,
							i % 5000), 0);
	}
	assert_int_equal(s->ntypes, 10001); /* every row kept (ASan: in bounds) */
	assert_int_equal(muppy__snapshot_add_escaped(s, "x\\ty", 4, 1, 0), 0);
	assert_string_equal(s->types[s->ntypes - 1].name, "x\\ty");
	assert_int_equal(muppy_snapshot_finish(s), 0);
	assert_int_equal(s->ntypes, 5002);
	assert_int_equal(s->objects, 10002);
	assert_string_equal(s->types[0].name, "mod.C4999");
	assert_int_equal(s->types[0].bytes, 2 * 4999);
	for (i = 1; i < s->ntypes; i++)
		assert_true(s->types[i - 1].bytes > s->types[i].bytes ||
			    (s->types[i - 1].bytes == s->types[i].bytes &&
			     strcmp(s->types[i - 1].name,
				    s->types[i].name) < 0));
	muppy_snapshot_free(s);
}

/* Owners: raw text escaped, sections never moved, holders sorted by
 * finish, limits. */
static void test_owners(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();
	struct muppy_owners *o, *first = NULL;
	const void *steps[3] = { "module app . X", "dict['\x1b']", "T\n" };
	const size_t lens[3] = { 14, 9, 2 };
	char name[16];
	size_t i;

	(void)state;
	assert_non_null(s);
	assert_null(muppy_snapshot_owners(s, "T\\n"));
	assert_int_equal(muppy_snapshot_add_owners(s, "T\n", 2, 10, 100, 1,
						   2, &first), 0);
	assert_string_equal(first->type, "T\\n");
	assert_int_equal(first->count, 10);
	assert_int_equal(first->bytes, 100);
	assert_int_equal(first->shared, 1);
	assert_int_equal(first->unreachable, 2);
	assert_int_equal(first->nholders, 0);
	assert_int_equal(first->npaths, 0);
	/* bytes descending, then count descending, then name */
	assert_int_equal(muppy_owners_add_holder(first, "b", 1, 1, 10), 0);
	assert_int_equal(muppy_owners_add_holder(first, "a\t", 2, 2, 10), 0);
	assert_int_equal(muppy_owners_add_holder(first, "c", 1, 9, 90), 0);
	assert_int_equal(muppy_owners_add_holder(first, "a", 1, 1, 10), 0);
	assert_int_equal(muppy_owners_add_holder(first, "z", 1, 3, 5), 0);
	assert_int_equal(muppy_owners_add_path(first, 7, 3, steps, lens), 0);
	assert_int_equal(muppy_owners_add_path(first, 8, 1, steps, lens),
			 -EINVAL);
	assert_int_equal(first->npaths, 1);
	assert_int_equal(first->paths[0].id, 7);
	assert_int_equal(first->paths[0].nsteps, 3);
	assert_string_equal(first->paths[0].steps[1], "dict['\\x1b']");
	assert_string_equal(first->paths[0].steps[2], "T\\n");
	for (i = 1; i < MUPPY_OWNERS_MAX; i++) {
		int n = snprintf(name, sizeof(name), "U%zu", i);

		assert_int_equal(muppy_snapshot_add_owners(s, name, (size_t)n,
							   0, 0, 0, 0, &o), 0);
		assert_ptr_equal(o, &s->owners[i]);
	}
	assert_ptr_equal(first, &s->owners[0]); /* never moved */
	assert_int_equal(muppy_snapshot_add_owners(s, "V", 1, 0, 0, 0, 0, &o),
			 -E2BIG);
	assert_int_equal(s->nowners, MUPPY_OWNERS_MAX);
	assert_ptr_equal(muppy_snapshot_owners(s, "T\\n"), first);
	assert_ptr_equal(muppy_snapshot_owners(s, "U3"), &s->owners[3]);
	assert_null(muppy_snapshot_owners(s, "T\n"));
	assert_int_equal(muppy_snapshot_finish(s), 0);
	assert_string_equal(first->holders[0].name, "c");
	assert_string_equal(first->holders[1].name, "a\\t");
	assert_string_equal(first->holders[2].name, "a");
	assert_string_equal(first->holders[3].name, "b");
	assert_string_equal(first->holders[4].name, "z");
	for (i = 0; i < MUPPY_PATHS_MAX - 1; i++)
		assert_int_equal(muppy_owners_add_path(&s->owners[1], i + 1, 2,
						       steps, lens), 0);
	assert_int_equal(muppy_owners_add_path(&s->owners[1], 1000, 3, steps,
					       lens), 0);
	assert_int_equal(muppy_owners_add_path(&s->owners[1], 1001, 2, steps,
					       lens), -E2BIG);
	assert_int_equal(s->owners[1].npaths, MUPPY_PATHS_MAX);
	assert_int_equal(s->owners[1].paths[MUPPY_PATHS_MAX - 1].nsteps, 3);
	muppy_snapshot_free(s); /* ASan: every string freed */
}

/* Many holders: the arrays grow without a capacity field. */
static void test_owners_many(void **state)
{
	struct muppy_snapshot *s = muppy_snapshot_new();
	struct muppy_owners *o;
	char name[32];
	size_t i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(muppy_snapshot_add_owners(s, "T", 1, 5000, 5000, 0,
						   0, &o), 0);
	for (i = 0; i < 5000; i++) {
		int n = snprintf(name, sizeof(name), "h%zu", i);

		assert_int_equal(muppy_owners_add_holder(o, name, (size_t)n,
							 1, i % 7), 0);
	}
	muppy_owners_sort(o);
	assert_int_equal(o->nholders, 5000);
	for (i = 1; i < o->nholders; i++)
		assert_true(o->holders[i - 1].bytes > o->holders[i].bytes ||
			    (o->holders[i - 1].bytes == o->holders[i].bytes &&
			     strcmp(o->holders[i - 1].name,
				    o->holders[i].name) < 0));
	muppy_snapshot_free(s);
}

/* The program of a command line, as Python reads its options. */
static void test_program(void **state)
{
	static const struct {
		const char *cmdline, *program;
	} cases[] = {
		{ "python3 app.py", "app.py" },
		{ "/usr/bin/python3.11 -u /srv/web/app.py --port 8080", "app.py" },
		{ "python3 -m http.server 8000", "http.server" },
		{ "python3 -mmod x", "mod" },
		{ "python3 -um mod", "mod" },
		{ "python3 -B -W ignore -X dev app.py", "app.py" },
		{ "python3 -Wignore -Xdev app.py", "app.py" },
		{ "python3 -OO -- -weird.py", "-weird.py" },
		{ "python3 --check-hash-based-pycs never app.py", "app.py" },
		{ "python3 -I -c import time; time.sleep(9)", "-c" },
		{ "python3 -Ic pass", "-c" },
		{ "python3 - <x", "-" },
		{ "python3", "python3" },
		{ "python3 -i", "python3" },
		{ "python3 -m", "python3" },
		{ "/usr/bin/python3.14-dbg tests/py/leaker.py", "leaker.py" },
		{ "/usr/bin/python3 /usr/bin/gunicorn app:app", "gunicorn" },
		{ "uwsgi --ini /etc/app.ini", "uwsgi" },
		{ "/usr/bin/gdb -batch", "gdb" },
		{ "   python3   app.py  ", "app.py" },
		{ "python3 /srv/my\\x22app.py", "my\\x22app.py" },
		{ "", "" },
		{ NULL, "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 99;
		const char *p = muppy_cmdline_program(cases[i].cmdline, &len);

		assert_non_null(p);
		assert_int_equal(len, strlen(cases[i].program));
		assert_memory_equal(p, cases[i].program, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new),
		cmocka_unit_test(test_program),
		cmocka_unit_test(test_set_raw),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_finish_twice),
		cmocka_unit_test(test_add_many),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_owners_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
