/* SPDX-License-Identifier: MIT */
/*
 * A process whose only thread is a vfork parent, waiting (state D) for a
 * child blocked opening a FIFO for reading:
 *   vforker FIFO READYFILE
 * Opening FIFO for writing unblocks the child, which exits; the parent
 * then sleeps until killed.  It also serves as the vfork child itself to
 * refuse: its pid is written to READYFILE.child.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ready.h"

int main(int argc, char **argv)
{
	char path[4096];
	pid_t c;

	if (argc != 3)
		return 64;
	if (write_ready(argv[2]))
		return 1;
	snprintf(path, sizeof(path), "%s.child", argv[2]);
	c = vfork();
	if (c == 0) {
		/* only system calls here: the parent's memory is ours */
		char pid[16];
		long me = syscall(SYS_getpid);
		int i = 14, fd;

		pid[15] = '\n';
		do {
			pid[i--] = (char)('0' + me % 10);
			me /= 10;
		} while (me && i >= 0);
		fd = (int)syscall(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		syscall(SYS_write, fd, pid + i + 1, (size_t)(15 - i));
		syscall(SYS_close, fd);
		fd = (int)syscall(SYS_open, argv[1], O_RDONLY);
		syscall(SYS_exit, fd < 0 ? 1 : 0);
	}
	if (c < 0)
		return 1;
	waitpid(c, NULL, 0);
	for (;;)
		pause();
}
