/* SPDX-License-Identifier: MIT */
/*
 * What injectors SIGKILLed at the wrong moment left in the target
 * (inject.h, "Leftovers"): memfds and libraries whose owner, named in the
 * memfd's name, is gone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject/inject_int.h"

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
void muppy__owner_id(char *buf, size_t len)
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
		    !muppy__remote_close(t, fds[i], name, NULL))
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

	(void)muppy__link_maps_walk(t, collect_orphan, &o);
	for (i = 0; i < o.n && !t->broken; i++)
		if (!muppy__target_unload(t, &o.v[i], NULL))
			t->st.swept++;
}

void muppy__sweep(struct muppy__target *t)
{
	sweep_memfds(t);
	sweep_libraries(t);
}
