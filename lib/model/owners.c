/* SPDX-License-Identifier: MIT */
/* The owners sections of a snapshot (muppy-snap --owners). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

struct muppy_owners *muppy_snapshot_add_owners(struct muppy_snapshot *s,
					       const void *type, size_t len,
					       uint64_t count, uint64_t bytes,
					       uint64_t shared,
					       uint64_t unreachable)
{
	struct muppy_owners *v = realloc(s->owners,
					 (s->nowners + 1) * sizeof(*v));
	struct muppy_owners *o;

	if (!v)
		return NULL;
	s->owners = v;
	o = &v[s->nowners];
	memset(o, 0, sizeof(*o));
	o->type = muppy_escape(type, len);
	if (!o->type)
		return NULL;
	o->count = count;
	o->bytes = bytes;
	o->shared = shared;
	o->unreachable = unreachable;
	s->nowners++;
	return o;
}

int muppy_owners_add_holder(struct muppy_owners *o, const void *name,
			    size_t len, uint64_t count, uint64_t bytes)
{
	struct muppy_holder *v = realloc(o->holders,
					 (o->nholders + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	o->holders = v;
	v[o->nholders].name = muppy_escape(name, len);
	if (!v[o->nholders].name)
		return -ENOMEM;
	v[o->nholders].count = count;
	v[o->nholders].bytes = bytes;
	o->nholders++;
	return 0;
}

int muppy_owners_add_path(struct muppy_owners *o, uint64_t id, size_t nsteps,
			  const char *const *steps, const size_t *lens)
{
	struct muppy_path *v = realloc(o->paths, (o->npaths + 1) * sizeof(*v));
	struct muppy_path *p;

	if (!v)
		return -ENOMEM;
	o->paths = v;
	p = &v[o->npaths];
	p->id = id;
	p->nsteps = 0;
	p->steps = calloc(nsteps ? nsteps : 1, sizeof(*p->steps));
	if (!p->steps)
		return -ENOMEM;
	o->npaths++;
	for (size_t i = 0; i < nsteps; i++) {
		p->steps[i] = muppy_escape(steps[i], lens[i]);
		if (!p->steps[i])
			return -ENOMEM;
		p->nsteps++;
	}
	return 0;
}

void muppy__owners_free(struct muppy_snapshot *s)
{
	for (size_t i = 0; i < s->nowners; i++) {
		struct muppy_owners *o = &s->owners[i];

		free(o->type);
		for (size_t j = 0; j < o->nholders; j++)
			free(o->holders[j].name);
		free(o->holders);
		for (size_t j = 0; j < o->npaths; j++) {
			for (size_t k = 0; k < o->paths[j].nsteps; k++)
				free(o->paths[j].steps[k]);
			free(o->paths[j].steps);
		}
		free(o->paths);
	}
	free(s->owners);
	s->owners = NULL;
	s->nowners = 0;
}
