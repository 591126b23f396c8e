/* SPDX-License-Identifier: MIT */
/*
 * Loading a library in the target (unload.c unloads it), without touching any
 * file system: the target creates a memfd (memfd_create from its own
 * libc), we take a copy of that fd (pidfd_getfd only, checked to be a
 * memfd of that name, unsealed: never a reopening of /proc/PID/fd/N,
 * which the target could make any file), write the image, seal it, and
 * the target dlopens "/proc/self/fd/N" and closes N (the mapping keeps
 * the file alive).  Remote return values are
 * lost, so every result is found by looking: the fd by its unique name in
 * /proc/PID/fd, the handle by walking the link maps from _r_debug.r_map,
 * the unloading in /proc/PID/maps.  What SIGKILLed injectors left is
 * removed first (inject.h, "Leftovers").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <elf.h>

#include "inject/inject_int.h"

#define MFD_CLOEXEC_ 0x1U
#define MFD_ALLOW_SEALING_ 0x2U
#define MFD_EXEC_ 0x10U
#define RTLD_NOW_ 2
#define RTLD_LOCAL_ 0



/*
 * Our own copy of the target's fd N, which must be the memfd called name
 * that it just created: a memfd (its link says so, and it takes seals),
 * with no seal yet.  Never a reopening of /proc/PID/fd/N: the target
 * could swap N for an O_PATH descriptor of any file, which root would
 * then open for writing.
 */
static int grab_fd(struct muppy__target *t, int n, const char *name,
		   struct muppy_error *err)
{
	char want[160], link[160], self[64];
	struct stat st;
	ssize_t len;
	int fd, seals;

	fd = (int)syscall(SYS_pidfd_getfd, t->pidfd, n, 0);
	if (fd < 0) {
		int ret = -errno;

		if (ret == -ENOSYS)
			muppy_error_set(err, "cannot take the memfd of process %d: this kernel has no pidfd_getfd (Linux 5.6 or later needed)",
					(int)t->pid);
		else
			muppy__error_errno(err, -ret, "cannot take the memfd of process %d (pidfd_getfd)",
					   (int)t->pid);
		return ret;
	}
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	len = readlink(self, link, sizeof(link) - 1);
	if (len > 0)
		link[len] = '\0';
	seals = fcntl(fd, F_GET_SEALS);
	if (len <= 0 || strcmp(link, want) || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || seals != 0) {
		muppy_error_set(err, "process %d replaced its memfd %d by another file before muppy-snap wrote it; nothing was written (a hostile process)",
				(int)t->pid, n);
		close(fd);
		return -EBADF;
	}
	return fd;
}

static int fill_memfd(struct muppy__target *t, int n, const char *name,
		      const void *image, size_t len, struct muppy_error *err)
{
	size_t done = 0;
	ssize_t w;
	int fd, ret = 0;

	fd = grab_fd(t, n, name, err);
	if (fd < 0)
		return fd;
	while (done < len) {
		w = pwrite(fd, (const char *)image + done, len - done, (off_t)done);
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			muppy__error_errno(err, -ret, "cannot write the library into the memfd");
			goto out_close;
		}
		done += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
				   F_SEAL_SEAL) < 0) {
		ret = -errno;
		muppy__error_errno(err, errno, "cannot seal the memfd");
	}
out_close:
	close(fd);
	return ret;
}



/*
 * A remote memfd with a unique name; its fd number N must not be one a
 * library already loaded from "/proc/self/fd/N" was named after (left by
 * an injector killed before unloading): dlopen would match that name and
 * return the old library.  Such fds are kept open until one is free.
 */
static int create_memfd(struct muppy__target *t, struct muppy__lib *lib,
			struct muppy_error *err)
{
	int busy[8], nbusy = 0, n = -1, ret, i;
	uint64_t a[2], lm;
	uint32_t rnd;
	char owner[64];
	struct stat st;

	muppy__owner_id(owner, sizeof(owner));
	for (;;) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)muppy__now_us();
		snprintf(lib->name, sizeof(lib->name), "muppy-snap:%s.%08x",
			 owner, (unsigned)rnd);
		a[0] = MUPPY__SCRATCH;
		a[1] = MFD_CLOEXEC_ | MFD_ALLOW_SEALING_;
		/* kernels with vm.memfd_noexec need MFD_EXEC; older refuse it */
		if (stat("/proc/sys/vm/memfd_noexec", &st) == 0)
			a[1] |= MFD_EXEC_;
		ret = muppy__libc_call(t, "memfd_create", a, 2, lib->name,
				strlen(lib->name) + 1, err);
		if (ret)
			break;
		n = muppy__find_memfd(t->pid, lib->name);
		if (n < 0) {
			muppy_error_set(err, "process %d has no memfd of muppy-snap after memfd_create: it is out of file descriptors, vm.memfd_noexec is 2, or it closed or replaced the memfd (a hostile process)",
					(int)t->pid);
			ret = -EIO;
			break;
		}
		snprintf(lib->path, sizeof(lib->path), "/proc/self/fd/%d", n);
		if (muppy__link_map_find(t, lib->path, 0, &lm, NULL, NULL))
			break; /* free */
		busy[nbusy++] = n;
		n = -1;
		if (nbusy == (int)ARRAY_SIZE(busy)) {
			muppy_error_set(err, "process %d has too many leftover injected libraries",
					(int)t->pid);
			ret = -EBUSY;
			break;
		}
	}
	for (i = 0; i < nbusy && !t->broken; i++)
		(void)muppy__remote_close(t, busy[i], NULL, NULL);
	if (!ret && t->broken)
		ret = -EIO;
	if (ret)
		return ret;
	lib->memfd = n;
	return 0;
}

int muppy__target_load(struct muppy__target *t, const void *image,
		       size_t len, struct muppy__lib *lib,
		       struct muppy_error *err)
{
	struct muppy__maps m;
	uint64_t addr, a[2];
	int n, ret;

	memset(lib, 0, sizeof(*lib));
	lib->memfd = -1;
	if (len < sizeof(Elf64_Ehdr) || memcmp(image, ELFMAG, SELFMAG)) {
		muppy_error_set(err, "the image is not an ELF shared object");
		return -EINVAL;
	}
	if (!muppy__maps_read(t->pid, &m, NULL)) {
		muppy__maps_free(&t->maps);
		t->maps = m;
		muppy__sweep(t);
	}
	if (t->broken) {
		muppy_error_set(err, "removing what an earlier injector left in process %d failed",
				(int)t->pid);
		return -EIO;
	}
	if (t->late || muppy__now_us() > t->deadline_us) {
		muppy_error_set(err, "process %d: looking for what earlier injectors left took longer than --timeout (a hostile or broken process); nothing was loaded",
				(int)t->pid);
		return -ETIMEDOUT;
	}
	ret = create_memfd(t, lib, err);
	if (ret)
		return ret;
	n = lib->memfd;
	ret = fill_memfd(t, n, lib->name, image, len, err);
	if (ret)
		goto out_close;

	a[0] = MUPPY__SCRATCH;
	a[1] = RTLD_NOW_ | RTLD_LOCAL_;
	if (muppy__elf_sym(t->libc, "dlopen", &addr) &&
	    muppy__elf_sym(t->libc, "__libc_dlopen_mode", &addr)) {
		muppy_error_set(err, "no dlopen in the C library of process %d", (int)t->pid);
		ret = -ENOEXEC;
		goto out_close;
	}
	ret = muppy__target_call(t, addr, a, 2, lib->path, strlen(lib->path) + 1,
				 NULL, 0, err);
	if (ret)
		goto out_close;
	ret = muppy__link_map_find(t, lib->path, 0, &lib->handle, &lib->base, err);
	if (ret) {
		muppy_error_set(err, "dlopen of the library failed in process %d (unresolved symbols? not an x86-64 shared object? /proc not mounted in its namespace?)",
				(int)t->pid);
		ret = -EIO;
		goto out_close;
	}
	ret = muppy__remote_close(t, n, lib->name, err);
	if (!ret)
		return 0;
	{
		int r2 = muppy__target_unload(t, lib, NULL); /* ret says why */

		(void)r2;
	}
out_close:
	if (!t->broken)
		(void)muppy__remote_close(t, n, NULL, NULL);
	return ret;
}


