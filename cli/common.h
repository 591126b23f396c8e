/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the command-line tools: option values that several
 * tools accept and one-line messages on stderr ("muppy-diff: what: why").
 */
#ifndef MUPPY_CLI_COMMON_H
#define MUPPY_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "exitcodes.h"
#include "muppy.h"

/* Option values; each returns false when s is not a valid value. */
/* Bit of a format in the allowed mask of cli_parse_format(). */
#define CLI_FMT(f) (1u << (f))
/* "table", "tsv", "json", "snap", "prometheus", "svg": those in allowed. */
bool cli_parse_format(const char *s, unsigned allowed,
		      enum muppy_format *out);
/* --color: "auto", "always", "never"; *out is -1, 1, 0. */
bool cli_parse_color(const char *s, int *out);
/* Whether to color output on fd: as --color says when it says always or
 * never; for auto only on a terminal whose TERM is not dumb, and never
 * when NO_COLOR is set and not empty. */
bool cli_use_color(int fd, int want);
/* A row count: decimal digits only, 0 meaning all. */
bool cli_parse_limit(const char *s, size_t *out);

/* --sort (size, count, name) and --limit, as both tools take them: a bad
 * value is a usage error through argp_error. */
struct argp_state;
void cli_opt_sort(struct argp_state *state, const char *arg,
		  enum muppy_sort *out);
void cli_opt_limit(struct argp_state *state, const char *arg, size_t *out);

/* "PROGRAM: message" on stderr. */
void cli_error(const char *fmt, ...) MUPPY_PRINTF(1, 2);
/* "PROGRAM: message: strerror(errnum)" on stderr (errno or -errno). */
void cli_perror(int errnum, const char *fmt, ...) MUPPY_PRINTF(2, 3);
/* "PROGRAM: warning: message" on stderr. */
void cli_warn(const char *fmt, ...) MUPPY_PRINTF(1, 2);

/*
 * Loads a snapshot and explains a failure on stderr.  Returns
 * MUPPY_EXIT_OK, MUPPY_EXIT_BADFILE (malformed, missing or unreadable
 * input) or MUPPY_EXIT_ERROR (out of memory).
 */
int cli_load_snapshot(const char *path, struct muppy_snapshot **out);

/* Flushes and closes stdout; MUPPY_EXIT_ERROR after a message if that fails. */
int cli_close_stdout(void);

#endif
