"""A Python process for muppy-snap's tests to snapshot.

usage: victim.py CTL_FIFO READY_FILE MODE [LEAK_COUNT]

It makes LEAK_COUNT (default 98765) instances of __main__.Leak, writes
READY_FILE, and then its main thread does MODE while a control thread reads
commands from CTL_FIFO, one a line:

    oracle FILE [unfrozen]  write the in-process reference summary to
                  FILE (unfrozen: without the objects gc.freeze() froze)
    check FILE    write "OK" or the first thing that went wrong to FILE
    exit          end the process (status 0 when every check passed)
    setenv NAME [VALUE]  set (without VALUE: unset) an environment
                  variable (the payload's check build reads
                  MUPPY_PAYLOAD_FAIL and MUPPY_PAYLOAD_VERSION in the target)
    freeze N      make N more Leak objects, then gc.freeze() (3.7+), as a
                  pre-fork server does before forking its workers
    leak N        make N more Leak objects
    fork CTL READY  fork a child (a pre-fork worker) that only serves
                  commands from CTL and writes its pid to READY

MODE is what the main thread is doing during the snapshots:
    sleep    time.sleep(1.5) again and again; each must last 1.5 s
    select   select() on a pipe the control thread writes to every 0.7 s;
             the data must arrive intact
    read     os.read() on that pipe
    event    threading.Event.wait(0.9) on an event nobody sets
    input    input() on standard input, which the test feeds
    busy     four threads allocate, compute and do I/O, checking results
    control  the main thread itself reads the control FIFO (no other
             thread, like a plain single-threaded program)
    spin     single-threaded too: computes in pure Python, checking its
             results, and looks at the control FIFO every few hundredths
             of a second
    nap      single-threaded too: time.sleep(0.3) again and again (each
             must last 0.3 s), looking at the control FIFO in between
"""
import os
import select
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402


class Leak(object):
    def __init__(self, i):
        self.i = i
        self.tag = 'leak-%d' % i


problems = []
frozen = []


def problem(msg):
    if not problems:
        problems.append(msg)


def write_file(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def write_oracle(path, ignore, frozen=True):
    rows, n, b = oracle.summary(ignore=ignore + (ignore, sys._getframe()),
                                frozen=frozen)
    lines = ['%d\t%d\t%s' % (c, s, name.hex())
             for name, (c, s) in sorted(rows.items())]
    write_file(path, '# objects %d\n# bytes %d\n%s\n' % (n, b,
                                                       '\n'.join(lines)))


def command(line):
    """Runs one control command; False on exit."""
    words = line.split()
    if not words:
        return True
    if words[0] == 'oracle':
        # Not in the reference: the command's own objects, which a
        # snapshot taken between commands does not see (its line, its
        # words and, on 3.6 where running frames are objects, the frames
        # of command and write_oracle).
        write_oracle(words[1], (line, words, sys._getframe()) + tuple(words),
                     words[2:] != ['unfrozen'])
    elif words[0] == 'check':
        write_file(words[1], problems[0] if problems else 'OK')
    elif words[0] == 'exit':
        return False
    elif words[0] == 'setenv':
        if len(words) > 2:
            os.environ[words[1]] = words[2]
        else:
            os.environ.pop(words[1], None)
    elif words[0] == 'leak':
        frozen.extend(Leak(i) for i in range(int(words[1])))
    elif words[0] == 'freeze':
        frozen.extend(Leak(i) for i in range(int(words[1])))
        import gc
        gc.freeze()
    elif words[0] == 'fork':
        if os.fork() == 0:
            write_file(words[2], str(os.getpid()))
            control(words[1])  # never returns
    return True


def control(ctl):
    with open(ctl) as f:
        for line in f:
            if not command(line):
                break
    os._exit(0 if not problems else 1)


# --- what the main thread does ------------------------------------------
def do_sleep():
    # A float in took from the start: else the end of the first sleep adds
    # one, between two snapshots of the idle victim (on 3.6, where the
    # running frame is an object and its locals are seen).
    took = float(0)
    while True:
        t0 = time.monotonic()
        time.sleep(1.5)
        took = time.monotonic() - t0
        if not 1.5 <= took < 1.7:
            problem('time.sleep(1.5) took %.3f s' % took)


def feeder(w):
    n = 0
    while True:
        time.sleep(0.7)
        os.write(w, ('%08d\n' % n).encode())
        n += 1


def reader(use_select):
    r, w = os.pipe()
    threading.Thread(target=feeder, args=(w,), daemon=True).start()
    want = 0
    buf = b''
    while True:
        if use_select:
            ready, _, _ = select.select([r], [], [])
            if r not in ready:
                problem('select() returned without the pipe')
        buf += os.read(r, 4096)
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            if line != ('%08d' % want).encode():
                problem('pipe data %r, expected %08d' % (line, want))
            want += 1


def do_event():
    ev = threading.Event()
    while True:
        t0 = time.monotonic()
        if ev.wait(0.9):
            problem('Event.wait returned True')
        took = time.monotonic() - t0
        if not 0.9 <= took < 1.1:
            problem('Event.wait(0.9) took %.3f s' % took)


def do_input():
    want = 0
    while True:
        try:
            line = input()
        except EOFError:
            time.sleep(3600)
            continue
        if line != 'line %d' % want:
            problem('input() gave %r, expected line %d' % (line, want))
        want += 1


def float_work():
    import math
    return sum(math.sqrt(j) * 1.5 for j in range(300))


def busy_worker(k, want):
    import hashlib
    i = 0
    while True:
        data = [{'k': k, 'i': j, 's': str(j) * 3} for j in range(200)]
        if sum(d['i'] for d in data) != 19900:
            problem('lost list items')
        x = float_work()
        if x != want:
            problem('float math gave %r, not %r' % (x, want))
        h = hashlib.sha256(b'%d' % i).hexdigest()
        if len(h) != 64:
            problem('sha256 gave %r' % h)
        with open(os.devnull, 'wb') as f:
            f.write(b'x' * 1000)
        i += 1


def do_busy():
    want = float_work()
    for k in range(4):
        threading.Thread(target=busy_worker, args=(k, want),
                         daemon=True).start()
    do_sleep()


def single_threaded(ctl, work):
    """Runs work() forever, between looks at the control FIFO."""
    fd = os.open(ctl, os.O_RDONLY | os.O_NONBLOCK)
    # poll, not select: select's three lists, which exist while it waits
    # without the GIL and stay in this frame after it, would be in a
    # snapshot taken then and not in the reference.
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    buf = b''
    while True:
        work()
        if poller.poll(0):
            buf += os.read(fd, 4096)
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            line = line.decode()
            if not command(line):
                sys.exit(0 if not problems else 1)


def spin_work():
    # Pure Python for a few hundredths of a second that allocates nothing
    # that outlives a bytecode but the outer counter and the two range
    # iterators (every other int is one of the interpreter's small ints),
    # so that a snapshot taken in the middle sees about the heap that the
    # reference sees between two calls.
    n = 0
    for _ in range(2500):
        for i in range(200):
            n = (n & 63) * 3 ^ i
    if n != 64:
        problem('spin_work computed %d, not 64' % n)


def nap_work():
    t0 = time.monotonic()
    time.sleep(0.3)
    took = time.monotonic() - t0
    if not 0.3 <= took < 0.45:
        problem('time.sleep(0.3) took %.3f s' % took)


MODES = {
    'sleep': do_sleep,
    'select': lambda: reader(True),
    'read': lambda: reader(False),
    'event': do_event,
    'input': do_input,
    'busy': do_busy,
}


def main():
    ctl, ready, mode = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 98765
    global leaks, extension_objects
    leaks = [Leak(i) for i in range(count)]
    # Types with a C __sizeof__ from extension modules (lib-dynload).
    import array
    import decimal
    extension_objects = ([array.array('i', range(i % 50)) for i in range(500)]
                         + [decimal.Decimal(i) for i in range(500)])
    oracle.settle()
    write_file(ready, str(os.getpid()))
    if mode in ('spin', 'nap'):
        single_threaded(ctl, spin_work if mode == 'spin' else nap_work)
    if mode == 'control':
        with open(ctl) as f:
            for line in f:
                if not command(line):
                    break
        sys.exit(0 if not problems else 1)
    threading.Thread(target=control, args=(ctl,), daemon=True).start()
    try:
        MODES[mode]()
    except BaseException as e:  # an exception here is a failed test
        problem('main thread raised %r' % e)
        time.sleep(3600)


main()
