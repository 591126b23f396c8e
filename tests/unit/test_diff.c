/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/analysis/diff.c: computing and sorting the change per type. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

#define MAXROWS 8
#define MAX MUPPY_MAX_VALUE

struct row {
	const char *name;
	uint64_t count, bytes;
};

/* A snapshot on the stack; the rows are in any order, as in a file. */
struct fake {
	struct muppy_snapshot s;
	struct muppy_type_stat t[MAXROWS];
};

static void fake_init(struct fake *f, const struct row *rows)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->s.types = f->t;
	f->s.executable = (char *)"/usr/bin/python3";
	for (i = 0; i < MAXROWS && rows[i].name; i++) {
		f->t[i].name = (char *)rows[i].name;
		f->t[i].count = rows[i].count;
		f->t[i].bytes = rows[i].bytes;
		/* Totals saturate at MAX so extreme tables stay valid. */
		f->s.objects = rows[i].count > MAX - f->s.objects ?
			MAX : f->s.objects + rows[i].count;
		f->s.bytes = rows[i].bytes > MAX - f->s.bytes ?
			MAX : f->s.bytes + rows[i].bytes;
	}
	f->s.ntypes = i;
}

struct want {
	const char *name;
	int64_t d_count, d_bytes;
	uint64_t old_count, old_bytes, new_count, new_bytes;
};

struct compute_case {
	const char *what;
	struct row old[MAXROWS], new[MAXROWS];
	int rc;
	/* Rows in name order (the test sorts by name before comparing). */
	struct want rows[MAXROWS];
	int64_t d_objects, d_bytes;
};

static const struct compute_case compute_cases[] = {
	{ "both empty", { { 0 } }, { { 0 } }, 0, { { 0 } }, 0, 0 },
	{ "identical: nothing left",
	  { { "dict", 5, 500 }, { "str", 3, 150 }, { 0 } },
	  { { "str", 3, 150 }, { "dict", 5, 500 }, { 0 } },
	  0, { { 0 } }, 0, 0 },
	{ "only in old, only in new, changed, unchanged",
	  { { "gone", 4, 400 }, { "same", 1, 10 }, { "grew", 2, 20 },
	    { 0 } },
	  { { "grew", 3, 30 }, { "same", 1, 10 }, { "born", 7, 70 },
	    { 0 } },
	  0,
	  { { "born", 7, 70, 0, 0, 7, 70 },
	    { "gone", -4, -400, 4, 400, 0, 0 },
	    { "grew", 1, 10, 2, 20, 3, 30 },
	    { 0 } },
	  4, -320 },
	{ "count changes alone, bytes change alone",
	  { { "a", 1, 100 }, { "b", 5, 100 }, { 0 } },
	  { { "a", 2, 100 }, { "b", 5, 90 }, { 0 } },
	  0,
	  { { "a", 1, 0, 1, 100, 2, 100 },
	    { "b", 0, -10, 5, 100, 5, 90 },
	    { 0 } },
	  1, -10 },
	{ "extremes: 0 to 2^63-1 and back",
	  { { "up", 0, 0 }, { "down", MAX, MAX }, { 0 } },
	  { { "up", MAX, MAX }, { "down", 0, 0 }, { 0 } },
	  0,
	  { { "down", -INT64_MAX, -INT64_MAX, MAX, MAX, 0, 0 },
	    { "up", INT64_MAX, INT64_MAX, 0, 0, MAX, MAX },
	    { 0 } },
	  0, 0 },
	{ "extremes: type appears and disappears at 2^63-1",
	  { { "old", MAX, MAX }, { 0 } },
	  { { "new", MAX, MAX }, { 0 } },
	  0,
	  { { "new", INT64_MAX, INT64_MAX, 0, 0, MAX, MAX },
	    { "old", -INT64_MAX, -INT64_MAX, MAX, MAX, 0, 0 },
	    { 0 } },
	  0, 0 },
	{ "a value above 2^63-1 is refused",
	  { { "x", (uint64_t)MAX + 1, 1 }, { 0 } },
	  { { "x", 1, 1 }, { 0 } },
	  -EOVERFLOW, { { 0 } }, 0, 0 },
	{ "a repeated name is refused",
	  { { "x", 1, 1 }, { 0 } },
	  { { "x", 1, 1 }, { "y", 1, 1 }, { "x", 2, 2 }, { 0 } },
	  -EINVAL, { { 0 } }, 0, 0 },
	{ "names differing only after a common prefix",
	  { { "ab", 1, 1 }, { "a", 1, 1 }, { 0 } },
	  { { "a", 2, 2 }, { "abc", 1, 1 }, { 0 } },
	  0,
	  { { "a", 1, 1, 1, 1, 2, 2 },
	    { "ab", -1, -1, 1, 1, 0, 0 },
	    { "abc", 1, 1, 0, 0, 1, 1 },
	    { 0 } },
	  1, 1 },
};

static void test_compute(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < ARRAY_SIZE(compute_cases); c++) {
		const struct compute_case *k = &compute_cases[c];
		struct fake old, new;
		struct muppy_diff *d = (void *)1;
		size_t nwant = 0;
		int rc;

		print_message("case: %s\n", k->what);
		fake_init(&old, k->old);
		fake_init(&new, k->new);
		rc = muppy_diff_compute(&old.s, &new.s, &d);
		assert_int_equal(rc, k->rc);
		if (rc) {
			assert_null(d);
			continue;
		}
		while (nwant < MAXROWS && k->rows[nwant].name)
			nwant++;
		assert_ptr_equal(d->old, &old.s);
		assert_ptr_equal(d->new, &new.s);
		assert_int_equal(d->nrows, nwant);
		assert_true(d->d_objects == k->d_objects);
		assert_true(d->d_bytes == k->d_bytes);
		assert_int_equal(d->sort, MUPPY_SORT_SIZE);
		muppy_diff_sort(d, MUPPY_SORT_NAME);
		for (i = 0; i < nwant; i++) {
			const struct muppy_diff_row *r = &d->rows[i];
			const struct want *w = &k->rows[i];

			assert_string_equal(r->name, w->name);
			assert_true(r->d_count == w->d_count);
			assert_true(r->d_bytes == w->d_bytes);
			assert_true(r->old_count == w->old_count);
			assert_true(r->old_bytes == w->old_bytes);
			assert_true(r->new_count == w->new_count);
			assert_true(r->new_bytes == w->new_bytes);
		}
		muppy_diff_free(d);
	}
}

/* Totals come from the snapshots' objects and bytes. */
static void test_totals_extreme(void **state)
{
	struct fake old, new;
	struct muppy_diff *d;

	(void)state;
	fake_init(&old, (const struct row[]){ { "a", 1, 1 }, { 0 } });
	fake_init(&new, (const struct row[]){ { "a", 2, 2 }, { 0 } });
	old.s.objects = MAX;
	old.s.bytes = 0;
	new.s.objects = 0;
	new.s.bytes = MAX;
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), 0);
	assert_true(d->d_objects == -INT64_MAX);
	assert_true(d->d_bytes == INT64_MAX);
	muppy_diff_free(d);

	new.s.bytes = (uint64_t)MAX + 1;
	d = (void *)1;
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), -EOVERFLOW);
	assert_null(d);
}

struct sort_case {
	const char *what;
	enum muppy_sort by;
	struct row old[MAXROWS], new[MAXROWS];
	const char *order[MAXROWS];
};

static const struct sort_case sort_cases[] = {
	{ "size: absolute byte change, shrinking counts too",
	  MUPPY_SORT_SIZE,
	  { { "small", 1, 10 }, { "shrank", 100, 1000 }, { "grew", 1, 1 },
	    { 0 } },
	  { { "small", 2, 20 }, { "shrank", 1, 1 }, { "grew", 1, 501 },
	    { 0 } },
	  { "shrank", "grew", "small" } },
	{ "size ties: count change, then name",
	  MUPPY_SORT_SIZE,
	  { { "b", 1, 100 }, { "a", 1, 100 }, { "c", 10, 100 }, { 0 } },
	  { { "b", 2, 200 }, { "a", 2, 0 }, { "c", 1, 200 }, { 0 } },
	  { "c", "a", "b" } },
	{ "size: 2^63-1 either way and 0",
	  MUPPY_SORT_SIZE,
	  { { "down", MAX, MAX }, { "up", 0, 0 }, { "countonly", 1, 5 },
	    { 0 } },
	  { { "down", 0, 0 }, { "up", MAX - 1, MAX }, { "countonly", 2, 5 },
	    { 0 } },
	  { "down", "up", "countonly" } },
	{ "count: absolute count change",
	  MUPPY_SORT_COUNT,
	  { { "big", 1, 1 }, { "many", 1000, 1 }, { "few", 5, 1 }, { 0 } },
	  { { "big", 2, 1000000 }, { "many", 1, 1 }, { "few", 10, 1 },
	    { 0 } },
	  { "many", "few", "big" } },
	{ "count ties: byte change, then name",
	  MUPPY_SORT_COUNT,
	  { { "y", 1, 1 }, { "x", 1, 1 }, { "z", 3, 1 }, { 0 } },
	  { { "y", 2, 50 }, { "x", 2, 50 }, { "z", 2, 90 }, { 0 } },
	  { "z", "x", "y" } },
	{ "name: bytewise, upper case and UTF-8",
	  MUPPY_SORT_NAME,
	  { { "b", 1, 1 }, { "B", 1, 1 }, { "\xc3\xa9", 1, 1 },
	    { "a.b", 1, 1 }, { "a", 1, 1 }, { 0 } },
	  { { "b", 2, 1 }, { "B", 2, 1 }, { "\xc3\xa9", 2, 1 },
	    { "a.b", 2, 1 }, { "a", 2, 1 }, { 0 } },
	  { "B", "a", "a.b", "b", "\xc3\xa9" } },
	{ "an out-of-range key sorts by size",
	  (enum muppy_sort)42,
	  { { "a", 1, 1 }, { "b", 1, 1 }, { 0 } },
	  { { "a", 2, 2 }, { "b", 1, 9 }, { 0 } },
	  { "b", "a" } },
};

static void test_sort(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < ARRAY_SIZE(sort_cases); c++) {
		const struct sort_case *k = &sort_cases[c];
		struct fake old, new;
		struct muppy_diff *d;

		print_message("case: %s\n", k->what);
		fake_init(&old, k->old);
		fake_init(&new, k->new);
		assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), 0);
		/* Sort by something else first so the order is not inherited. */
		muppy_diff_sort(d, k->by == MUPPY_SORT_NAME ? MUPPY_SORT_COUNT
							     : MUPPY_SORT_NAME);
		muppy_diff_sort(d, k->by);
		for (i = 0; i < MAXROWS && k->order[i]; i++) {
			assert_true(i < d->nrows);
			assert_string_equal(d->rows[i].name, k->order[i]);
		}
		assert_int_equal(d->nrows, i);
		assert_int_equal(d->sort, k->by == MUPPY_SORT_COUNT ||
					  k->by == MUPPY_SORT_NAME ?
					  k->by : MUPPY_SORT_SIZE);
		muppy_diff_free(d);
	}
}

static void test_free_null(void **state)
{
	(void)state;
	muppy_diff_free(NULL);
}

/* The change per holder of each type both snapshots have owners of. */
static void test_owners(void **state)
{
	struct muppy_holder oh[3] = {
		{ (char *)"a", 10, 100 }, { (char *)"same", 1, 8 },
		{ (char *)"gone", 2, 20 },
	};
	struct muppy_holder nh[4] = {
		{ (char *)"same", 1, 8 }, { (char *)"new", 3, 9000 },
		{ (char *)"a", 40, 400 }, { (char *)"b", 1, 300 },
	};
	struct muppy_owners oo[2] = {
		{ (char *)"T", 13, 128, 0, 0, 3, oh, 0, NULL },
		{ (char *)"only-old", 0, 0, 0, 0, 0, NULL, 0, NULL },
	};
	struct muppy_owners no[3] = {
		{ (char *)"only-new", 0, 0, 0, 0, 0, NULL, 0, NULL },
		{ (char *)"U", 0, 0, 0, 0, 0, NULL, 0, NULL },
		{ (char *)"T", 45, 9708, 0, 0, 4, nh, 0, NULL },
	};
	struct muppy_owners uo = { (char *)"U", 0, 0, 0, 0, 0, NULL, 0, NULL };
	static const struct row none[] = { { NULL, 0, 0 } };
	const struct muppy_owners_diff *od;
	struct fake old, new;
	struct muppy_diff *d;
	struct muppy_owners oo3[3];

	(void)state;
	fake_init(&old, none);
	fake_init(&new, none);
	new.s.owners = no;
	new.s.nowners = 3;
	/* Only one side has owners: nothing to compare. */
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), 0);
	assert_int_equal(d->nowners, 0);
	muppy_diff_free(d);

	memcpy(oo3, oo, sizeof(oo));
	oo3[2] = uo;
	old.s.owners = oo3;
	old.s.nowners = 3;
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), 0);
	assert_int_equal(d->nowners, 2); /* U and T, in NEW's order */
	assert_string_equal(d->owners[0].new->type, "U");
	assert_int_equal(d->owners[0].nrows, 0);
	od = &d->owners[1];
	assert_ptr_equal(od->old, &oo3[0]);
	assert_ptr_equal(od->new, &no[2]);
	/* |Δ bytes| descending: new 9000, b 300, a 300 (count 30 > 1
	 * breaks the tie the other way), gone -20; same is not shown. */
	assert_int_equal(od->nrows, 4);
	assert_string_equal(od->rows[0].name, "new");
	assert_int_equal(od->rows[0].d_bytes, 9000);
	assert_int_equal(od->rows[0].old_count, 0);
	assert_string_equal(od->rows[1].name, "a");
	assert_int_equal(od->rows[1].d_count, 30);
	assert_int_equal(od->rows[1].d_bytes, 300);
	assert_int_equal(od->rows[1].old_bytes, 100);
	assert_int_equal(od->rows[1].new_bytes, 400);
	assert_string_equal(od->rows[2].name, "b");
	assert_string_equal(od->rows[3].name, "gone");
	assert_int_equal(od->rows[3].d_count, -2);
	assert_int_equal(od->rows[3].d_bytes, -20);
	assert_int_equal(od->rows[3].new_count, 0);
	/* The order of types does not change the holders. */
	muppy_diff_sort(d, MUPPY_SORT_NAME);
	assert_string_equal(d->owners[1].rows[0].name, "new");
	muppy_diff_free(d);

	/* A holder twice in a section is refused. */
	nh[3].name = (char *)"a";
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), -EINVAL);
	nh[3].name = (char *)"b";
	nh[3].bytes = UINT64_MAX;
	assert_int_equal(muppy_diff_compute(&old.s, &new.s, &d), -EOVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_totals_extreme),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_owners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
