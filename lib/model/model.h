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
/* owners.c: frees s's owners sections. */
void muppy__owners_free(struct muppy_snapshot *s);

#endif
