/* SPDX-License-Identifier: MIT */
/* Claiming a loaded library (its muppy_inject_entered mark) before the
 * first call into it, and unloading it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "inject/inject_int.h"

int muppy__target_claim(struct muppy__target *t, const struct muppy__lib *lib,
			struct muppy_error *err)
{
	uint64_t addr;
	int32_t v;
	int ret;

	if (muppy__target_sym(t, lib, "muppy_inject_entered", &addr, NULL))
		return 0; /* a library that is never removed */
	ret = muppy__mem_read(t->pid, addr, &v, sizeof(v));
	if (ret) {
		muppy__error_errno(err, -ret, "cannot read library %s in process %d",
				   lib->name, (int)t->pid);
		return ret;
	}
	if (v == 0)
		t->claim_addr = addr; /* written by the next call */
	return 0;
}

int muppy__target_unclaim(struct muppy__target *t,
			  const struct muppy__lib *lib, struct muppy_error *err)
{
	uint64_t addr;
	int32_t v = 0;
	int ret;

	t->claim_addr = 0;
	if (muppy__target_sym(t, lib, "muppy_inject_entered", &addr, NULL))
		return 0;
	ret = muppy__mem_write(t->pid, addr, &v, sizeof(v));
	if (ret)
		muppy__error_errno(err, -ret, "cannot write library %s in process %d",
				   lib->name, (int)t->pid);
	return ret;
}

int muppy__target_unload(struct muppy__target *t, struct muppy__lib *lib,
			 struct muppy_error *err)
{
	struct muppy__maps m;
	uint64_t lm;
	char mark[sizeof(lib->name) + 8];
	int ret;
	char name[sizeof(lib->path)];
	uint64_t lname;

	/* by handle (a leftover library may carry the same name), and the
	 * entry there must still be ours */
	ret = muppy__link_map_find(t, NULL, lib->handle, &lm, NULL, NULL);
	if (!ret && (muppy__mem_read(t->pid, lm + LM_NAME, &lname, sizeof(lname)) ||
		     muppy__mem_read_str(t->pid, lname, name, sizeof(name)) ||
		     strcmp(name, lib->path)))
		ret = -ENOENT;
	if (ret) {
		muppy_error_set(err, "library %s (%s) is not loaded in process %d",
				lib->name, lib->path, (int)t->pid);
		return -ENOENT;
	}
	ret = muppy__target_claim(t, lib, err);
	if (ret)
		return ret;
	ret = muppy__remote_dlclose(t, lib->handle, err);
	if (ret)
		return ret;
	ret = muppy__maps_read(t->pid, &m, err);
	if (ret)
		return ret;
	snprintf(mark, sizeof(mark), "/memfd:%s", lib->name);
	if (muppy__maps_has_substr(&m, mark)) {
		muppy_error_set(err, "library %s is still mapped in process %d after dlclose (still in use?)",
				lib->name, (int)t->pid);
		ret = -EBUSY;
	} else {
		lib->handle = 0;
	}
	muppy__maps_free(&t->maps);
	t->maps = m;
	return ret;
}
