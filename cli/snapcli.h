/* SPDX-License-Identifier: MIT */
/*
 * Pieces of muppy-snap shared by its one-shot and watch modes: where a
 * snapshot is written, which processes --pidof and --pgrep find, and the
 * watch loop itself.
 */
#ifndef MUPPY_CLI_SNAPCLI_H
#define MUPPY_CLI_SNAPCLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exitcodes.h"
#include "muppy.h"

/* Series a Prometheus file has per metric unless --limit says otherwise. */
#define CLI_PROM_LIMIT 50
/* --label options at most. */
#define CLI_LABELS_MAX 32

/* output.c */
/* True when -o names a directory: it exists as one, or ends in /. */
bool cli_is_dir(const char *path);
/*
 * The file name for a snapshot of pid captured at time_ms: {pid}, {ms}
 * (milliseconds, 3 digits) and strftime(3) conversions (local time) of
 * tmpl replaced.  When tmpl is a directory (it exists, or ends in /),
 * the name is DIR/{pid}-%Y%m%dT%H%M%S.{ms}.snap, or DIR/muppy-{pid}.prom
 * for prometheus.  -ENAMETOOLONG when it does not fit.
 */
int cli_output_path(const char *tmpl, int pid, int64_t time_ms,
		    enum muppy_format fmt, char *buf, size_t size);
/*
 * In a folder that --format=prometheus -o DIR/ writes into: removes the
 * muppy-PID.prom of processes that no longer exist, and the temporary
 * files of runs that no longer exist.  How many were removed.
 */
int cli_prom_sweep(const char *dir);
/*
 * Before any snapshot: the folder -o names exists, and a fixed file name
 * is new or a regular file.  Returns an exit code after a message.
 */
int cli_output_check(const char *tmpl, enum muppy_format fmt);
/*
 * Prints s to path (NULL: standard output) in po->format, which may be
 * MUPPY_FORMAT_PROMETHEUS.  A file is written beside, synced and renamed
 * into place, and only over a regular file (a symbolic link, FIFO or
 * device there is refused).  Returns an exit code after a message.
 */
int cli_print_snapshot(const char *path, const struct muppy_snapshot *s,
		       const struct muppy_print_opts *po, enum muppy_sort sort);

/* pids.c */
/* Any user's processes, for cli_find_pids(). */
#define CLI_ANY_UID ((uid_t)-1)
/*
 * Processes whose name or a command-line word's last path component is
 * name (regex false), or whose command line (arguments joined by spaces)
 * matches the extended regular expression name (regex true), as pgrep -f
 * does; only those whose effective uid is uid unless it is CLI_ANY_UID
 * (pgrep -u).  muppy-snap and its ancestors are left out.  Ascending pids,
 * at most max; returns how many were found (may exceed max), -EINVAL for
 * a bad regular expression, -errno when /proc cannot be read.
 */
int cli_find_pids(const char *name, bool regex, uid_t uid, int *pids,
		  size_t max);
/*
 * A user for --user: a name from the user database or a number; false
 * when it is neither.
 */
bool cli_parse_user(const char *s, uid_t *uid);

/* owners.c: --owners */
struct cli_owners {
	const char *names[MUPPY_OWNERS_MAX];
	size_t n;
	bool automatic;          /* --owners=auto */
};
/* Parses "auto" or TYPE[,TYPE...] (arg is cut up); -1 when a name is
 * empty or there are more than MUPPY_OWNERS_MAX. */
int cli_parse_owners(char *arg, struct cli_owners *o);
/* Whether a type, as the rows name it, is built in or of the standard
 * library (by its top-level module). */
bool cli_stdlib_type(const char *name);
/* The largest (by bytes) at most max types of s that are neither: copies
 * of their names into names[]; how many. */
size_t cli_owners_pick(const struct muppy_snapshot *s, char **names,
		       size_t max);

/* watch.c */
struct cli_watch {
	int pid;
	const char *find;        /* --pidof/--pgrep: follow restarts */
	bool find_regex;
	const char *user;        /* --user, or NULL */
	uid_t uid;               /* its uid, or CLI_ANY_UID */
	struct muppy_snap_opts snap;
	bool owners_auto;        /* --owners=auto: of the trend's top suspect */
	int interval_ms;
	unsigned long count;     /* snapshots to take; 0: until stopped */
	const char *output;      /* -o: every snapshot kept there */
	enum muppy_format show;  /* diffs on stdout: table, tsv or json */
	enum muppy_format file;  /* -o files: snap or prometheus */
	enum muppy_sort sort;
	size_t limit;
	bool limit_set;
	int color;               /* --color: -1 auto, 0, 1 */
	bool verbose;
	const struct muppy_label *labels; /* --label, for prometheus */
	size_t nlabels;
};

/*
 * Takes a snapshot every interval and prints what changed since the
 * previous one; on SIGINT, SIGTERM or SIGHUP (*stop set by the handler)
 * or after count snapshots, prints the summary of the session.  Returns
 * the exit status.
 */
int cli_watch_run(const struct cli_watch *w, volatile sig_atomic_t *stop);

#endif
