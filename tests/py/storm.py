"""A Python victim for muppy-snap's reliability tests and storms.

usage: storm.py CTL_FIFO READY_FILE MODE...

Like victim.py, it writes READY_FILE (its pid) when set up, and a control
thread reads commands from CTL_FIFO, one a line:

    check FILE    write "OK" or the first thing that went wrong to FILE
    stats FILE    write the counters of the modes, "name value" a line
    gil SECONDS   call libc's sleep(SECONDS) through ctypes.PyDLL, which
                  keeps the GIL for the whole call, from a new thread
    gilspin SECONDS SO  the same with muppy_test_spin(SECONDS) of the
                  shared object SO: a C loop that makes no system call
    exit          end the process (status 0 when every check passed)
    shutdown S    end the process through sys.exit(0) in the main thread,
                  with a __del__ that sleeps S seconds while the
                  interpreter is finalizing

The main thread sleeps in time.sleep(0.25) again and again (each sleep
must last 0.25 s) and prints "tick N" every 4th sleep to standard output,
so a test can compare the output with that of an undisturbed run.  Each
MODE adds work, every piece checking its own results (4321 Marker objects
exist from before READY_FILE is written, for tests to find in every
snapshot):

    busy8     8 threads: allocation, float math, I/O (a pipe and a file),
              C extension calls (zlib, hashlib, json, struct, re)
    signals   SIGUSR1 sent to the process, each waited for before the
              next; a child forked and reaped at a time, its SIGCHLD
              waited for; a SIGALRM interval timer (ITIMER_REAL, 20 ms)
    gc        a thread making cyclic garbage with __del__ methods and
              calling gc.collect() in a loop
    fork      a thread forking children that compute and exit with a
              known status
    threads   a thread that starts and joins short-lived threads
    exec      a thread that executes this program again (same pid and
              arguments) after 0.01 to 0.15 s, again and again; the
              first problem goes on to the next program (STORM_PROBLEM)
    exitsoon  a thread that ends the process (os._exit) after 0 to
              0.3 s, with status 1 if something went wrong before
    hostile   classes named with tabs, newlines, ANSI escapes, a lone
              surrogate (invalid UTF-8) and a 100 kB name, with instances
"""
import gc
import os
import signal
import struct
import sys
import threading
import time
import warnings

# 3.12+ warns that fork() in a threaded process may deadlock the child;
# the children here only exit, which is what the fork phase tests.
warnings.filterwarnings('ignore', 'This process .* is multi-threaded',
                        DeprecationWarning)

problems = []
# A problem seen by an earlier program of the exec storm.
if os.environ.get('STORM_PROBLEM'):
    problems.append('before exec: ' + os.environ['STORM_PROBLEM'])
counters = {}
lock = threading.Lock()


def problem(msg):
    if not problems:
        problems.append(msg)


def count(name, n=1):
    with lock:
        counters[name] = counters.get(name, 0) + n


def write_file(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


# --- busy8 ----------------------------------------------------------------
def float_work():
    import math
    return sum(math.sqrt(j) * 1.5 for j in range(300))


def busy_worker(k, want):
    import hashlib
    import json
    import re
    import zlib
    r, w = os.pipe()
    pat = re.compile(r'(\d+)-(\w+)')
    path = '/dev/null'
    i = 0
    while True:
        data = [{'k': k, 'i': j, 's': str(j) * 3} for j in range(200)]
        if sum(d['i'] for d in data) != 19900:
            problem('lost list items')
        if float_work() != want:
            problem('float math changed')
        blob = json.dumps(data).encode()
        if zlib.decompress(zlib.compress(blob)) != blob:
            problem('zlib round trip failed')
        if json.loads(blob) != data:
            problem('json round trip failed')
        h = hashlib.sha256(blob).hexdigest()
        if h != hashlib.sha256(bytes(blob)).hexdigest():
            problem('sha256 differs')
        if struct.unpack('<qd', struct.pack('<qd', i, 0.5)) != (i, 0.5):
            problem('struct round trip failed')
        m = pat.match('%d-abc' % i)
        if not m or m.group(1) != str(i):
            problem('re match failed')
        msg = b'%d:%d\n' % (k, i)
        os.write(w, msg)
        if os.read(r, 64) != msg:
            problem('pipe data changed')
        with open(path, 'wb') as f:
            f.write(b'x' * 1000)
        i += 1
        if i % 50 == 0:
            count('busy_rounds', 50)


def mode_busy8():
    want = float_work()
    for k in range(8):
        threading.Thread(target=busy_worker, args=(k, want),
                         daemon=True).start()


# --- signals --------------------------------------------------------------
usr1 = [0]
chld = [0]
alrm = [0]


def on_usr1(sig, frame):
    usr1[0] += 1


def on_chld(sig, frame):
    chld[0] += 1


def on_alrm(sig, frame):
    alrm[0] += 1


def wait_for(cell, want, what):
    end = time.monotonic() + 10
    while cell[0] < want:
        if time.monotonic() > end:
            problem('%s %d never handled (count %d)' % (what, want,
                                                         cell[0]))
            return False
        time.sleep(0.001)
    if cell[0] != want:
        problem('%s handled %d times, %d sent' % (what, cell[0], want))
        return False
    return True


def usr1_sender():
    sent = 0
    while True:
        os.kill(os.getpid(), signal.SIGUSR1)
        sent += 1
        if not wait_for(usr1, sent, 'SIGUSR1'):
            return
        count('usr1_sent')
        time.sleep(0.005)


def child_maker():
    n = 0
    while True:
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        n += 1
        if not wait_for(chld, n, 'SIGCHLD'):
            return
        _, st = os.waitpid(pid, 0)
        if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 7:
            problem('child %d ended with status %#x' % (pid, st))
        count('children')
        time.sleep(0.005)


def alrm_checker():
    t0 = time.monotonic()
    while True:
        time.sleep(0.5)
        took = time.monotonic() - t0
        # No duplicates: at most one per 20 ms tick (plus rounding).
        if alrm[0] > took / 0.02 + 2:
            problem('%d SIGALRM in %.2f s at 20 ms' % (alrm[0], took))
        if alrm[0] == 0:
            problem('no SIGALRM handled in %.2f s' % took)


def mode_signals():
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGCHLD, on_chld)
    signal.signal(signal.SIGALRM, on_alrm)
    signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
    for fn in (usr1_sender, child_maker, alrm_checker):
        threading.Thread(target=fn, daemon=True).start()


# --- gc ---------------------------------------------------------------------
class Cyclic(object):
    deleted = 0

    def __init__(self, n):
        self.me = self
        self.payload = [n] * 10

    def __del__(self):
        # Python code inside the collection: the GIL may switch here.
        Cyclic.deleted += sum(self.payload) * 0 + 1


def gc_worker():
    made = 0
    while True:
        for i in range(500):
            Cyclic(i)
        made += 500
        gc.collect()
        if Cyclic.deleted != made:
            problem('gc: %d made, %d deleted' % (made, Cyclic.deleted))
            return
        count('gc_rounds')


def mode_gc():
    threading.Thread(target=gc_worker, daemon=True).start()


# --- fork -------------------------------------------------------------------
def forker():
    while True:
        pid = os.fork()
        if pid == 0:
            os._exit(sum(range(100)) % 200)  # 4950 % 200 = 150
        _, st = os.waitpid(pid, 0)
        if not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 150:
            problem('forked child ended with status %#x' % st)
            return
        count('forks')


def mode_fork():
    threading.Thread(target=forker, daemon=True).start()


# --- threads ----------------------------------------------------------------
def churn():
    while True:
        out = []
        ts = [threading.Thread(target=out.append, args=(i,))
              for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if sorted(out) != [0, 1, 2, 3]:
            problem('threads lost results: %r' % out)
            return
        count('threads', 4)


def mode_threads():
    threading.Thread(target=churn, daemon=True).start()


# --- hostile ----------------------------------------------------------------
HOSTILE = ['tab\tname', 'new\nline', 'cr\rret', '\x1b[31mred\x1b[0m',
           '\x1b]0;title\x07', 'bad\udcffutf8', 'nul\x00byte',
           'bidi\u202eevil', 'L' * 100000]
hostile_objs = []


def mode_hostile():
    for i, name in enumerate(HOSTILE):
        cls = type('Hostile%d' % i, (object,), {})
        cls.__qualname__ = name
        cls.__module__ = 'hostile\t\x1b[1m'
        hostile_objs.extend(cls() for _ in range(i + 1))


# --- exec -------------------------------------------------------------------
def reexec():
    import random
    time.sleep(random.uniform(0.01, 0.15))
    os.environ['STORM_EXECS'] = str(int(os.environ.get('STORM_EXECS',
                                                       '0')) + 1)
    if problems:
        os.environ['STORM_PROBLEM'] = problems[0]
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)


def exit_soon():
    import random
    time.sleep(random.uniform(0.0, 0.3))
    sys.stdout.flush()
    os._exit(0 if not problems else 1)


def mode_exitsoon():
    threading.Thread(target=exit_soon, daemon=True).start()


def mode_exec():
    counters['execs'] = int(os.environ.get('STORM_EXECS', '0'))
    threading.Thread(target=reexec, daemon=True).start()


MODES = {'busy8': mode_busy8, 'exec': mode_exec,
         'exitsoon': mode_exitsoon, 'signals': mode_signals, 'gc': mode_gc,
         'fork': mode_fork, 'threads': mode_threads,
         'hostile': mode_hostile}


# --- control ------------------------------------------------------------------
gil_busy = [0]


def gil_hog(seconds, so=None):
    import ctypes
    gil_busy[0] += 1
    t0 = time.monotonic()
    if so:
        spin = ctypes.PyDLL(so).muppy_test_spin
        spin.argtypes = [ctypes.c_double]
        spin(float(seconds))
    else:
        ctypes.PyDLL(None).sleep(int(seconds))
    gil_busy[0] += 1
    if time.monotonic() - t0 < int(seconds) - 0.1:
        problem('sleep(%s) under the GIL returned early' % seconds)
    count('gil_done')


shutdown_req = []


def command(line):
    words = line.split()
    if not words:
        return True
    if words[0] == 'check':
        write_file(words[1], problems[0] if problems else 'OK')
    elif words[0] == 'stats':
        with lock:
            c = dict(counters)
        c.update(usr1=usr1[0], chld=chld[0], alrm=alrm[0])
        write_file(words[1], ''.join('%s %d\n' % kv
                                     for kv in sorted(c.items())))
    elif words[0] in ('gil', 'gilspin'):
        threading.Thread(target=gil_hog, args=tuple(words[1:3]),
                         daemon=True).start()
    elif words[0] == 'shutdown':
        shutdown_req.append(float(words[1]))
    elif words[0] == 'exit':
        return False
    return True


def control(ctl):
    with open(ctl) as f:
        for line in f:
            if not command(line):
                break
    sys.stdout.flush()
    os._exit(0 if not problems else 1)


class Marker(object):
    pass


class SlowExit(object):
    def __init__(self, seconds):
        # Module globals may be None by the time __del__ runs.
        self.sleep, self.write, self.seconds = time.sleep, os.write, seconds

    def __del__(self):
        # Runs while the interpreter finalizes (Py_IsFinalizing() true).
        self.sleep(self.seconds)
        self.write(1, b'finalized\n')


def main():
    ctl, ready = sys.argv[1:3]
    global markers
    markers = [Marker() for _ in range(4321)]
    for mode in sys.argv[3:]:
        MODES[mode]()
    threading.Thread(target=control, args=(ctl,), daemon=True).start()
    write_file(ready, str(os.getpid()))
    n = 0
    while not shutdown_req:
        t0 = time.monotonic()
        g = gil_busy[0]
        time.sleep(0.25)
        took = time.monotonic() - t0
        # Generous: the GIL may be held by a busy thread or a walk; a
        # `gil` command stretches this sleep on purpose.
        if g % 2 == 0 and g == gil_busy[0] and not 0.25 <= took < 1.5:
            problem('time.sleep(0.25) took %.3f s' % took)
        n += 1
        if n % 4 == 0:
            print('tick %d' % (n // 4), flush=True)
    # Cyclic garbage with the collector off: only the collection the
    # interpreter makes while finalizing frees it.
    gc.disable()
    slow = SlowExit(shutdown_req[0])
    slow.me = slow
    del slow
    print('exiting', flush=True)
    sys.exit(0 if not problems else 1)


main()
