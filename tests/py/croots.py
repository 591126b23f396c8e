"""A victim whose objects of interest no module reaches, for
tests/snap/owners-roots.test: the second roots of --owners' paths.

usage: croots.py N READY_FILE

- N records and, as item N, a list of 5 __main__.Session, all in one list
  that only a count taken in C holds (ctypes Py_IncRef, then dropped):
  paths "outside the object graph -> list[N] -> list[I] -> __main__.Session";
- a thread whose function holds, in its local 'batch' only, a list of 2
  __main__.Token: paths "thread 'worker' work() local 'batch' (croots.py:
  LINE) -> list[I] -> __main__.Token", the group "list items of" that
  local;
- a module global function whose closure cell holds a __main__.Token:
  the group "cell 'held' of function __main__.FUNC".
Writes READY_FILE (the line of work()'s wait) when it is all built, then
sleeps until killed.
"""
import ctypes
import gc
import os
import sys
import threading
import time


class Rec(object):
    def __init__(self, i):
        self.name = 'r%d' % i
        self.tags = [i]


class Session(object):
    pass


class Token(object):
    pass


def c_held(n):
    big = [Rec(i) for i in range(n)]
    big.append([Session() for _ in range(5)])
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(big))


def work(started, block):
    batch = [Token(), Token()]
    started.set()
    block.wait()  # work() waits here
    return batch


def make_getter():
    held = Token()

    def getter():
        return held
    return getter


def main():
    n, ready = int(sys.argv[1]), sys.argv[2]
    c_held(n)
    global GETTER, BLOCK
    GETTER = make_getter()
    started, BLOCK = threading.Event(), threading.Event()
    threading.Thread(target=work, args=(started, BLOCK), name='worker',
                     daemon=True).start()
    started.wait()
    while not BLOCK._cond._waiters:
        time.sleep(0.01)
    gc.collect()
    with open(__file__) as f:
        line = [i for i, t in enumerate(f, 1) if '# work() waits' in t][0]
    with open(ready + '.tmp', 'w') as f:
        f.write('%d\n' % line)
    os.rename(ready + '.tmp', ready)


main()
while True:
    time.sleep(3600)
