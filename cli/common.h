/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the command-line tools: option values that several
 * tools accept and one-line messages on stderr ("muppy-diff: what: why").
 */
#ifndef MUPPY_CLI_COMMON_H
#define MUPPY_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "muppy.h"

/* Option values; each returns false when s is not a valid value. */
/* "table", "tsv", "json", and "snap" only when allow_snap. */
bool cli_parse_format(const char *s, bool allow_snap, enum muppy_format *out);
/* "size", "count", "name". */
bool cli_parse_sort(const char *s, enum muppy_sort *out);
/* A row count: decimal digits only, 0 meaning all. */
bool cli_parse_limit(const char *s, size_t *out);

/* "PROGRAM: message" on stderr. */
void cli_error(const char *fmt, ...) MUPPY_PRINTF(1, 2);
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
