/* SPDX-License-Identifier: MIT */
/* Signals of our own: one that should end muppy-snap is pending. */
#include <signal.h>

#include "base/base.h"

bool muppy__stop_pending(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGALRM };
	sigset_t pend;

	if (sigpending(&pend))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		struct sigaction sa;

		if (sigismember(&pend, sigs[i]) &&
		    !sigaction(sigs[i], NULL, &sa) && sa.sa_handler != SIG_IGN)
			return true;
	}
	return false;
}
