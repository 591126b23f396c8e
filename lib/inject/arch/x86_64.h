/* SPDX-License-Identifier: MIT */
/* x86-64 pieces of arch.h. */
#ifndef MUPPY_INJECT_ARCH_X86_64_H
#define MUPPY_INJECT_ARCH_X86_64_H

#include <sys/user.h>

struct muppy__arch_regs {
	struct user_regs_struct r;
};

#endif
