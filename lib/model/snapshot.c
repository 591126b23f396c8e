/* SPDX-License-Identifier: MIT */
/* The snapshot model: rows of (type, count, bytes) plus process facts. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* A snapshot as muppy_snapshot_new() makes it: the public part first,
 * then what only this file uses. */
struct snapshot {
	struct muppy_snapshot pub;
	size_t cap; /* rows allocated */
};

static struct snapshot *to_snapshot(struct muppy_snapshot *s)
{
	return (struct snapshot *)((char *)s - offsetof(struct snapshot, pub));
}

struct muppy_snapshot *muppy_snapshot_new(void)
{
	struct snapshot *sn = calloc(1, sizeof(*sn));
	struct muppy_snapshot *s;

	if (!sn)
		return NULL;
	s = &sn->pub;
	s->cmdline = strdup("");
	s->python = strdup("");
	s->implementation = strdup("");
	s->executable = strdup("");
	s->checks_failed = strdup("");
	if (!s->cmdline || !s->python || !s->implementation ||
	    !s->executable || !s->checks_failed) {
		muppy_snapshot_free(s);
		return NULL;
	}
	return s;
}

static void free_owners(struct muppy_snapshot *s)
{
	size_t i, j, k;

	for (i = 0; i < s->nowners; i++) {
		struct muppy_owners *o = &s->owners[i];

		free(o->type);
		for (j = 0; j < o->nholders; j++)
			free(o->holders[j].name);
		free(o->holders);
		for (j = 0; j < o->npaths; j++) {
			for (k = 0; k < o->paths[j].nsteps; k++)
				free(o->paths[j].steps[k]);
			free(o->paths[j].steps);
		}
		free(o->paths);
	}
	free(s->owners);
}

void muppy_snapshot_free(struct muppy_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ntypes; i++)
		free(s->types[i].name);
	free(s->types);
	free_owners(s);
	free(s->cmdline);
	free(s->python);
	free(s->implementation);
	free(s->executable);
	free(s->checks_failed);
	free(to_snapshot(s));
}

int muppy_snapshot_set_raw(char **field, const void *raw, size_t len)
{
	char *e = muppy_escape(raw, len);

	if (!e)
		return -ENOMEM;
	free(*field);
	*field = e;
	return 0;
}

/* Appends a row that takes ownership of name. */
static int add_owned(struct muppy_snapshot *s, char *name, uint64_t count,
		     uint64_t bytes)
{
	struct snapshot *sn = to_snapshot(s);
	struct muppy_type_stat *t;
	size_t cap;

	if (s->ntypes == sn->cap) {
		cap = sn->cap ? sn->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*t))
			return -ENOMEM;
		t = realloc(s->types, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		s->types = t;
		sn->cap = cap;
	}
	t = &s->types[s->ntypes++];
	t->name = name;
	t->count = count;
	t->bytes = bytes;
	return 0;
}

int muppy_snapshot_add_raw(struct muppy_snapshot *s, const void *name,
			   size_t len, uint64_t count, uint64_t bytes)
{
	char *e = muppy_escape(name, len);
	int rc;

	if (!e)
		return -ENOMEM;
	rc = add_owned(s, e, count, bytes);
	if (rc < 0)
		free(e);
	return rc;
}

int muppy__snapshot_add_escaped(struct muppy_snapshot *s, const char *name,
				size_t len, uint64_t count, uint64_t bytes)
{
	char *copy = strndup(name, len);
	int rc;

	if (!copy)
		return -ENOMEM;
	rc = add_owned(s, copy, count, bytes);
	if (rc < 0)
		free(copy);
	return rc;
}

/* --- owners -------------------------------------------------------------- */

/*
 * Makes room for one more of n elements of size each at *v, which holds
 * a power of two of them (or none): the arrays of struct muppy_owners
 * have no capacity field, so they double when n reaches one.
 */
static int grow(void **v, size_t n, size_t size)
{
	size_t cap = n ? n * 2 : 1;
	void *p;

	if (n & (n - 1))
		return 0; /* not full: room up to the next power of two */
	if (cap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*v, cap * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	return 0;
}

int muppy__owners_add_owned(struct muppy_snapshot *s, char *type,
			    uint64_t count, uint64_t bytes, uint64_t shared,
			    uint64_t unreachable, struct muppy_owners **out)
{
	struct muppy_owners *o;

	if (s->nowners >= MUPPY_OWNERS_MAX) {
		free(type);
		return -E2BIG;
	}
	/* All of them at once, so that no section ever moves. */
	if (!s->owners &&
	    !(s->owners = calloc(MUPPY_OWNERS_MAX, sizeof(*s->owners)))) {
		free(type);
		return -ENOMEM;
	}
	o = &s->owners[s->nowners++];
	memset(o, 0, sizeof(*o));
	o->type = type;
	o->count = count;
	o->bytes = bytes;
	o->shared = shared;
	o->unreachable = unreachable;
	if (out)
		*out = o;
	return 0;
}

int muppy__holder_add_owned(struct muppy_owners *o, char *name,
			    uint64_t count, uint64_t bytes)
{
	struct muppy_holder *h;

	if (grow((void **)&o->holders, o->nholders, sizeof(*h)) < 0) {
		free(name);
		return -ENOMEM;
	}
	h = &o->holders[o->nholders++];
	h->name = name;
	h->count = count;
	h->bytes = bytes;
	return 0;
}

int muppy__path_add(struct muppy_owners *o, uint64_t id,
		    struct muppy_path **out)
{
	struct muppy_path *p;

	if (o->npaths >= MUPPY_PATHS_MAX)
		return -E2BIG;
	if (grow((void **)&o->paths, o->npaths, sizeof(*p)) < 0)
		return -ENOMEM;
	p = &o->paths[o->npaths++];
	p->id = id;
	p->nsteps = 0;
	p->steps = NULL;
	*out = p;
	return 0;
}

int muppy__step_add_owned(struct muppy_path *p, char *step)
{
	if (grow((void **)&p->steps, p->nsteps, sizeof(*p->steps)) < 0) {
		free(step);
		return -ENOMEM;
	}
	p->steps[p->nsteps++] = step;
	return 0;
}

int muppy_snapshot_add_owners(struct muppy_snapshot *s, const void *type,
			      size_t len, uint64_t count, uint64_t bytes,
			      uint64_t shared, uint64_t unreachable,
			      struct muppy_owners **out)
{
	char *e;

	if (s->nowners >= MUPPY_OWNERS_MAX)
		return -E2BIG;
	e = muppy_escape(type, len);
	if (!e)
		return -ENOMEM;
	return muppy__owners_add_owned(s, e, count, bytes, shared,
				       unreachable, out);
}

int muppy_owners_add_holder(struct muppy_owners *o, const void *name,
			    size_t len, uint64_t count, uint64_t bytes)
{
	char *e = muppy_escape(name, len);

	if (!e)
		return -ENOMEM;
	return muppy__holder_add_owned(o, e, count, bytes);
}

int muppy_owners_add_path(struct muppy_owners *o, uint64_t id,
			  size_t nsteps, const void *const *steps,
			  const size_t *lens)
{
	struct muppy_path *p;
	size_t i;
	int rc;

	if (nsteps < 2)
		return -EINVAL;
	rc = muppy__path_add(o, id, &p);
	if (rc)
		return rc;
	for (i = 0; i < nsteps && !rc; i++) {
		char *e = muppy_escape(steps[i], lens[i]);

		rc = e ? muppy__step_add_owned(p, e) : -ENOMEM;
	}
	if (rc) {
		/* Not half a path: drop it again. */
		while (p->nsteps)
			free(p->steps[--p->nsteps]);
		free(p->steps);
		o->npaths--;
	}
	return rc;
}

int muppy__holder_cmp(const struct muppy_holder *x,
		      const struct muppy_holder *y)
{
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int holder_cmp(const void *a, const void *b)
{
	return muppy__holder_cmp(a, b);
}

static int holder_ptr_cmp(const void *a, const void *b)
{
	return muppy__holder_cmp(*(const struct muppy_holder *const *)a,
				 *(const struct muppy_holder *const *)b);
}

void muppy_owners_sort(struct muppy_owners *o)
{
	if (o->nholders > 1)
		qsort(o->holders, o->nholders, sizeof(*o->holders),
		      holder_cmp);
}

const struct muppy_holder **muppy__holders_sorted(const struct muppy_owners *o)
{
	const struct muppy_holder **v;
	size_t i;

	v = calloc(o->nholders ? o->nholders : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < o->nholders; i++)
		v[i] = &o->holders[i];
	if (o->nholders > 1)
		qsort(v, o->nholders, sizeof(*v), holder_ptr_cmp);
	return v;
}

const struct muppy_owners *muppy_snapshot_owners(
	const struct muppy_snapshot *s, const char *type)
{
	size_t i;

	for (i = 0; i < s->nowners; i++)
		if (s->owners[i].type && !strcmp(s->owners[i].type, type))
			return &s->owners[i];
	return NULL;
}

/* --- rows ---------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	const struct muppy_type_stat *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Canonical order: bytes descending, then name ascending bytewise. */
static int canonical(const void *a, const void *b)
{
	const struct muppy_type_stat *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* *sum += v, or -EOVERFLOW past MUPPY_MAX_VALUE. */
static int add_checked(uint64_t *sum, uint64_t v)
{
	if (v > (uint64_t)MUPPY_MAX_VALUE - *sum)
		return -EOVERFLOW;
	*sum += v;
	return 0;
}

/* Merges rows of equal name; rows must be sorted by name. */
static int merge_equal(struct muppy_snapshot *s)
{
	struct muppy_type_stat *t = s->types;
	size_t i, o = 0;

	for (i = 0; i < s->ntypes; i++) {
		if (o > 0 && strcmp(t[o - 1].name, t[i].name) == 0) {
			if (add_checked(&t[o - 1].count, t[i].count) < 0 ||
			    add_checked(&t[o - 1].bytes, t[i].bytes) < 0) {
				/* Keep every name owned exactly once. */
				memmove(&t[o], &t[i], (s->ntypes - i) * sizeof(*t));
				s->ntypes = o + s->ntypes - i;
				return -EOVERFLOW;
			}
			free(t[i].name);
			continue;
		}
		t[o++] = t[i];
	}
	s->ntypes = o;
	return 0;
}

int muppy_snapshot_finish(struct muppy_snapshot *s)
{
	uint64_t objects = 0, bytes = 0;
	size_t i;
	int rc;

	for (i = 0; i < s->ntypes; i++)
		if (s->types[i].count > (uint64_t)MUPPY_MAX_VALUE ||
		    s->types[i].bytes > (uint64_t)MUPPY_MAX_VALUE)
			return -EOVERFLOW;
	if (s->ntypes > 1)
		qsort(s->types, s->ntypes, sizeof(*s->types), by_name);
	rc = merge_equal(s);
	if (rc < 0)
		return rc;
	if (s->ntypes > 1)
		qsort(s->types, s->ntypes, sizeof(*s->types), canonical);
	for (i = 0; i < s->ntypes; i++) {
		if (add_checked(&objects, s->types[i].count) < 0 ||
		    add_checked(&bytes, s->types[i].bytes) < 0)
			return -EOVERFLOW;
	}
	s->objects = objects;
	s->bytes = bytes;
	for (i = 0; i < s->nowners; i++)
		muppy_owners_sort(&s->owners[i]);
	return 0;
}
