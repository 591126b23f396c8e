/* SPDX-License-Identifier: MIT */
/*
 * A main thread that is always inside a restartable sequence (its rseq
 * area's rseq_cs set, spinning in the sequence's range), next to a busy
 * thread outside any.  A call run from inside the sequence would make
 * the kernel drop rseq_cs (the call's ip is outside it) without aborting
 * the sequence; the spinner notices rseq_cs gone while it is inside.
 *   rseqspin READYFILE
 * On SIGTERM prints "left N" (sequences left without an abort) and exits
 * 0 if N is 0.  Exits 77 when glibc registered no rseq area.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "ready.h"

struct cs_desc {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} __attribute__((aligned(32)));

/* rdi: &rseq_cs, rsi: the descriptor, rdx: counter of unaborted exits */
void rseq_spin(volatile uint64_t *cs, const struct cs_desc *d, volatile int *left);
extern const char rseq_cs_start[], rseq_cs_end[], rseq_cs_abort[];
__asm__(".text\n"
	".globl rseq_spin\n"
	".type rseq_spin, @function\n"
	"rseq_spin:\n"
	".cfi_startproc\n"
	"1:	mov %rsi, (%rdi)\n"
	".globl rseq_cs_start\n"
	"rseq_cs_start:\n"
	"2:	pause\n"
	"	cmpq $0, (%rdi)\n"
	"	jne 2b\n"
	"	incl (%rdx)\n"
	"	jmp 1b\n"
	".globl rseq_cs_end\n"
	"rseq_cs_end:\n"
	"	.long 0x53053053\n" /* RSEQ_SIG, x86 */
	".globl rseq_cs_abort\n"
	"rseq_cs_abort:\n"
	"	jmp 1b\n"
	".cfi_endproc\n"
	".size rseq_spin, . - rseq_spin\n");

static struct cs_desc desc;
static volatile int left;

static void on_term(int sig)
{
	char buf[32];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf), "left %d\n", left);
	if (write(1, buf, (size_t)n) < 0)
		_exit(2);
	_exit(left ? 1 : 0);
}

static void *busy(void *arg)
{
	volatile unsigned long i = 0;
	void *volatile p = malloc(64); /* its arena, before any injection */

	(void)arg;
	free(p);
	for (;;)
		i++;
	return NULL;
}

int main(int argc, char **argv)
{
	struct rseq *rs;
	pthread_t th;
	sigset_t set;

	if (argc != 2)
		return 64;
	if (!__rseq_size)
		return 77;
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	desc.start_ip = (uint64_t)rseq_cs_start;
	desc.post_commit_offset = (uint64_t)(rseq_cs_end - rseq_cs_start);
	desc.abort_ip = (uint64_t)rseq_cs_abort;
	signal(SIGTERM, on_term);
	pthread_create(&th, NULL, busy, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* handled by the busy one */
	if (write_ready(argv[1]))
		return 1;
	rseq_spin((volatile uint64_t *)&rs->rseq_cs, &desc, &left);
	return 0;
}
