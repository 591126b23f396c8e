/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for muppy__eperm_message() (lib/proc/eperm.c): each reason
 * a process cannot be traced gets its own one-line message and hint.
 * kernel.yama.ptrace_scope is tested here because the kernel that runs
 * the integration tests may have no yama at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "inject/inject_int.h"

struct eperm_case {
	struct muppy__eperm_facts f;
	int rc;
	const char *msg;
};

static const struct eperm_case cases[] = {
	{ { .tid = 0, .tracer = 42, .tracer_comm = "gdb", .uid = 0, .euid = 0,
	    .cap_sys_ptrace = true, .yama = -1 }, -EBUSY,
	  "cannot attach to process 100: it is already traced by process 42 "
	  "(gdb); detach that debugger first" },
	{ { .tid = 101, .tracer = 43, .tracer_comm = "muppy-snap", .uid = 0,
	    .cap_sys_ptrace = true, .yama = -1 }, -EBUSY,
	  "cannot attach to process 100: its thread 101 is already traced by "
	  "process 43 (muppy-snap); another snapshot is being taken, try "
	  "again" },
	{ { .uid = 0, .euid = 1000, .yama = -1 }, -EPERM,
	  "cannot attach to process 100: it belongs to uid 0 and we run as "
	  "uid 1000 without CAP_SYS_PTRACE; run as that user or as root "
	  "(sudo)" },
	/* another uid, but CAP_SYS_PTRACE: yama is the reason */
	{ { .uid = 0, .euid = 1000, .cap_sys_ptrace = true, .yama = 2 }, -EPERM,
	  "cannot attach to process 100: kernel.yama.ptrace_scope = 2 lets "
	  "only CAP_SYS_PTRACE trace; run as root (sudo) or grant "
	  "CAP_SYS_PTRACE" },
	{ { .uid = 1000, .euid = 1000, .yama = 1 }, -EPERM,
	  "cannot attach to process 100: kernel.yama.ptrace_scope = 1 lets a "
	  "process trace only its own descendants; run as root (sudo) or "
	  "with CAP_SYS_PTRACE, or set it to 0 (sysctl "
	  "kernel.yama.ptrace_scope=0)" },
	{ { .uid = 1000, .euid = 1000, .yama = 3 }, -EPERM,
	  "cannot attach to process 100: kernel.yama.ptrace_scope = 3 forbids "
	  "all tracing until the next reboot" },
	{ { .uid = 1000, .euid = 1000, .yama = 0 }, -EPERM,
	  "cannot attach to process 100: permission denied (setuid program, "
	  "other gid, or a security module); run as root (sudo)" },
	{ { .uid = 1000, .euid = 1000, .yama = -1 }, -EPERM,
	  "cannot attach to process 100: permission denied (setuid program, "
	  "other gid, or a security module); run as root (sudo)" },
};

static void test_messages(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct muppy_error err = { "" };
		int rc = muppy__eperm_message(&err, "attach to", 100,
					      &cases[i].f);

		if (rc != cases[i].rc || strcmp(err.msg, cases[i].msg))
			fail_msg("case %zu: rc %d, message\n  %s\nwant %d\n  %s",
				 i, rc, err.msg, cases[i].rc, cases[i].msg);
		assert_null(strchr(err.msg, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
