/* SPDX-License-Identifier: MIT */
/*
 * What kind of Python, if any, a process runs — decided before attaching,
 * from its mappings and the dynamic symbols of its own files: CPython
 * exports its C API from the executable (Debian's static python3) or from
 * libpython3.X.so (pyenv, most embedders).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/inject_int.h"
#include "snap_int.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A file name of the target, escaped for a message (it chose the name). */
static const char *shown(const char *name, char *buf, size_t size)
{
	char *e = muppy_escape(name, strlen(name));

	snprintf(buf, size, "%s", e ? e : "?");
	free(e);
	return buf;
}

static bool has_sym(const struct muppy__elf *e, const char *name)
{
	uint64_t addr;

	return muppy__elf_sym(e, name, &addr) == 0;
}

/* "python3.11d" or "libpython3.11d.so.1.0" -> 3, 11, "d". */
static void version_from_name(const char *b, struct muppy__pyinfo *pi)
{
	const char *p = strstr(b, "python");
	int major, minor, n = 0;
	char flags[8] = "";

	if (!p || sscanf(p, "python%d.%d%n", &major, &minor, &n) != 2)
		return;
	sscanf(p + n, "%7[a-z]", flags);
	pi->major = major;
	pi->minor = minor;
	snprintf(pi->abiflags, sizeof(pi->abiflags), "%s", flags);
}

/* What changes when the process executes a program, even the same one
 * (a non-PIE executable is mapped at the same address): the [vdso]
 * mapping, placed at a random address at every exec and never moved. */
static void image_id(const struct muppy__maps *maps, struct muppy__pyinfo *pi)
{
	pi->image_start = maps->n ? maps->v[0].start : 0;
	pi->image_inode = maps->n ? maps->v[0].inode : 0;
	for (size_t i = 0; i < maps->n; i++)
		if (!strcmp(maps->v[i].path, "[vdso]"))
			pi->image_start ^= maps->v[i].start;
}

int muppy__pyinfo_probe(pid_t pid, struct muppy__pyinfo *pi,
			struct muppy_error *err)
{
	struct muppy__maps maps;
	const char *exe_name = "";
	bool found = false;
	char q[1024];
	int r;

	memset(pi, 0, sizeof(*pi));
	switch (muppy__proc_state(pid, NULL)) {
	case 0:
	case 'X':
		muppy_error_set(err, "no process %d", (int)pid);
		return -ESRCH;
	case 'Z':
		muppy_error_set(err, "no process %d: it is a zombie (it exited "
				"and its parent has not reaped it)", (int)pid);
		return -ESRCH;
	}
	r = muppy__maps_read(pid, &maps, err);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	image_id(&maps, pi);
	for (size_t i = 0; i < maps.n && !found; i++) {
		const struct muppy__map *m = &maps.v[i];
		const char *b = base_name(m->path);
		struct muppy__elf *e;

		if (m->path[0] != '/' || m->offset != 0)
			continue;
		if (!*exe_name)
			exe_name = b; /* the executable is mapped first */
		if (strstr(b, "libpypy") || !strncmp(b, "pypy", 4)) {
			muppy_error_set(err, "process %d runs PyPy (%s); "
					"muppy-snap reads CPython heaps only",
					(int)pid, shown(b, q, sizeof(q)));
			r = -EPROTONOSUPPORT;
			goto out;
		}
		if (muppy__elf_open(pid, &maps, m, &e, NULL) < 0)
			continue;
		if (has_sym(e, "PyGILState_Ensure")) {
			found = true;
			snprintf(pi->object, sizeof(pi->object), "%s", m->path);
			version_from_name(b, pi);
			if (!pi->major)
				version_from_name(exe_name, pi);
			pi->python2 = has_sym(e, "Py_InitModule4_64") ||
				      has_sym(e, "PyString_FromString");
			pi->free_threaded = has_sym(e, "_Py_DecRefShared");
		}
		muppy__elf_close(e);
	}
	if (!found && !*exe_name) {
		/* Only during an exec: the new program is not mapped yet. */
		muppy_error_set(err, "process %d has no program mapped: it is "
				"executing a new one; try again", (int)pid);
		r = -EAGAIN;
	} else if (!found) {
		muppy_error_set(err, "process %d is not a Python process (no "
				"CPython C API in %s or its libraries)",
				(int)pid, shown(exe_name, q, sizeof(q)));
		r = -ENOEXEC;
	} else if (pi->python2) {
		muppy_error_set(err, "process %d runs Python 2 (%s); "
				"muppy-snap supports CPython 3.6 and later",
				(int)pid, shown(base_name(pi->object), q,
						sizeof(q)));
		r = -EPROTONOSUPPORT;
	} else if (pi->free_threaded || strchr(pi->abiflags, 't')) {
		muppy_error_set(err, "process %d runs a free-threaded CPython "
				"build (%s), which muppy-snap does not support",
				(int)pid, shown(base_name(pi->object), q,
						sizeof(q)));
		r = -EPROTONOSUPPORT;
	} else if (pi->major && (pi->major != 3 || pi->minor < 6)) {
		muppy_error_set(err, "process %d runs Python %d.%d; muppy-snap "
				"supports CPython 3.6 and later", (int)pid,
				pi->major, pi->minor);
		r = -EPROTONOSUPPORT;
	}
out:
	muppy__maps_free(&maps);
	return r;
}

bool muppy__pyinfo_exec_happened(pid_t pid, const struct muppy__pyinfo *pi)
{
	struct muppy__pyinfo now;
	struct muppy__maps maps;

	if (!pi->image_start || muppy__maps_read(pid, &maps, NULL) < 0)
		return false;
	image_id(&maps, &now);
	muppy__maps_free(&maps);
	return now.image_start && (now.image_start != pi->image_start ||
				   now.image_inode != pi->image_inode);
}
