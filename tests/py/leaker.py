"""A Python process that leaks one class steadily and churns others.

usage: leaker.py CTL_FIFO READY_FILE MODE

Every step leaks 400 instances of __main__.LeakedRecord (kept in a list
nobody empties) and rebuilds __main__.ChurnA and __main__.ChurnB to sizes
that go up and down, each swing larger in bytes than the leak's growth;
a background thread churns short-lived strings, lists and dicts all the
time.  It writes READY_FILE when started.

MODE step: the control FIFO drives it, one command a line:
    step FILE   do one step, then write FILE
    exit        end the process
MODE auto: a step every 0.1 s by itself, and the FIFO only reads exit.
"""
import os
import sys
import threading
import time


class LeakedRecord(object):
    __slots__ = ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h')

    def __init__(self, i):
        self.a = self.b = self.c = self.d = None
        self.e = self.f = self.g = self.h = i & 0xff


class ChurnA(object):
    __slots__ = ('text', 'n')

    def __init__(self, i):
        self.text = 'churn-a-%d' % i
        self.n = i


class ChurnB(object):
    def __init__(self, i):
        self.payload = [i] * 8


SIZES_A = [3000, 200, 2500, 500, 2800, 100, 2000, 700, 2600, 300]
SIZES_B = [100, 1500, 50, 1800, 300, 1200, 0, 1600, 200, 1000]

leaked = []
churn = {'a': [], 'b': {}}
steps = [0]
lock = threading.Lock()


def step():
    with lock:
        k = steps[0]
        steps[0] += 1
        leaked.extend(LeakedRecord(len(leaked) + i) for i in range(400))
        churn['a'] = [ChurnA(i) for i in range(SIZES_A[k % len(SIZES_A)])]
        churn['b'] = dict((i, ChurnB(i))
                          for i in range(SIZES_B[k % len(SIZES_B)]))


def background():
    n = 0
    while True:
        tmp = [('tmp-%d' % (n + i)) * 3 for i in range(500)]
        d = dict((s, len(s)) for s in tmp)
        n += len(d) // 500
        time.sleep(0.002)


def write_file(path, text):
    with open(path + '.tmp', 'w') as f:
        f.write(text)
    os.rename(path + '.tmp', path)


def auto():
    while True:
        step()
        time.sleep(0.1)


def main():
    ctl, ready, mode = sys.argv[1:4]
    t = threading.Thread(target=background)
    t.daemon = True
    t.start()
    if mode == 'auto':
        a = threading.Thread(target=auto)
        a.daemon = True
        a.start()
    write_file(ready, str(os.getpid()))
    with open(ctl) as f:
        for line in f:
            words = line.split()
            if not words:
                continue
            if words[0] == 'exit':
                return 0
            if words[0] == 'step' and mode == 'step':
                step()
                write_file(words[1], 'done')
    return 0


sys.exit(main())
