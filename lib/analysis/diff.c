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

static int cmp_stat_name(const void *a, const void *b)
{
	const struct muppy_type_stat *x = *(const struct muppy_type_stat *const *)a;
	const struct muppy_type_stat *y = *(const struct muppy_type_stat *const *)b;

	return strcmp(x->name, y->name);
}

/* Pointers to s's rows in name order; -EINVAL on a repeated name. */
static int index_by_name(const struct muppy_snapshot *s,
			 const struct muppy_type_stat ***out)
{
	const struct muppy_type_stat **idx;
	size_t i;

	idx = calloc(s->ntypes ? s->ntypes : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < s->ntypes; i++) {
		if (!s->types[i].name || s->types[i].count > MUPPY_MAX_VALUE ||
		    s->types[i].bytes > MUPPY_MAX_VALUE) {
			free(idx);
			return s->types[i].name ? -EOVERFLOW : -EINVAL;
		}
		idx[i] = &s->types[i];
	}
	if (s->ntypes > 1)
		qsort(idx, s->ntypes, sizeof(*idx), cmp_stat_name);
	for (i = 1; i < s->ntypes; i++) {
		if (!strcmp(idx[i - 1]->name, idx[i]->name)) {
			free(idx);
			return -EINVAL;
		}
	}
	*out = idx;
	return 0;
}

/* new - old for two values in [0, MUPPY_MAX_VALUE]. */
static int64_t delta(uint64_t old, uint64_t new)
{
	return (int64_t)new - (int64_t)old;
}

static void add_row(struct muppy_diff *d, const struct muppy_type_stat *o,
		    const struct muppy_type_stat *n)
{
	struct muppy_diff_row *r = &d->rows[d->nrows];

	r->name = n ? n->name : o->name;
	r->old_count = o ? o->count : 0;
	r->old_bytes = o ? o->bytes : 0;
	r->new_count = n ? n->count : 0;
	r->new_bytes = n ? n->bytes : 0;
	if (r->old_count == r->new_count && r->old_bytes == r->new_bytes)
		return;
	r->d_count = delta(r->old_count, r->new_count);
	r->d_bytes = delta(r->old_bytes, r->new_bytes);
	d->nrows++;
}

static int cmp_size(const void *a, const void *b);

static int cmp_holder_name(const void *a, const void *b)
{
	const struct muppy_holder *x = *(const struct muppy_holder *const *)a;
	const struct muppy_holder *y = *(const struct muppy_holder *const *)b;

	return strcmp(x->name, y->name);
}

/* Pointers to o's holders in name order; -EINVAL on a repeated name. */
static int index_holders(const struct muppy_owners *o,
			 const struct muppy_holder ***out)
{
	const struct muppy_holder **idx;
	size_t i;

	idx = calloc(o->nholders ? o->nholders : 1, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < o->nholders; i++) {
		const struct muppy_holder *h = &o->holders[i];

		if (!h->name || h->count > MUPPY_MAX_VALUE ||
		    h->bytes > MUPPY_MAX_VALUE) {
			free(idx);
			return h->name ? -EOVERFLOW : -EINVAL;
		}
		idx[i] = h;
	}
	if (o->nholders > 1)
		qsort(idx, o->nholders, sizeof(*idx), cmp_holder_name);
	for (i = 1; i < o->nholders; i++) {
		if (!strcmp(idx[i - 1]->name, idx[i]->name)) {
			free(idx);
			return -EINVAL;
		}
	}
	*out = idx;
	return 0;
}

static void add_holder_row(struct muppy_owners_diff *od,
			   const struct muppy_holder *o,
			   const struct muppy_holder *n)
{
	struct muppy_diff_row *r = &od->rows[od->nrows];

	r->name = n ? n->name : o->name;
	r->old_count = o ? o->count : 0;
	r->old_bytes = o ? o->bytes : 0;
	r->new_count = n ? n->count : 0;
	r->new_bytes = n ? n->bytes : 0;
	if (r->old_count == r->new_count && r->old_bytes == r->new_bytes)
		return;
	r->d_count = delta(r->old_count, r->new_count);
	r->d_bytes = delta(r->old_bytes, r->new_bytes);
	od->nrows++;
}

/* The holders of one type in both snapshots, merged by name. */
static int diff_holders(struct muppy_owners_diff *od)
{
	const struct muppy_owners *old = od->old, *new = od->new;
	const struct muppy_holder **oi = NULL, **ni = NULL;
	size_t i = 0, j = 0;
	int rc;

	od->rows = calloc(old->nholders + new->nholders + 1,
			  sizeof(*od->rows));
	if (!od->rows)
		return -ENOMEM;
	rc = index_holders(old, &oi);
	if (rc)
		return rc;
	rc = index_holders(new, &ni);
	if (rc)
		goto out_free_old;
	while (i < old->nholders || j < new->nholders) {
		int c;

		if (i == old->nholders)
			c = 1;
		else if (j == new->nholders)
			c = -1;
		else
			c = strcmp(oi[i]->name, ni[j]->name);
		if (c < 0)
			add_holder_row(od, oi[i++], NULL);
		else if (c > 0)
			add_holder_row(od, NULL, ni[j++]);
		else
			add_holder_row(od, oi[i++], ni[j++]);
	}
	if (od->nrows > 1)
		qsort(od->rows, od->nrows, sizeof(*od->rows), cmp_size);
	free(ni);
out_free_old:
	free(oi);
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
	const struct muppy_type_stat **oi = NULL, **ni = NULL;
	struct muppy_diff *d;
	size_t i = 0, j = 0;
	int rc;

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
	if (!d->rows) {
		rc = -ENOMEM;
		goto out_free_diff;
	}
	rc = index_by_name(old, &oi);
	if (rc)
		goto out_free_diff;
	rc = index_by_name(new, &ni);
	if (rc)
		goto out_free_old_index;

	while (i < old->ntypes || j < new->ntypes) {
		int c;

		if (i == old->ntypes)
			c = 1;
		else if (j == new->ntypes)
			c = -1;
		else
			c = strcmp(oi[i]->name, ni[j]->name);
		if (c < 0)
			add_row(d, oi[i++], NULL);
		else if (c > 0)
			add_row(d, NULL, ni[j++]);
		else
			add_row(d, oi[i++], ni[j++]);
	}
	rc = diff_owners(d);
	if (rc)
		goto out_free_new_index;
	muppy_diff_sort(d, MUPPY_SORT_SIZE);
	*out = d;
	d = NULL; /* handed over */

out_free_new_index:
	free(ni);
out_free_old_index:
	free(oi);
out_free_diff:
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
