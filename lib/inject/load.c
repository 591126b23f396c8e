/* SPDX-License-Identifier: MIT */
/*
 * Loading and unloading a library in the target, without touching any
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

#define IMAGE_MAX (256u << 20)
#define MFD_CLOEXEC_ 0x1U
#define MFD_ALLOW_SEALING_ 0x2U
#define MFD_EXEC_ 0x10U
#define RTLD_NOW_ 2
#define RTLD_LOCAL_ 0
/* struct link_map's public head (link.h) */
#define LM_ADDR 0
#define LM_NAME 8
#define LM_LD 16
#define LM_NEXT 24

int muppy__read_image(const char *path, void **image, size_t *len,
		      struct muppy_error *err)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		muppy_error_set(err, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		muppy_error_set(err, "%s: %s", path, strerror(errno));
		goto out_close;
	}
	ret = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		muppy_error_set(err, "%s: not a regular file", path);
		goto out_close;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		muppy_error_set(err, "%s: owned by uid %d, neither root nor us; refusing to inject it",
				path, (int)st.st_uid);
		goto out_close;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		muppy_error_set(err, "%s: writable by other users (mode %03o); refusing to inject it (chmod go-w)",
				path, (unsigned)(st.st_mode & 0777));
		goto out_close;
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr) || st.st_size > IMAGE_MAX) {
		muppy_error_set(err, "%s: not a shared object (size %lld)", path,
				(long long)st.st_size);
		goto out_close;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			muppy_error_set(err, "%s: read error", path);
			free(buf);
			goto out_close;
		}
		got += (size_t)n;
	}
	*image = buf;
	*len = got;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

/*
 * Calls visit for each link map entry of the target (its address, and its
 * first fields: l_addr, l_name, l_ld, l_next) until visit returns true:
 * then 0; -ENOENT at the end of the list, -ENOEXEC without _r_debug.
 */
typedef bool link_map_visit(struct muppy__target *t, uint64_t lm,
			    const uint64_t f[4], void *arg);
static int walk_link_maps(struct muppy__target *t, link_map_visit *visit,
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
	int ret = walk_link_maps(t, link_map_match, &q);

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
			muppy_error_set(err, "cannot take the memfd of process %d (pidfd_getfd): %s",
					(int)t->pid, strerror(-ret));
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
			muppy_error_set(err, "cannot write the library into the memfd: %s",
					strerror(-ret));
			goto out_close;
		}
		done += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
				   F_SEAL_SEAL) < 0) {
		ret = -errno;
		muppy_error_set(err, "cannot seal the memfd: %s", strerror(errno));
	}
out_close:
	close(fd);
	return ret;
}

static int libc_call(struct muppy__target *t, const char *fn,
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
static int remote_close(struct muppy__target *t, int n, const char *name,
			struct muppy_error *err)
{
	uint64_t a[1] = { (uint64_t)n };
	int ret = libc_call(t, "close", a, 1, NULL, 0, err);

	if (!ret && name && muppy__find_memfd(t->pid, name) == n) {
		muppy_error_set(err, "close(%d) did not close it in process %d", n, (int)t->pid);
		ret = -EIO;
	}
	return ret;
}

static int remote_dlclose(struct muppy__target *t, uint64_t handle,
			  struct muppy_error *err)
{
	uint64_t a[1] = { handle }, addr;

	if (!muppy__elf_sym(t->libc, "dlclose", &addr) ||
	    !muppy__elf_sym(t->libc, "__libc_dlclose", &addr))
		return muppy__target_call(t, addr, a, 1, NULL, 0, NULL, 0, err);
	muppy_error_set(err, "no dlclose in the C library of process %d", (int)t->pid);
	return -ENOEXEC;
}

/* --- owners and leftovers (inject.h, "Leftovers") --------------------- */

/* Start time of a process (clock ticks after boot), 0 if it is gone. */
static unsigned long long start_time(pid_t pid)
{
	struct muppy__stat s;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return muppy__stat_read(path, &s) ? 0 : s.start;
}

/* The inode of our pid namespace, or 0 when /proc is not of that
 * namespace (its pids would not be ours). */
static unsigned long long pid_namespace(void)
{
	char self[32];
	struct stat st;
	ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);

	if (n <= 0)
		return 0;
	self[n] = '\0';
	if (atoi(self) != getpid() || stat("/proc/self/ns/pid", &st))
		return 0;
	return (unsigned long long)st.st_ino;
}

/* The owner part of our memfd names: "<pid namespace>.<pid>.<start>";
 * "0.0.0" (never judged) when /proc cannot tell. */
static void owner_id(char *buf, size_t len)
{
	unsigned long long ns = pid_namespace(), start = start_time(getpid());

	if (!ns || !start)
		snprintf(buf, len, "0.0.0");
	else
		snprintf(buf, len, "%llu.%d.%llu", ns, (int)getpid(), start);
}

/*
 * True when name is one of our memfd names and its owner is gone.  Names
 * from another pid namespace, or of another form, are never judged gone.
 */
static bool owner_gone(const char *name)
{
	unsigned long long ns, start;
	int pid, end = 0;

	if (sscanf(name, "muppy-snap:%llu.%d.%llu.%*x%n", &ns, &pid, &start,
		   &end) != 3 || !end || name[end] || ns == 0 ||
	    ns != pid_namespace())
		return false;
	return start_time(pid) != start;
}

/* The memfd name in a link like "/memfd:NAME (deleted)", or NULL. */
static const char *memfd_name(const char *link, char *buf, size_t len)
{
	const char *end;

	if (strncmp(link, "/memfd:muppy-snap:", 18))
		return NULL;
	end = strstr(link, " (deleted)");
	if (!end)
		end = link + strlen(link);
	if ((size_t)(end - link - 7) >= len)
		return NULL;
	memcpy(buf, link + 7, (size_t)(end - link - 7));
	buf[end - link - 7] = '\0';
	return buf;
}

/* A link "/memfd:NAME (deleted)" of a memfd whose owner is gone. */
static bool orphan_memfd(const char *link, const void *unused)
{
	char name[sizeof(((struct muppy__lib *)0)->name)];

	(void)unused;
	return memfd_name(link, name, sizeof(name)) && owner_gone(name);
}

/*
 * Closes memfds whose owners are gone.  A program that closed such an fd
 * and opened a file that got its number just then would lose that file:
 * the link is read again right before, which leaves a window of one
 * remote call, for a program that closes descriptors it never opened.
 */
static void sweep_memfds(struct muppy__target *t)
{
	char link[256], name[sizeof(((struct muppy__lib *)0)->name)];
	int fds[16], n, i;

	n = muppy__fds_scan(t->pid, orphan_memfd, NULL, fds, (int)ARRAY_SIZE(fds));
	for (i = 0; i < n && !t->broken; i++)
		if (muppy__fd_link(t->pid, fds[i], link, sizeof(link)) &&
		    memfd_name(link, name, sizeof(name)) && owner_gone(name) &&
		    !remote_close(t, fds[i], name, NULL))
			t->st.swept++;
}

/* Whether any thread may have entered a loaded library: 0 only when it
 * exports muppy_inject_entered and that is 0. */
static bool entered(struct muppy__target *t, const struct muppy__lib *lib)
{
	uint64_t addr;
	int32_t v;

	return muppy__target_sym(t, lib, "muppy_inject_entered", &addr, NULL) ||
	       muppy__mem_read(t->pid, addr, &v, sizeof(v)) || v != 0;
}

struct orphans {
	struct muppy__lib v[8];
	size_t n, looked; /* libraries looked into, at most ORPHANS_LOOKED */
};
#define ORPHANS_LOOKED 64

/* Collects a library loaded from "/proc/self/fd/N" whose memfd (the
 * mapping at its load address) has an owner that is gone, if no thread
 * entered it; stops when full. */
static bool collect_orphan(struct muppy__target *t, uint64_t lm,
			   const uint64_t f[4], void *arg)
{
	struct orphans *o = arg;
	struct muppy__lib *l = &o->v[o->n];
	const struct muppy__map *m;
	int fd, end = 0;

	memset(l, 0, sizeof(*l));
	if (muppy__mem_read_str(t->pid, f[1], l->path, sizeof(l->path)) ||
	    sscanf(l->path, "/proc/self/fd/%d%n", &fd, &end) != 1 || l->path[end])
		return false;
	m = muppy__maps_find(&t->maps, f[0]);
	if (!m || m->start != f[0] ||
	    !memfd_name(m->path, l->name, sizeof(l->name)) || !owner_gone(l->name))
		return false;
	l->handle = lm;
	l->base = f[0];
	l->memfd = -1;
	o->looked++;
	if (!entered(t, l))
		o->n++;
	return o->n == ARRAY_SIZE(o->v) || o->looked == ORPHANS_LOOKED;
}

/*
 * Unloads libraries whose owners are gone and that no thread entered:
 * nothing but the owner's dlopen ran in them (should that dlopen still be
 * running, dlclose waits for it on the loader's lock).
 */
static void sweep_libraries(struct muppy__target *t)
{
	struct orphans o = { .n = 0 };
	size_t i;

	(void)walk_link_maps(t, collect_orphan, &o);
	for (i = 0; i < o.n && !t->broken; i++)
		if (!muppy__target_unload(t, &o.v[i], NULL))
			t->st.swept++;
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

	owner_id(owner, sizeof(owner));
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
		ret = libc_call(t, "memfd_create", a, 2, lib->name,
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
		(void)remote_close(t, busy[i], NULL, NULL);
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
		sweep_memfds(t);
		sweep_libraries(t);
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
	ret = remote_close(t, n, lib->name, err);
	if (!ret)
		return 0;
	{
		int r2 = muppy__target_unload(t, lib, NULL); /* ret says why */

		(void)r2;
	}
out_close:
	if (!t->broken)
		(void)remote_close(t, n, NULL, NULL);
	return ret;
}

/* --- symbols of the loaded library, from its dynamic section ---------- */

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0, g;

	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/*
 * Everything read here is the target's: every address must lie in the
 * library's own mappings [lo, hi), and a hash chain is followed for at
 * most MUPPY__SYM_CHAIN_MAX symbols (a leftover's library may be forged
 * by the target, its chain made endless).
 */
struct dyn {
	pid_t pid;
	uint64_t base, lo, hi, symtab, strtab, gnuhash, hash;
};

static bool in_obj(const struct dyn *d, uint64_t addr, uint64_t len)
{
	return addr >= d->lo && addr <= d->hi && len <= d->hi - addr;
}

static int obj_read(const struct dyn *d, uint64_t addr, void *buf,
		    uint64_t len)
{
	if (!in_obj(d, addr, len))
		return -EFAULT;
	return muppy__mem_read(d->pid, addr, buf, (size_t)len);
}

static int check_sym(const struct dyn *d, uint32_t i, const char *name,
		     uint64_t *addr)
{
	Elf64_Sym s;
	char buf[256];
	size_t room;

	if (obj_read(d, d->symtab + (uint64_t)i * sizeof(s), &s, sizeof(s)))
		return -EIO;
	if (s.st_shndx == SHN_UNDEF || s.st_name == 0 ||
	    !in_obj(d, d->strtab + s.st_name, 1))
		return -ENOENT;
	room = d->hi - (d->strtab + s.st_name);
	if (muppy__mem_read_str(d->pid, d->strtab + s.st_name, buf,
				room < sizeof(buf) ? room : sizeof(buf)) ||
	    strcmp(buf, name))
		return -ENOENT;
	*addr = d->base + s.st_value;
	return 0;
}

static int lookup_gnu(const struct dyn *d, const char *name, uint64_t *addr)
{
	uint32_t h = gnu_hash(name), hdr[4], b, c[64];
	uint64_t buckets, chains, i, at;

	if (obj_read(d, d->gnuhash, hdr, sizeof(hdr)) || !hdr[0])
		return -EIO;
	buckets = d->gnuhash + 16 + (uint64_t)hdr[2] * 8;
	chains = buckets + (uint64_t)hdr[0] * 4;
	if (!in_obj(d, buckets, (uint64_t)hdr[0] * 4) ||
	    obj_read(d, buckets + (uint64_t)(h % hdr[0]) * 4, &b, 4))
		return -EIO;
	if (b < hdr[1])
		return -ENOENT;
	for (i = 0; i < MUPPY__SYM_CHAIN_MAX; i++) {
		uint64_t k = i % ARRAY_SIZE(c), n;

		if (k == 0) { /* the next words of the chain, in one read */
			at = chains + ((uint64_t)b - hdr[1] + i) * 4;
			n = at < d->hi ? (d->hi - at) / 4 : 0;
			if (n == 0 || obj_read(d, at, c, 4 * (n < ARRAY_SIZE(c) ?
							      n : ARRAY_SIZE(c))))
				return -EIO;
			if (n < ARRAY_SIZE(c))
				c[n] = 1; /* the mapping ends: so does the chain */
		}
		if ((c[k] | 1) == (h | 1) && !check_sym(d, (uint32_t)(b + i), name, addr))
			return 0;
		if (c[k] & 1)
			return -ENOENT;
	}
	return -ELOOP;
}

static int lookup_sysv(const struct dyn *d, const char *name, uint64_t *addr)
{
	uint32_t hdr[2], i;
	uint64_t n;

	if (obj_read(d, d->hash, hdr, sizeof(hdr)) || !hdr[0])
		return -EIO;
	if (obj_read(d, d->hash + 8 + (uint64_t)(sysv_hash(name) % hdr[0]) * 4, &i, 4))
		return -EIO;
	for (n = 0; i && i < hdr[1]; n++) {
		if (n == MUPPY__SYM_CHAIN_MAX)
			return -ELOOP;
		if (!check_sym(d, i, name, addr))
			return 0;
		if (obj_read(d, d->hash + 8 + ((uint64_t)hdr[0] + i) * 4, &i, 4))
			return -EIO;
	}
	return -ENOENT;
}

/* The mappings of the library at base, [*lo, *hi); false if none. */
static bool lib_bounds(struct muppy__target *t, uint64_t base, uint64_t *lo,
		       uint64_t *hi)
{
	const struct muppy__map *m = muppy__maps_find(&t->maps, base);
	struct muppy__maps now;

	if (!m || !m->inode) { /* loaded since the mappings were read */
		if (muppy__maps_read(t->pid, &now, NULL))
			return false;
		muppy__maps_free(&t->maps);
		t->maps = now;
		m = muppy__maps_find(&t->maps, base);
	}
	m = m ? muppy__maps_object(&t->maps, m) : NULL;
	if (!m)
		return false;
	*lo = m->start;
	*hi = muppy__maps_object_end(&t->maps, m);
	return true;
}

int muppy__target_sym(struct muppy__target *t, const struct muppy__lib *lib,
		      const char *name, uint64_t *addr,
		      struct muppy_error *err)
{
	struct dyn d = { t->pid, lib->base, 0, 0, 0, 0, 0, 0 };
	Elf64_Dyn e[64];
	uint64_t ld, lm;
	char q[128];
	int i, k, ret;

	ret = muppy__link_map_find(t, NULL, lib->handle, &lm, NULL, err);
	if (ret || muppy__mem_read(t->pid, lm + LM_LD, &ld, sizeof(ld)) ||
	    !lib_bounds(t, lib->base, &d.lo, &d.hi)) {
		muppy_error_set(err, "library %s is not loaded in process %d",
				muppy__shown(lib->name, q, sizeof(q)), (int)t->pid);
		return -ENOENT;
	}
	for (i = 0; i < 1024; i += (int)ARRAY_SIZE(e)) {
		uint64_t at = ld + (uint64_t)i * sizeof(*e);
		uint64_t n = in_obj(&d, at, sizeof(*e)) ?
			     (d.hi - at) / sizeof(*e) : 0;

		if (n > ARRAY_SIZE(e))
			n = ARRAY_SIZE(e);
		if (n == 0 || obj_read(&d, at, e, n * sizeof(*e)))
			break;
		for (k = 0; k < (int)n && e[k].d_tag != DT_NULL; k++) {
			/* glibc relocates these in place unless .dynamic is
			 * read-only */
			if (e[k].d_un.d_ptr < d.base)
				e[k].d_un.d_ptr += d.base;
			switch (e[k].d_tag) {
			case DT_SYMTAB: d.symtab = e[k].d_un.d_ptr; break;
			case DT_STRTAB: d.strtab = e[k].d_un.d_ptr; break;
			case DT_GNU_HASH: d.gnuhash = e[k].d_un.d_ptr; break;
			case DT_HASH: d.hash = e[k].d_un.d_ptr; break;
			}
		}
		if (k < (int)n)
			break;
	}
	ret = -ENOENT;
	if (d.symtab && d.strtab && d.gnuhash)
		ret = lookup_gnu(&d, name, addr);
	else if (d.symtab && d.strtab && d.hash)
		ret = lookup_sysv(&d, name, addr);
	if (ret == -ELOOP)
		muppy_error_set(err, "library %s in process %d: its hash chain is over %u symbols long (a forged library)",
				muppy__shown(lib->name, q, sizeof(q)), (int)t->pid,
				MUPPY__SYM_CHAIN_MAX);
	else if (ret)
		muppy_error_set(err, "no symbol %s in the injected library", name);
	return ret ? -ENOENT : 0;
}

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
		muppy_error_set(err, "cannot read library %s in process %d: %s",
				lib->name, (int)t->pid, strerror(-ret));
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
		muppy_error_set(err, "cannot write library %s in process %d: %s",
				lib->name, (int)t->pid, strerror(-ret));
	return ret;
}

int muppy__claim_flush(struct muppy__target *t)
{
	static const int32_t one = 1;
	uint64_t addr = t->claim_addr;

	t->claim_addr = 0;
	return addr ? muppy__mem_write(t->pid, addr, &one, sizeof(one)) : 0;
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
	ret = remote_dlclose(t, lib->handle, err);
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
