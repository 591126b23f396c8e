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

void muppy_snapshot_free(struct muppy_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ntypes; i++)
		free(s->types[i].name);
	free(s->types);
	free(s->cmdline);
	free(s->python);
	free(s->implementation);
	free(s->executable);
	free(s->checks_failed);
	muppy__owners_free(s);
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
	return 0;
}
