/* SPDX-License-Identifier: MIT */
/*
 * lib/base/: what every layer uses -- error text (error.c), escaping of
 * untrusted text (escape.c), timestamps and the clock (time.c), sizes
 * (units.c).  Includes nothing of the library but muppy.h.
 */
#ifndef MUPPY_BASE_H
#define MUPPY_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "muppy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* error.c: "WHAT: strerror(errnum)" into err, WHAT formatted as by
 * muppy_error_set(); errnum may be an errno or a -errno (perror_msg). */
void muppy__error_errno(struct muppy_error *err, int errnum,
			const char *fmt, ...) MUPPY_PRINTF(3, 4);

/* escape.c: length of the longest prefix of s that is in escaped form
 * (escaped up to the step that goes wrong). */
size_t muppy__escaped_len(const char *s, size_t len);
/*
 * The same for text of older writers, which left invisible characters
 * raw that are escaped now (zero-width characters, variation selectors,
 * ...; the bidi controls they escaped already): both forms pass.
 */
size_t muppy__escaped_len_compat(const char *s, size_t len);
/* Such text in today's escaped form: a new string, or NULL when it is not
 * in either form or memory is short. */
char *muppy__escape_upgrade(const char *s, size_t len);
/*
 * A message for a terminal: src copied to dst (size bytes, always
 * NUL-terminated) with every byte that muppy_escape() escapes written
 * escaped, but backslashes kept, so that text escaped already passes
 * unchanged; cut at a character or escape when it does not fit.
 */
void muppy__escape_message(char *dst, size_t size, const char *src);

/* escape.c: s as one word for a POSIX shell: itself when it is made of
 * letters, digits and _.:/@%+=- only (and not empty), else in single
 * quotes with each ' written '\''.  A new string, or NULL. */
char *muppy__shell_quote(const char *s);

/* time.c: the range muppy_time_parse() accepts (years 0000 to 9999). */
#define MUPPY__TIME_MIN_MS INT64_C(-62167219200000)
#define MUPPY__TIME_MAX_MS INT64_C(253402300799999)

/* time.c: CLOCK_MONOTONIC in microseconds. */
uint64_t muppy__now_us(void);

/* escape.c: text of the target (a file name, a symbol name) for a
 * message: escaped by muppy_escape() into buf, cut to fit; returns buf. */
const char *muppy__shown(const char *text, char *buf, size_t size);

/* signal.c: true when a signal that should end muppy-snap (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, not ignored) is
 * pending, held back because muppy_snap_take() blocks them while
 * attached. */
bool muppy__stop_pending(void);

#endif
