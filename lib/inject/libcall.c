/* SPDX-License-Identifier: MIT */
/* Calls of functions of the target's own C library: by name, close() of
 * one of its fds, dlclose(). */
#include <errno.h>

#include "inject/inject_int.h"

int muppy__libc_call(struct muppy__target *t, const char *fn,
		      const uint64_t *args, size_t nargs, const void *in,
		      size_t inlen, struct muppy_error *err)
{
	uint64_t addr;

	if (muppy__elf_sym(t->libc, fn, &addr)) {
		muppy_error_set(err, "no %s in the C library of process %d", fn, (int)t->pid);
		return -ENOEXEC;
	}
	return muppy__target_call(t, addr, args, nargs, in, inlen, NULL, 0, err);
}

/*
 * Closes the target's fd n, a memfd called name.  Whether it worked is
 * judged by the name: another thread of the target may get the number n
 * for a file of its own the moment it is free.
 */
int muppy__remote_close(struct muppy__target *t, int n, const char *name,
			 struct muppy_error *err)
{
	uint64_t a[1] = { (uint64_t)n };
	int ret = muppy__libc_call(t, "close", a, 1, NULL, 0, err);

	if (!ret && name && muppy__find_memfd(t->pid, name) == n) {
		muppy_error_set(err, "close(%d) did not close it in process %d", n, (int)t->pid);
		ret = -EIO;
	}
	return ret;
}

int muppy__remote_dlclose(struct muppy__target *t, uint64_t handle,
			   struct muppy_error *err)
{
	uint64_t a[1] = { handle }, addr;

	if (!muppy__elf_sym(t->libc, "dlclose", &addr) ||
	    !muppy__elf_sym(t->libc, "__libc_dlclose", &addr))
		return muppy__target_call(t, addr, a, 1, NULL, 0, NULL, 0, err);
	muppy_error_set(err, "no dlclose in the C library of process %d", (int)t->pid);
	return -ENOEXEC;
}
