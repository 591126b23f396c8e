"""A small service that leaks, for `make demo`.

Every request builds a Session and some temporary data; the temporary data
is freed, but every Session stays in a module-level list nobody cleans.
"""
import os
import sys
import time


class Session(object):
    def __init__(self, n):
        self.id = n
        self.user = 'user-%d' % n
        self.headers = {'n': n, 'agent': 'demo/1.0'}


_sessions = []  # the leak: appended to, never emptied


def handle(n):
    _sessions.append(Session(n))
    body = [str(i) for i in range(200)]  # churn: freed when we return
    return len(''.join(body))


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1], 'w') as f:
            f.write(str(os.getpid()))
    n = 0
    while True:
        for _ in range(200):
            handle(n)
            n += 1
        time.sleep(0.1)


main()
