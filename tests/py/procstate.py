"""Prints what of a process muppy-snap must leave as it found it: its
mappings, open descriptors and threads, one a line, sorted.

usage: procstate.py PID

A glibc malloc arena of a thread (a 64 MiB-aligned anonymous region, read-
write up to its top, inaccessible beyond) is printed as one line: the
payload's thread may use an arena the process already had and move that
boundary, which is glibc's bookkeeping, not something left behind.
"""
import os
import sys

ARENA = 64 << 20


def main():
    pid = sys.argv[1]
    lines = []
    arena_end = 0
    with open('/proc/%s/maps' % pid) as f:
        for line in f:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split('-'))
            anon = len(fields) < 6 and fields[4] == '0'
            if anon and start % ARENA == 0 and fields[1] == 'rw-p':
                lines.append('arena %x' % start)
                arena_end = start + ARENA
                continue
            if anon and start < arena_end and fields[1] == '---p':
                continue
            lines.append(line.rstrip('\n'))
    for fd in os.listdir('/proc/%s/fd' % pid):
        try:
            target = os.readlink('/proc/%s/fd/%s' % (pid, fd))
        except OSError:
            continue
        lines.append('fd %s -> %s' % (fd, target))
    for tid in os.listdir('/proc/%s/task' % pid):
        lines.append('thread %s' % tid)
    print('\n'.join(sorted(lines)))


main()
