/* SPDX-License-Identifier: MIT */
/* lib/model/: the snapshot in memory (snapshot.c) and in its file format
 * (snapfile.c).  Uses lib/base/. */
#ifndef MUPPY_MODEL_H
#define MUPPY_MODEL_H

#include "base/base.h"

/* snapshot.c: rows whose name is already in escaped form (the parser). */
/* Appends a copy of the len bytes at name; they must be escaped. */
int muppy__snapshot_add_escaped(struct muppy_snapshot *s, const char *name,
				size_t len, uint64_t count, uint64_t bytes)
	MUPPY_MUST_CHECK;

/*
 * snapshot.c: owners whose text is already in escaped form (the parser).
 * Each takes the string it is given (also on failure: it frees it).
 */
int muppy__owners_add_owned(struct muppy_snapshot *s, char *type,
			    uint64_t count, uint64_t bytes, uint64_t shared,
			    uint64_t unreachable, struct muppy_owners **out)
	MUPPY_MUST_CHECK;
int muppy__holder_add_owned(struct muppy_owners *o, char *name,
			    uint64_t count, uint64_t bytes) MUPPY_MUST_CHECK;
/* A path without steps yet, and one more step on it. */
int muppy__path_add(struct muppy_owners *o, uint64_t id,
		    struct muppy_path **out) MUPPY_MUST_CHECK;
int muppy__step_add_owned(struct muppy_path *p, char *step) MUPPY_MUST_CHECK;
/* Holders in muppy_owners_sort()'s order, as pointers into o; NULL when
 * no memory.  Free with free(). */
const struct muppy_holder **muppy__holders_sorted(const struct muppy_owners *o);
/* muppy_owners_sort()'s comparison of two holders. */
int muppy__holder_cmp(const struct muppy_holder *x,
		      const struct muppy_holder *y);

#endif
