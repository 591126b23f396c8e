/* SPDX-License-Identifier: MIT */
/* The target's list of loaded objects (its link maps, from _r_debug),
 * walked in its memory within MUPPY__LINK_MAPS_MAX entries and the
 * deadline. */
#include <errno.h>
#include <string.h>

#include "inject/inject_int.h"

int muppy__link_maps_walk(struct muppy__target *t, muppy__link_map_visit *visit,
			  void *arg)
{
	uint64_t rd, lm, f[4];
	int i;

	if (muppy__elf_sym(t->ld, "_r_debug", &rd) ||
	    muppy__mem_read(t->pid, rd + 8, &lm, sizeof(lm)))
		return -ENOEXEC;
	for (i = 0; lm && i < MUPPY__LINK_MAPS_MAX; i++, lm = f[3]) {
		if ((i & 255) == 255 && muppy__now_us() > t->deadline_us) {
			t->late = true;
			return -ETIMEDOUT;
		}
		if (muppy__mem_read(t->pid, lm, f, sizeof(f)))
			break;
		if (visit(t, lm, f, arg))
			return 0;
	}
	return -ENOENT;
}

struct link_map_query {
	const char *name;
	uint64_t handle, found, l_addr;
};

static bool link_map_match(struct muppy__target *t, uint64_t lm,
			   const uint64_t f[4], void *arg)
{
	struct link_map_query *q = arg;
	char buf[256];

	if (q->name ? muppy__mem_read_str(t->pid, f[1], buf, sizeof(buf)) ||
		      strcmp(buf, q->name) :
	    q->handle ? lm != q->handle : f[0] != muppy__elf_bias(t->libc))
		return false;
	q->found = lm;
	q->l_addr = f[0];
	return true;
}

/*
 * Finds the link map entry whose l_name is name, or whose address is
 * handle, or (both unset) libc's, by its load bias.
 */
int muppy__link_map_find(struct muppy__target *t, const char *name,
			 uint64_t handle, uint64_t *found, uint64_t *l_addr,
			 struct muppy_error *err)
{
	struct link_map_query q = { name, handle, 0, 0 };
	int ret = muppy__link_maps_walk(t, link_map_match, &q);

	if (ret == -ENOEXEC)
		muppy_error_set(err, "cannot find _r_debug in process %d", (int)t->pid);
	if (ret == -ETIMEDOUT)
		muppy_error_set(err, "process %d: its list of loaded libraries was not read within --timeout (a hostile or broken process)",
				(int)t->pid);
	if (ret)
		return ret;
	*found = q.found;
	if (l_addr)
		*l_addr = q.l_addr;
	return 0;
}
