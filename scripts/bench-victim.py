"""A heap of about N live objects for scripts/bench: user-class instances
with attributes, dicts, lists, tuples, strings, ints and bytes.

usage: bench-victim.py N CTL_FIFO READY_FILE
Commands on CTL_FIFO, one a line:
    baseline FILE   time gc.collect() (median of 5 and the first of
                    them) and the pure-Python summary (tests/py/oracle.py)
                    in here; write "gc_median_s gc_first_s ref_s objects"
    exit
"""
import gc
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tests', 'py'))
import oracle  # noqa: E402


class Record(object):
    def __init__(self, i):
        self.name = 'record-%d' % i          # str
        self.id = 1000 + i                   # int (not cached)
        self.tags = ['t%d' % (i % 97), 'x']  # list + str
        self.meta = {'i': i, 'k': (i, i + 1)}  # dict, tuple, ints
        self.blob = b'%d' % i * 2            # bytes


def build(n):
    """Records for about n live objects in all, the interpreter's own
    included; the objects a Record brings (10, or 11 with a __dict__
    before 3.11) are counted by the oracle on the first thousand."""
    _, base, _ = oracle.summary(collect=False)
    data = [Record(i) for i in range(1000, 2000)]  # no small ints
    _, now, _ = oracle.summary(collect=False)
    per = max(1.0, (now - base) / 1000.0)
    more = max(0, int((n - now) / per))
    data.extend(Record(i) for i in range(2000, 2000 + more))
    return data if n > base else []


def main():
    n, ctl, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    data = build(n)  # noqa: F841 (kept alive)
    gc.collect()
    with open(ready + '.tmp', 'w') as f:
        f.write(str(os.getpid()))
    os.rename(ready + '.tmp', ready)
    with open(ctl) as f:
        for line in f:
            words = line.split()
            if words[:1] == ['baseline']:
                times = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    gc.collect()
                    times.append(time.perf_counter() - t0)
                t1 = time.perf_counter()
                _, objects, _ = oracle.summary(collect=False)
                t2 = time.perf_counter()
                with open(words[1] + '.tmp', 'w') as out:
                    out.write('%f %f %f %d\n' % (sorted(times)[2], times[0],
                                                 t2 - t1, objects))
                os.rename(words[1] + '.tmp', words[1])
            elif words[:1] == ['exit']:
                return


main()
