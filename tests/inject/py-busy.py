# Python victim for the injector tests: several threads computing and
# checking results (integers, dicts, strings, hashes), one sleeping with a
# duration check, one reading numbered records from a pipe.  argv: READYFILE
import hashlib
import os
import signal
import sys
import threading
import time

stop = threading.Event()
errors = []
counts = {}
lock = threading.Lock()


def fail(msg):
    with lock:
        errors.append(msg)


def count(name):
    with lock:
        counts[name] = counts.get(name, 0) + 1


def arith():
    want = sum(i * i for i in range(5000))
    while not stop.is_set():
        if sum(i * i for i in range(5000)) != want:
            fail("arith")
        count("arith")


def dicts():
    while not stop.is_set():
        d = {str(i): i * 3 for i in range(2000)}
        if len(d) != 2000 or any(d[str(i)] != i * 3 for i in range(0, 2000, 7)):
            fail("dict")
        count("dict")


def strings():
    want = hashlib.sha256(("x" * 100000).encode()).hexdigest()
    while not stop.is_set():
        s = "".join("x" for _ in range(100000))
        if hashlib.sha256(s.encode()).hexdigest() != want:
            fail("string")
        count("string")


def sleeper():
    while not stop.is_set():
        t0 = time.monotonic()
        time.sleep(0.02)
        dt = time.monotonic() - t0
        # waking needs the GIL, which 4 busy threads pass around (and an
        # injected busy thread holds while it is away): a loose bound
        if not 0.02 <= dt < 0.02 + 0.5:
            fail(f"sleep {dt:.4f}")
        count("sleep")


def pipes():
    r, w = os.pipe()

    def writer():
        seq = 0
        while not stop.is_set():
            os.write(w, seq.to_bytes(8, "little"))
            seq += 1
            time.sleep(0.002)
        os.close(w)

    t = threading.Thread(target=writer)
    t.start()
    want = 0
    while True:
        b = os.read(r, 8)
        if not b:
            break
        while len(b) < 8:
            b += os.read(r, 8 - len(b))
        if int.from_bytes(b, "little") != want:
            fail("pipe order")
        want += 1
        count("pipe")
    t.join()


# The handler only notes the signal: stop.set() takes the lock of the
# Event's condition, which the main thread may hold in stop.wait() when the
# signal comes (a Lock is not reentrant: that deadlocked the victim).
term = []
signal.signal(signal.SIGTERM, lambda *_: term.append(1))
threads = [threading.Thread(target=f) for f in (arith, dicts, strings, sleeper, pipes)]
for t in threads:
    t.start()
with open(sys.argv[1], "w") as f:
    f.write("ready\n")
while not term:
    time.sleep(0.05)
stop.set()
for t in threads:
    t.join()
print(sorted(counts.items()), errors[:5])
ok = not errors and len(counts) == 5
print("OK" if ok else "FAIL")
sys.exit(0 if ok else 1)
