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

#include "proc/proc.h"
#include "capture/capture.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
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

/* The start time of the process, 0 if it is gone. */
static unsigned long long start_of(pid_t pid)
{
	struct muppy__stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return muppy__stat_read(path, &st) ? 0 : st.start;
}

/* Whether the file of m was looked into already (seen[0..n), by device
 * and inode); if not, it is added (while there is room). */
static bool seen_before(const struct muppy__map *m, struct muppy__map **seen,
			size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i]->inode == m->inode &&
		    seen[i]->dev_major == m->dev_major &&
		    seen[i]->dev_minor == m->dev_minor)
			return true;
	if (*n < MUPPY__PROBE_FILES)
		seen[(*n)++] = (struct muppy__map *)m;
	return false;
}

int muppy__pyinfo_probe(pid_t pid, struct muppy__pyinfo *pi,
			uint64_t deadline_us, struct muppy_error *err)
{
	struct muppy__map **seen = NULL;
	struct muppy__maps maps;
	const char *exe_name = "";
	bool found = false;
	size_t nseen = 0;
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
	pi->start = start_of(pid);
	r = muppy__maps_read(pid, &maps, err);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	image_id(&maps, pi);
	seen = calloc(MUPPY__PROBE_FILES, sizeof(*seen));
	if (!seen) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < maps.n && !found; i++) {
		const struct muppy__map *m = &maps.v[i];
		const char *b = base_name(m->path);
		struct muppy__elf *e;

		if (m->path[0] != '/' || m->offset != 0)
			continue;
		if (muppy__now_us() > deadline_us) {
			muppy_error_set(err, "process %d: its files were not all "
					"looked into within --timeout (%zu files "
					"so far; a hostile or broken process?)",
					(int)pid, nseen);
			r = -ETIMEDOUT;
			goto out;
		}
		if (!*exe_name)
			exe_name = b; /* the executable is mapped first */
		if (strstr(b, "libpypy") || !strncmp(b, "pypy", 4)) {
			muppy_error_set(err, "process %d runs PyPy (%s); "
					"muppy-snap reads CPython heaps only",
					(int)pid, muppy__shown(b, q, sizeof(q)));
			r = -EPROTONOSUPPORT;
			goto out;
		}
		/* the same file mapped many times is looked into once; no
		 * more than MUPPY__PROBE_FILES files */
		if (seen_before(m, seen, &nseen) || nseen == MUPPY__PROBE_FILES ||
		    muppy__elf_open(pid, &maps, m, &e, NULL) < 0)
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
	/* what was found is of the process, and of its program, still */
	if (muppy__pyinfo_changed(pid, pi, err)) {
		r = -EOWNERDEAD;
	} else if (!found && !*exe_name) {
		/* Only during an exec: the new program is not mapped yet. */
		muppy_error_set(err, "process %d has no program mapped: it is "
				"executing a new one; try again", (int)pid);
		r = -EAGAIN;
	} else if (!found) {
		muppy_error_set(err, "process %d is not a Python process (no "
				"CPython C API in %s or its libraries)",
				(int)pid, muppy__shown(exe_name, q, sizeof(q)));
		r = -ENOEXEC;
	} else if (pi->python2) {
		muppy_error_set(err, "process %d runs Python 2 (%s); "
				"muppy-snap supports CPython 3.6 and later",
				(int)pid, muppy__shown(base_name(pi->object), q,
						sizeof(q)));
		r = -EPROTONOSUPPORT;
	} else if (pi->free_threaded || strchr(pi->abiflags, 't')) {
		muppy_error_set(err, "process %d runs a free-threaded CPython "
				"build (%s), which muppy-snap does not support",
				(int)pid, muppy__shown(base_name(pi->object), q,
						sizeof(q)));
		r = -EPROTONOSUPPORT;
	} else if (pi->major && (pi->major != 3 || pi->minor < 6)) {
		muppy_error_set(err, "process %d runs Python %d.%d; muppy-snap "
				"supports CPython 3.6 and later", (int)pid,
				pi->major, pi->minor);
		r = -EPROTONOSUPPORT;
	}
out:
	free(seen);
	muppy__maps_free(&maps);
	return r;
}

bool muppy__pyinfo_changed(pid_t pid, const struct muppy__pyinfo *pi,
			   struct muppy_error *err)
{
	unsigned long long start = start_of(pid);

	if (!start || start != pi->start) {
		muppy_error_clear(err);
		muppy_error_set(err, "process %d exited%s since muppy-snap "
				"first looked at it; nothing was injected",
				(int)pid, start ? " (its pid is another "
				"process's now)" : "");
		return true;
	}
	if (muppy__pyinfo_exec_happened(pid, pi)) {
		muppy_error_clear(err);
		muppy_error_set(err, "process %d executed another program since "
				"muppy-snap first looked at it; nothing was "
				"injected", (int)pid);
		return true;
	}
	return false;
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

int muppy_snap_probe(int pid, int timeout_ms, struct muppy_error *err)
{
	struct muppy__pyinfo pi;

	return muppy__pyinfo_probe((pid_t)pid, &pi, muppy__now_us() +
				   (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) *
				   1000, err);
}
