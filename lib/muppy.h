/* SPDX-License-Identifier: MIT */
/*
 * libmuppy: the public interface of muppy-snap's library.
 *
 * The command-line tools in cli/ include this header only.  Functions that
 * act return 0 or a negative errno value; detail text goes into the
 * caller's struct muppy_error, where the first error wins.  The library
 * never prints to stderr and never exits.
 */
#ifndef MUPPY_H
#define MUPPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MUPPY_MUST_CHECK __attribute__((warn_unused_result))
#define MUPPY_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Error text for one operation; the first error set is kept. */
struct muppy_error {
	char msg[512];
};

void muppy_error_clear(struct muppy_error *err);
void muppy_error_set(struct muppy_error *err, const char *fmt, ...)
	MUPPY_PRINTF(2, 3);

/*
 * Escaping of text that comes from the target (type names, command line,
 * paths).  The escaped form is printable: every byte that is a control
 * character (C0, DEL, the C1 range U+0080..U+009F), a backslash, part of
 * invalid UTF-8, a Unicode line/paragraph separator, or a character that
 * shows as nothing or reorders text (bidi controls, zero-width characters,
 * variation selectors, tag characters: Unicode's default-ignorable code
 * points, see muppy-snapshot(5)) is written as \xHH per byte; \\, \t, \n
 * and \r have short forms.  Any other valid UTF-8 passes unchanged.
 * muppy_unescape() inverts it exactly.
 */
/* Escapes len bytes of src; returns a new NUL-terminated string or NULL. */
char *muppy_escape(const void *src, size_t len);
/* Decodes an escaped string; -EINVAL if it is not in canonical form. */
int muppy_unescape(const char *s, char **out, size_t *outlen) MUPPY_MUST_CHECK;
/* True when s is exactly what muppy_escape() produces for some input. */
bool muppy_is_escaped(const char *s, size_t len);

/* Largest count or byte total a snapshot can hold: 2^63 - 1. */
#define MUPPY_MAX_VALUE INT64_MAX

/* One row of a snapshot: all live objects of one type. */
struct muppy_type_stat {
	char *name;     /* escaped module.qualname ("dict" for builtins) */
	uint64_t count; /* objects */
	uint64_t bytes; /* sum of sys.getsizeof() */
};

/*
 * Who holds the objects of one type (muppy-snap --owners; see the OWNERS
 * section of muppy-snap(1)).  All strings are escaped.
 */
struct muppy_holder {
	char *name;     /* "app.Store.by_id", "dict values of app.cache" */
	uint64_t count; /* objects of the type it holds */
	uint64_t bytes; /* their sys.getsizeof() */
};

/* One shortest chain of references from a root to one object. */
struct muppy_path {
	uint64_t id;    /* the object's address, Python's id() */
	size_t nsteps;  /* >= 2: the root first, the object's type last */
	char **steps;   /* "module app.state . SESSIONS", "dict['u42']" */
};

struct muppy_owners {
	char *type;     /* as the rows name it */
	uint64_t count; /* its objects, as in its row (0: none found) */
	uint64_t bytes;
	uint64_t shared; /* objects with more than one holder: each of
			    them is counted under every holder */
	uint64_t unreachable; /* objects with no path from a module */
	size_t nholders; /* largest first (bytes, then count, then name) */
	struct muppy_holder *holders;
	size_t npaths;
	struct muppy_path *paths;
};

/* How the payload knew the layout of the target's objects. */
enum muppy_layout {
	MUPPY_LAYOUT_UNKNOWN,  /* not recorded (format 1.0) */
	MUPPY_LAYOUT_VERIFIED, /* a CPython version muppy-snap was verified on */
	MUPPY_LAYOUT_GENERIC,  /* a newer one: only what run-time checks
				  proved was used (no fast sizing) */
};

/* Summary of one process's heap; see muppy-snapshot(5). */
struct muppy_snapshot {
	unsigned minor;       /* format minor version it was read from */
	int64_t pid;
	char *cmdline;        /* escaped; arguments joined by spaces */
	int64_t time_ms;      /* capture time, ms since the Unix epoch */
	char *python;         /* escaped, e.g. "3.11.2" */
	char *implementation; /* escaped, e.g. "cpython" */
	char *executable;     /* escaped path */
	uint64_t rss;         /* resident set size in bytes */
	bool gc;              /* a full collection ran before the walk */
	uint64_t gc_freed;    /* objects that collection freed (0 if none) */
	uint64_t hold_us;     /* microseconds the walk held the interpreter */
	/* Since format 1.1; all zero (unknown, nothing unusual) in older
	 * files. */
	bool frozen_known;    /* frozen was recorded */
	uint64_t frozen;      /* gc.get_freeze_count(): objects gc.freeze()
				 moved to the permanent generation */
	bool frozen_missed;   /* frozen > 0 and those objects were not walked
				 (only those reachable from others counted) */
	enum muppy_layout layout;
	char *checks_failed;  /* escaped, comma-separated names of the layout
				 checks that failed; "" or NULL for none */
	uint64_t interpreters; /* interpreters in the process (the counts are
				  the main one's); 0 unknown */
	uint64_t objects;     /* sum of the rows' counts */
	uint64_t bytes;       /* sum of the rows' bytes */
	size_t ntypes;
	struct muppy_type_stat *types;
	/* Since format 1.2: who holds the types asked for with --owners,
	 * in the order asked; none in older files and plain snapshots. */
	size_t nowners;
	struct muppy_owners *owners;
};

/* A new empty snapshot (all fields zero, strings ""), or NULL.  Rows are
 * added (muppy_snapshot_add_raw()) only to snapshots made here. */
struct muppy_snapshot *muppy_snapshot_new(void);
void muppy_snapshot_free(struct muppy_snapshot *s);
/*
 * Owners (format 1.2).  At most MUPPY_OWNERS_MAX sections a snapshot (one
 * per type asked for) and MUPPY_PATHS_MAX paths a section.  Names and
 * steps are raw bytes from the target, escaped here.
 * muppy_snapshot_add_owners() appends the section of one type and hands
 * it out in *out, valid as long as s (sections are never moved):
 * -E2BIG past MUPPY_OWNERS_MAX, -ENOMEM.  muppy_owners_add_holder()
 * appends a holder; muppy_owners_add_path() a path of nsteps >= 2 steps
 * (step i is lens[i] bytes at steps[i]): -EINVAL for fewer steps, -E2BIG
 * past MUPPY_PATHS_MAX.  muppy_snapshot_finish() puts the holders of
 * every section in order (muppy_owners_sort()).
 */
#define MUPPY_OWNERS_MAX 16
#define MUPPY_PATHS_MAX 100
int muppy_snapshot_add_owners(struct muppy_snapshot *s, const void *type,
			      size_t len, uint64_t count, uint64_t bytes,
			      uint64_t shared, uint64_t unreachable,
			      struct muppy_owners **out) MUPPY_MUST_CHECK;
int muppy_owners_add_holder(struct muppy_owners *o, const void *name,
			    size_t len, uint64_t count, uint64_t bytes)
	MUPPY_MUST_CHECK;
int muppy_owners_add_path(struct muppy_owners *o, uint64_t id,
			  size_t nsteps, const void *const *steps,
			  const size_t *lens) MUPPY_MUST_CHECK;
/* Holders largest first: bytes descending, count descending, name. */
void muppy_owners_sort(struct muppy_owners *o);
/* The section of type (escaped, as the rows name it), or NULL. */
const struct muppy_owners *muppy_snapshot_owners(
	const struct muppy_snapshot *s, const char *type);
/* Replaces a string field with the escaped form of raw bytes. */
int muppy_snapshot_set_raw(char **field, const void *raw, size_t len)
	MUPPY_MUST_CHECK;
/* Appends a row; name is raw bytes and is escaped here. */
int muppy_snapshot_add_raw(struct muppy_snapshot *s, const void *name,
			   size_t len, uint64_t count, uint64_t bytes)
	MUPPY_MUST_CHECK;
/*
 * Puts rows in canonical order (bytes descending, then name), merges rows
 * of equal name and sets objects/bytes to the sums; sorts the holders of
 * every owners section (muppy_owners_sort()).  -EOVERFLOW when a
 * row or a sum exceeds MUPPY_MAX_VALUE (s may then be half merged; it can
 * still be freed).
 */
int muppy_snapshot_finish(struct muppy_snapshot *s) MUPPY_MUST_CHECK;

/*
 * Parsing.  name is used in messages ("FILE:LINE: problem").  The parser is
 * strict: on any problem it returns -EINVAL (or -ENOMEM, -EIO) and explains
 * in err; it never reads outside buf.
 */
int muppy_snapshot_parse(const char *buf, size_t len, const char *name,
			 struct muppy_snapshot **out, struct muppy_error *err)
	MUPPY_MUST_CHECK;
int muppy_snapshot_read(FILE *f, const char *name, struct muppy_snapshot **out,
			struct muppy_error *err) MUPPY_MUST_CHECK;
/* Reads the file at path ("-" is standard input, "(standard input)" in
 * messages); -errno with "PATH: reason" when it cannot be opened. */
int muppy_snapshot_load(const char *path, struct muppy_snapshot **out,
			struct muppy_error *err) MUPPY_MUST_CHECK;
/*
 * Writes s in the snapshot format 1.1, or 1.2 when it has owners
 * (whatever s->minor says), holders in muppy_owners_sort()'s order; does
 * not flush f.  -EINVAL, writing nothing, when the file would not parse
 * back: pid <= 0, time outside years 0000..9999, a string or name not in
 * escaped form, a value above MUPPY_MAX_VALUE, totals that differ from the
 * rows, a repeated name, an unknown layout value, frozen or frozen_missed
 * set without frozen_known, or frozen_missed with frozen 0; in owners:
 * more than MUPPY_OWNERS_MAX sections or a type twice, shared or
 * unreachable above count, a holder above the type's count or bytes, a
 * holder twice in a section, more than MUPPY_PATHS_MAX paths, a path of
 * fewer than 2 steps, an id 0 or twice in a section.  -ENOMEM, or -errno
 * on a write error.
 */
int muppy_snapshot_write(FILE *f, const struct muppy_snapshot *s)
	MUPPY_MUST_CHECK;

/*
 * The program a command line (a snapshot's cmdline: escaped, arguments
 * joined by spaces) runs: the last path component of the script after a
 * Python interpreter's options ("python3 -u /srv/app.py" -> "app.py"),
 * the module of -m ("mod"), "-c" or "-" for a command or standard input;
 * else, and when the first word is no python*, the last path component
 * of the first word ("uwsgi", "python3" for an interactive one).  Sets
 * *len and returns its start (into cmdline, or a constant); "" for an
 * empty command line.  A script path with a space in it is cut there.
 */
const char *muppy_cmdline_program(const char *cmdline, size_t *len);

/* Formats ms since the epoch as 2026-11-25T12:52:54.123Z (buf >= 32). */
void muppy_time_format(char *buf, size_t size, int64_t ms);
/* Parses YYYY-MM-DDTHH:MM:SS[.fff]Z; -EINVAL when malformed. */
int muppy_time_parse(const char *s, int64_t *ms) MUPPY_MUST_CHECK;

/* Parses "123", "10k", "1.5M", "2GiB" (binary units); -EINVAL/-ERANGE. */
int muppy_parse_size(const char *s, uint64_t *out) MUPPY_MUST_CHECK;
/* Human-readable bytes: "512 B", "1.5 KiB", "12.0 MiB" (buf >= 32). */
void muppy_human_bytes(char *buf, size_t size, uint64_t bytes);
/* Same with a sign: "+1.5 KiB", "-512 B", "0 B". */
void muppy_human_delta(char *buf, size_t size, int64_t bytes);

/* Comparison of two snapshots. */
enum muppy_sort {
	MUPPY_SORT_SIZE,  /* by absolute byte change (or bytes), largest first */
	MUPPY_SORT_COUNT, /* by absolute count change (or count) */
	MUPPY_SORT_NAME,  /* by type name, bytewise */
};

struct muppy_diff_row {
	const char *name; /* points into one of the snapshots */
	uint64_t old_count, old_bytes;
	uint64_t new_count, new_bytes;
	int64_t d_count, d_bytes; /* new - old */
};

/* Who holds one type in both snapshots: the change per holder. */
struct muppy_owners_diff {
	const struct muppy_owners *old, *new; /* of the same type */
	size_t nrows; /* only holders whose count or bytes changed */
	struct muppy_diff_row *rows; /* name: the holder; always ordered
					by MUPPY_SORT_SIZE */
};

struct muppy_diff {
	const struct muppy_snapshot *old, *new;
	size_t nrows; /* only types whose count or bytes changed */
	struct muppy_diff_row *rows;
	int64_t d_objects, d_bytes; /* change of the totals */
	enum muppy_sort sort; /* order of rows (muppy_diff_sort) */
	/* The types both snapshots have owners of, in NEW's order. */
	size_t nowners;
	struct muppy_owners_diff *owners;
};

/*
 * Compares old with new; rows come sorted by MUPPY_SORT_SIZE and point
 * into the snapshots, which must outlive the diff; so do the holders of
 * each type both have owners of.  -EINVAL when a snapshot repeats a type
 * name or a holder, -EOVERFLOW for a value above MUPPY_MAX_VALUE,
 * -ENOMEM.
 */
int muppy_diff_compute(const struct muppy_snapshot *old,
		       const struct muppy_snapshot *new,
		       struct muppy_diff **out) MUPPY_MUST_CHECK;
void muppy_diff_sort(struct muppy_diff *d, enum muppy_sort by);
void muppy_diff_free(struct muppy_diff *d);

enum muppy_format {
	MUPPY_FORMAT_TABLE,
	MUPPY_FORMAT_TSV,
	MUPPY_FORMAT_JSON,
	MUPPY_FORMAT_SNAP, /* snapshots only */
	MUPPY_FORMAT_PROMETHEUS, /* snapshots only: muppy_prom_print() */
	MUPPY_FORMAT_SVG,  /* trends only: muppy_trend_print() */
};

/* A label of every series of muppy_prom_print(): --label NAME=VALUE. */
struct muppy_label {
	const char *name;  /* muppy_prom_label_ok() */
	const char *value; /* UTF-8 */
};

struct muppy_print_opts {
	enum muppy_format format;
	size_t limit;         /* rows shown; 0 = all */
	const char *old_name; /* file names shown in headers (may be NULL) */
	const char *new_name;
	bool color;           /* ANSI colors in tables (trends only) */
	/* MUPPY_FORMAT_PROMETHEUS: labels added to every series */
	const struct muppy_label *labels;
	size_t nlabels;
};

/* Prints a diff, and below its rows the change per holder of each type
 * both snapshots have owners of (all of them); -errno on a write error. */
int muppy_diff_print(FILE *f, const struct muppy_diff *d,
		     const struct muppy_print_opts *o) MUPPY_MUST_CHECK;
/*
 * Prints one snapshot: a table, tsv or json with its rows ordered by `by`
 * (the snapshot is not changed) and at most o->limit of them, or with
 * MUPPY_FORMAT_SNAP exactly what muppy_snapshot_write() writes; below
 * the rows its owners, every holder largest first whatever the limit
 * (see muppy-snap(1)).  o's file names are not used.  -errno on a write
 * error, -EINVAL for an unknown format or a row without a name, -ENOMEM.
 */
int muppy_snapshot_print(FILE *f, const struct muppy_snapshot *s,
			 const struct muppy_print_opts *o, enum muppy_sort by)
	MUPPY_MUST_CHECK;

/*
 * OpenMetrics text (Prometheus, node_exporter's textfile collector) for
 * one snapshot: per-type gauges muppy_type_objects and muppy_type_bytes
 * for the o->limit largest types by bytes (0: all), the rest summed
 * under the type "(other)", then totals, the frozen objects (when
 * known), RSS and the walk time, and "# EOF".  Every series is labelled
 * pid, program (muppy_cmdline_program() of the command line) and with
 * o->labels, in that order.  Label values are escaped as OpenMetrics
 * requires.  -errno on a write error, -EINVAL for a row without a name
 * or a label muppy_prom_label_ok() refuses.
 */
int muppy_prom_print(FILE *f, const struct muppy_snapshot *s,
		     const struct muppy_print_opts *o) MUPPY_MUST_CHECK;
/*
 * Whether name=value may be added to muppy_prom_print()'s series: name
 * a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with
 * "__") that is not one of muppy's own (pid, program, type,
 * implementation, version, executable), value valid UTF-8.
 */
bool muppy_prom_label_ok(const char *name, const char *value);

/*
 * Trends across three or more snapshots of one process.  Snapshots are
 * taken in capture-time order; a type missing from a snapshot counts 0
 * objects of 0 bytes there.  Rates are Theil-Sen slopes (the median of
 * the slopes between every pair of snapshots) per minute.  A type is a
 * leak suspect when its bytes grew in at least MUPPY_TREND_GREW_PCT % of
 * the intervals (in all of them when there are fewer than
 * MUPPY_TREND_ALL_BELOW intervals), its last bytes exceed its first and
 * its byte rate is positive; suspects are ranked by score = byte rate *
 * grown intervals / intervals, largest first, then by name.
 */
#define MUPPY_TREND_GREW_PCT 80
#define MUPPY_TREND_ALL_BELOW 5

struct muppy_trend_row {
	const char *name;      /* points into one of the snapshots */
	const uint64_t *count; /* one value per snapshot, in time order */
	const uint64_t *bytes;
	double count_rate;     /* objects per minute */
	double bytes_rate;     /* bytes per minute */
	size_t grew;           /* intervals in which the bytes grew */
	int64_t d_count, d_bytes; /* last - first */
	size_t rank;           /* 1.. for suspects, 0 otherwise */
	double score;          /* suspects: bytes_rate * grew / intervals */
};

struct muppy_trend {
	size_t n;                            /* snapshots */
	const struct muppy_snapshot **snaps; /* in capture-time order */
	size_t *input;        /* snaps[i] was argument number input[i] */
	double minutes;       /* from the first capture to the last */
	size_t nrows;         /* types whose count or bytes ever changed */
	struct muppy_trend_row *rows;
	struct muppy_trend_row total; /* name "total": all objects, bytes */
	size_t nsuspects;
	struct muppy_trend_row *suspects; /* copies of rows, ranked */
	enum muppy_sort sort; /* order of rows (muppy_trend_sort) */
};

/*
 * Computes the trend of n >= 3 snapshots, which must outlive it; rows
 * come sorted by MUPPY_SORT_SIZE (absolute byte rate, then absolute byte
 * change, then name).  -EINVAL for n < 3 or a repeated type name,
 * -EOVERFLOW for a value above MUPPY_MAX_VALUE, -ENOMEM.
 */
int muppy_trend_compute(const struct muppy_snapshot *const *snaps, size_t n,
			struct muppy_trend **out) MUPPY_MUST_CHECK;
void muppy_trend_sort(struct muppy_trend *t, enum muppy_sort by);
void muppy_trend_free(struct muppy_trend *t);
/*
 * The command that shows who holds the top suspect, for the process of
 * the last snapshot: "muppy-snap --owners=TYPE PID", TYPE quoted for a
 * POSIX shell when it needs it (in single quotes, ' as '\'').  A new
 * string in *out; -ENOENT when there are no suspects, -EINVAL when the
 * top suspect's name has a comma (--owners cannot take it), -ENOMEM.
 */
int muppy_trend_next_command(const struct muppy_trend *t, char **out)
	MUPPY_MUST_CHECK;
/*
 * Prints a trend as a table, tsv, json or svg (see muppy-diff(1)); names
 * are the file names in argument order (may be NULL).  -errno on a write
 * error, -EINVAL for another format, -ENOMEM.
 */
int muppy_trend_print(FILE *f, const struct muppy_trend *t,
		      const struct muppy_print_opts *o,
		      const char *const *names) MUPPY_MUST_CHECK;

/* Taking a snapshot of a live process. */
struct muppy_snap_opts {
	bool gc;             /* run gc.collect() first, as muppy does */
	int timeout_ms;      /* give up after this long */
	const char *payload; /* path of muppy-payload.so */
	/* who holds these types (escaped, as the rows name them; at most
	 * MUPPY_OWNERS_MAX, the names 4 KiB in all), with paths sample
	 * paths each (at most MUPPY_PATHS_MAX): the snapshot's owners
	 * sections */
	const char *const *owners;
	size_t nowners;
	unsigned paths;
};

/* Where the time went, for -v and the benchmark. */
struct muppy_snap_stats {
	uint64_t stopped_us; /* the seized thread was away from its code */
	uint64_t hold_us;    /* the payload held the interpreter */
	uint64_t walk_us;    /* of which the walk itself */
	uint64_t mem_peak;   /* payload bookkeeping, bytes at most */
	uint64_t total_us;   /* the whole snapshot */
	int tid;             /* the thread that was seized */
	bool here;           /* the walk ran on it: it held the GIL */
};

/*
 * Takes a snapshot of process pid.  Returns 0 or -errno with the reason
 * in err; muppy_exit_code() maps the error to the documented exit code.
 * The target is left as it was on every path.  st may be NULL.
 */
int muppy_snap_take(int pid, const struct muppy_snap_opts *o,
		    struct muppy_snapshot **out, struct muppy_snap_stats *st,
		    struct muppy_error *err) MUPPY_MUST_CHECK;
/*
 * Whether process pid runs a CPython at all, found as muppy_snap_take()
 * first does, from /proc and the files it maps, without attaching: 0
 * when it does, -ENOEXEC when it runs no Python (a shell, an editor with
 * the script open), else -errno with the reason in err (Python 2, PyPy,
 * a free-threaded build, gone, not readable).  At most timeout_ms.
 */
int muppy_snap_probe(int pid, int timeout_ms, struct muppy_error *err)
	MUPPY_MUST_CHECK;
/* Between snapshots: lets go of threads of earlier targets that were
 * seized but had not stopped in time (see muppy__inject_reap). */
void muppy_snap_reap(void);

#endif
