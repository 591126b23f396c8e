/* SPDX-License-Identifier: MIT */
/*
 * Comparison of two snapshots: one row per type whose count or bytes
 * changed, types missing from one side counting as zero there.
 *
 * Every count and byte total is at most MUPPY_MAX_VALUE (2^63 - 1), so
 * each difference new - old lies in [-(2^63 - 1), 2^63 - 1] and fits an
 * int64_t; values above the limit are refused with -EOVERFLOW.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* A row of either kind (a type, a holder): what the merge reads. */
struct named {
	const char *name;
	uint64_t count, bytes;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name,
		      ((const struct named *)b)->name);
}

/*
 * v[0..n) in name order: -EINVAL for a row without a name or a repeated
 * one, -EOVERFLOW for a value above MUPPY_MAX_VALUE.
 */
static int sort_named(struct named *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].name)
			return -EINVAL;
		if (v[i].count > MUPPY_MAX_VALUE || v[i].bytes > MUPPY_MAX_VALUE)
			return -EOVERFLOW;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_named);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1].name, v[i].name))
			return -EINVAL;
	return 0;
}

static struct named *types_named(const struct muppy_snapshot *s)
{
	struct named *v = calloc(s->ntypes + 1, sizeof(*v));

	for (size_t i = 0; v && i < s->ntypes; i++)
		v[i] = (struct named){ s->types[i].name, s->types[i].count,
				       s->types[i].bytes };
	return v;
}

static struct named *holders_named(const struct muppy_owners *o)
{
	struct named *v = calloc(o->nholders + 1, sizeof(*v));

	for (size_t i = 0; v && i < o->nholders; i++)
		v[i] = (struct named){ o->holders[i].name, o->holders[i].count,
				       o->holders[i].bytes };
	return v;
}

/* new - old for two values in [0, MUPPY_MAX_VALUE]. */
static int64_t delta(uint64_t old, uint64_t new)
{
	return (int64_t)new - (int64_t)old;
}

/*
 * The rows of what changed between old[0..no) and new[0..nn), both in
 * name order, into rows (room for no + nn), a name missing from one side
 * counting zero there; *nrows gets how many.
 */
static void merge_named(const struct named *old, size_t no,
			const struct named *new, size_t nn,
			struct muppy_diff_row *rows, size_t *nrows)
{
	static const struct named none;
	size_t i = 0, j = 0;

	*nrows = 0;
	while (i < no || j < nn) {
		int c = i == no ? 1 : j == nn ? -1 :
			strcmp(old[i].name, new[j].name);
		const struct named *o = c <= 0 ? &old[i++] : &none;
		const struct named *n = c >= 0 ? &new[j++] : &none;
		struct muppy_diff_row *r = &rows[*nrows];

		r->name = n->name ? n->name : o->name;
		r->old_count = o->count;
		r->old_bytes = o->bytes;
		r->new_count = n->count;
		r->new_bytes = n->bytes;
		if (r->old_count == r->new_count && r->old_bytes == r->new_bytes)
			continue;
		r->d_count = delta(r->old_count, r->new_count);
		r->d_bytes = delta(r->old_bytes, r->new_bytes);
		(*nrows)++;
	}
}

static int cmp_size(const void *a, const void *b);

/* The holders of one type in both snapshots, merged by name. */
static int diff_holders(struct muppy_owners_diff *od)
{
	struct named *o = holders_named(od->old), *n = holders_named(od->new);
	int rc = -ENOMEM;

	od->rows = calloc(od->old->nholders + od->new->nholders + 1,
			  sizeof(*od->rows));
	if (o && n && od->rows) {
		rc = sort_named(o, od->old->nholders);
		if (!rc)
			rc = sort_named(n, od->new->nholders);
	}
	if (!rc) {
		merge_named(o, od->old->nholders, n, od->new->nholders,
			    od->rows, &od->nrows);
		if (od->nrows > 1)
			qsort(od->rows, od->nrows, sizeof(*od->rows), cmp_size);
	}
	free(o);
	free(n);
	return rc;
}

/* Every type both snapshots have owners of, in NEW's order. */
static int diff_owners(struct muppy_diff *d)
{
	size_t i;
	int rc;

	if (!d->new->nowners || !d->old->nowners)
		return 0;
	d->owners = calloc(d->new->nowners, sizeof(*d->owners));
	if (!d->owners)
		return -ENOMEM;
	for (i = 0; i < d->new->nowners; i++) {
		const struct muppy_owners *n = &d->new->owners[i], *o;
		struct muppy_owners_diff *od;

		if (!n->type)
			return -EINVAL;
		o = muppy_snapshot_owners(d->old, n->type);
		if (!o)
			continue;
		od = &d->owners[d->nowners++];
		od->old = o;
		od->new = n;
		rc = diff_holders(od);
		if (rc)
			return rc;
	}
	return 0;
}

int muppy_diff_compute(const struct muppy_snapshot *old,
		       const struct muppy_snapshot *new,
		       struct muppy_diff **out)
{
	struct named *o = NULL, *n = NULL;
	struct muppy_diff *d;
	int rc = -ENOMEM;

	*out = NULL;
	if (old->objects > MUPPY_MAX_VALUE || old->bytes > MUPPY_MAX_VALUE ||
	    new->objects > MUPPY_MAX_VALUE || new->bytes > MUPPY_MAX_VALUE)
		return -EOVERFLOW;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->old = old;
	d->new = new;
	d->d_objects = delta(old->objects, new->objects);
	d->d_bytes = delta(old->bytes, new->bytes);
	/* At most one row per distinct name; the sum cannot wrap a size_t
	 * because both arrays exist in memory. */
	d->rows = calloc(old->ntypes + new->ntypes + 1, sizeof(*d->rows));
	o = types_named(old);
	n = types_named(new);
	if (!d->rows || !o || !n)
		goto out;
	rc = sort_named(o, old->ntypes);
	if (!rc)
		rc = sort_named(n, new->ntypes);
	if (rc)
		goto out;
	merge_named(o, old->ntypes, n, new->ntypes, d->rows, &d->nrows);
	rc = diff_owners(d);
	if (rc)
		goto out;
	muppy_diff_sort(d, MUPPY_SORT_SIZE);
	*out = d;
	d = NULL; /* handed over */
out:
	free(o);
	free(n);
	muppy_diff_free(d);
	return rc;
}

/* |v| for v >= -(2^63 - 1), as every difference is. */
static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

/* Larger magnitude first. */
static int cmp_magnitude(int64_t a, int64_t b)
{
	uint64_t x = magnitude(a), y = magnitude(b);

	return x > y ? -1 : x < y;
}

static int cmp_size(const void *a, const void *b)
{
	const struct muppy_diff_row *x = a, *y = b;
	int c = cmp_magnitude(x->d_bytes, y->d_bytes);

	if (!c)
		c = cmp_magnitude(x->d_count, y->d_count);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_count(const void *a, const void *b)
{
	const struct muppy_diff_row *x = a, *y = b;
	int c = cmp_magnitude(x->d_count, y->d_count);

	if (!c)
		c = cmp_magnitude(x->d_bytes, y->d_bytes);
	return c ? c : strcmp(x->name, y->name);
}

static int cmp_name(const void *a, const void *b)
{
	const struct muppy_diff_row *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Names are distinct, so every order is total and qsort is stable enough. */
void muppy_diff_sort(struct muppy_diff *d, enum muppy_sort by)
{
	int (*cmp)(const void *, const void *);

	switch (by) {
	case MUPPY_SORT_COUNT:
		cmp = cmp_count;
		break;
	case MUPPY_SORT_NAME:
		cmp = cmp_name;
		break;
	case MUPPY_SORT_SIZE:
	default:
		by = MUPPY_SORT_SIZE;
		cmp = cmp_size;
		break;
	}
	if (d->nrows > 1)
		qsort(d->rows, d->nrows, sizeof(*d->rows), cmp);
	d->sort = by;
}

void muppy_diff_free(struct muppy_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nowners; i++)
		free(d->owners[i].rows);
	free(d->owners);
	free(d->rows);
	free(d);
}
