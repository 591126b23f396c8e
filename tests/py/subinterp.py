"""A process with two subinterpreters, each busy in a thread of its own.

usage: subinterp.py READY_FILE

The main interpreter holds 321 __main__.Main objects; each subinterpreter
makes 5000 __main__.Sub objects and then allocates in a loop for 60 s.
READY_FILE gets the pid once both have made theirs.  3.12 and 3.13 through
their private modules, 3.14+ through concurrent.interpreters.
"""
import os
import sys
import threading
import time

SUB = '''
import os
import time
class Sub:
    pass
s = [Sub() for i in range(5000)]
open(%r, 'w').close()
t0 = time.monotonic()
while time.monotonic() - t0 < 60:
    x = [str(i) for i in range(1000)]
'''


class Main(object):
    pass


def main():
    ready = sys.argv[1]
    m = [Main() for i in range(321)]
    try:
        from concurrent import interpreters

        def run(code):
            interpreters.create().exec(code)
    except ImportError:
        try:
            import _interpreters as low
        except ImportError:
            import _xxsubinterpreters as low

        def run(code):
            low.run_string(low.create(), code)
    marks = [ready + '.%d' % k for k in range(2)]
    for mark in marks:
        threading.Thread(target=run, args=(SUB % mark,), daemon=True).start()
    while not all(os.path.exists(p) for p in marks):
        time.sleep(0.05)
    with open(ready + '.tmp', 'w') as f:
        f.write(str(os.getpid()))
    os.rename(ready + '.tmp', ready)
    time.sleep(70)
    return len(m)


main()
