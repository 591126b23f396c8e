/* SPDX-License-Identifier: MIT */
/* Internals of taking a snapshot of a live process. */
#ifndef MUPPY_SNAP_INT_H
#define MUPPY_SNAP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/model.h"

struct muppy__pyinfo {
	char object[256];  /* file that exports the C API */
	int major, minor;  /* 0 when the file names do not say */
	char abiflags[8];  /* "d", "m", "t", ... */
	bool python2;
	bool free_threaded;
	uint64_t image_start; /* changes when the process execs (probe.c) */
	uint64_t image_inode;
	unsigned long long start; /* start time: another process on reuse */
};

/* At most this many files of the process are looked into by the probe. */
#define MUPPY__PROBE_FILES 4096

/*
 * Finds the CPython the process runs.  -ENOEXEC: not Python;
 * -EPROTONOSUPPORT: Python 2, PyPy, free-threaded or too old; -ESRCH,
 * -EPERM as for reading /proc/PID/maps; -ETIMEDOUT: its files were not
 * all read by deadline_us (muppy__now_us()); -EOWNERDEAD: it executed
 * another program meanwhile.
 */
int muppy__pyinfo_probe(pid_t pid, struct muppy__pyinfo *pi,
			uint64_t deadline_us, struct muppy_error *err)
	MUPPY_MUST_CHECK;

/* True when pid is no longer the process the probe saw: it exited (and
 * the pid may be another's), or executed another program; err says so. */
bool muppy__pyinfo_changed(pid_t pid, const struct muppy__pyinfo *pi,
			   struct muppy_error *err);

/* True when the process runs another program than at the probe. */
bool muppy__pyinfo_exec_happened(pid_t pid, const struct muppy__pyinfo *pi);

#endif
