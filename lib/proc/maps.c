/* SPDX-License-Identifier: MIT */
/* /proc/PID/maps: the target's mappings, and which are libc and ld.so. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* libpthread counts as libc: before glibc 2.34 it held the locks too. */
static enum muppy__objkind classify(const char *path)
{
	const char *b = base_name(path);

	if (!strncmp(b, "ld-linux", 8) || !strncmp(b, "ld-2.", 5) ||
	    !strcmp(b, "ld.so"))
		return OBJ_LD;
	if (!strncmp(b, "libc.so.", 8) || !strncmp(b, "libc-2.", 7) ||
	    !strncmp(b, "libpthread.so.", 14) || !strncmp(b, "libpthread-", 11))
		return OBJ_LIBC;
	return OBJ_OTHER;
}

void muppy__maps_free(struct muppy__maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int muppy__maps_read(pid_t pid, struct muppy__maps *m,
		     struct muppy_error *err)
{
	char path[64], *line = NULL;
	size_t cap = 0, alloc = 0;
	struct muppy__map *v;
	FILE *f;
	int ret = 0, off;

	m->v = NULL;
	m->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (ret == -ENOENT)
			muppy_error_set(err, "no process %d", (int)pid);
		else if (ret == -EACCES || ret == -EPERM)
			return muppy__explain_eperm(pid, 0, "read the mappings of", err);
		else
			muppy__error_errno(err, -ret, "%s", path);
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		struct muppy__map e;
		char *p;

		memset(&e, 0, sizeof(e));
		off = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &e.start, &e.end, e.perms, &e.offset, &e.dev_major,
			   &e.dev_minor, &e.inode, &off) < 7)
			continue;
		p = line + off;
		p[strcspn(p, "\n")] = '\0';
		e.path = strdup(off ? p : "");
		if (!e.path) {
			ret = -ENOMEM;
			break;
		}
		e.kind = e.inode ? classify(e.path) : OBJ_OTHER;
		if (m->n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			v = realloc(m->v, alloc * sizeof(*v));
			if (!v) {
				free(e.path);
				ret = -ENOMEM;
				break;
			}
			m->v = v;
		}
		m->v[m->n++] = e;
	}
	if (!ret && ferror(f))
		ret = -EIO;
	if (!ret && m->n == 0) {
		/* Kernel threads have no mappings, and neither has a process
		 * past exit_mm(): tell them apart by the flag, not by a
		 * missing /proc/PID/exe (which an exiting process lacks too). */
		unsigned long flags = 0;
		char st = muppy__proc_state(pid, &flags);

		ret = st && (flags & PF_KTHREAD) ? -ENOEXEC : -ESRCH;
		if (ret == -ESRCH)
			muppy_error_set(err, "process %d exited", (int)pid);
		else
			muppy_error_set(err, "process %d is a kernel thread, not a Python process",
					(int)pid);
	}
	free(line);
	fclose(f);
	if (ret)
		muppy__maps_free(m);
	if (ret == -ENOMEM)
		muppy_error_set(err, "out of memory");
	return ret;
}

const struct muppy__map *muppy__maps_find(const struct muppy__maps *m,
					  uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

static bool same_file(const struct muppy__map *a, const struct muppy__map *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && !strcmp(a->path, b->path);
}

const struct muppy__map *muppy__maps_object(const struct muppy__maps *m,
					    const struct muppy__map *any)
{
	const struct muppy__map *p = any;

	if (!any->inode)
		return NULL;
	/* Walk down over the object's mappings (and holes between them). */
	for (;;) {
		if (same_file(p, any) && p->offset == 0)
			return p;
		if (p == m->v)
			return NULL;
		p--;
		if (p->inode && !same_file(p, any))
			return NULL;
	}
}

uint64_t muppy__maps_object_end(const struct muppy__maps *m,
				const struct muppy__map *first)
{
	const struct muppy__map *p = first, *last = first;

	for (p = first + 1; p < m->v + m->n; p++) {
		if (p->inode && !same_file(p, first))
			break;
		if (p->inode)
			last = p;
	}
	return last->end;
}

const struct muppy__map *muppy__maps_by_name(const struct muppy__maps *m,
					     const char *base)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].inode && m->v[i].offset == 0 &&
		    !strcmp(base_name(m->v[i].path), base))
			return &m->v[i];
	return NULL;
}

const struct muppy__map *muppy__maps_by_kind(const struct muppy__maps *m,
					     enum muppy__objkind kind)
{
	size_t i;

	/* libc proper before libpthread */
	for (i = 0; i < m->n; i++)
		if (m->v[i].kind == kind && m->v[i].offset == 0 &&
		    (kind != OBJ_LIBC ||
		     strncmp(base_name(m->v[i].path), "libpthread", 10)))
			return &m->v[i];
	return NULL;
}

bool muppy__maps_has_substr(const struct muppy__maps *m, const char *s)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strstr(m->v[i].path, s))
			return true;
	return false;
}
