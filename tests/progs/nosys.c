/* SPDX-License-Identifier: MIT */
/*
 * Runs a program as if the kernel lacked some system calls:
 *   nosys NR[,NR...] PROGRAM [ARG...]
 * A seccomp filter makes each system call numbered NR fail with ENOSYS
 * (what a kernel older than the call gives), then PROGRAM is executed.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sock_filter f[64];
	struct sock_fprog prog;
	unsigned n = 0, nrs[32], k = 0;
	char *s, *tok;

	if (argc < 3)
		return 64;
	s = strdup(argv[1]);
	for (tok = strtok(s, ","); tok && k < 32; tok = strtok(NULL, ","))
		nrs[k++] = (unsigned)atoi(tok);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < k; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
			nrs[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
			SECCOMP_RET_ERRNO | ENOSYS);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		perror("nosys: seccomp");
		return 99;
	}
	execvp(argv[2], argv + 2);
	perror("nosys: exec");
	return 127;
}
