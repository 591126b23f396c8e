# Python victim for the injector tests: sleeps in time.sleep in a loop and
# checks every sleep lasted its exact length, give or take SLACK seconds
# late (default 0.05).  argv: READYFILE [SLACK]
import signal
import sys
import time

PERIOD = 0.02
SLACK = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
with open(sys.argv[1], "w") as f:
    f.write("ready\n")
n, bad = 0, []
while not stop:
    t0 = time.monotonic()
    time.sleep(PERIOD)
    dt = time.monotonic() - t0
    if not PERIOD <= dt < PERIOD + SLACK:
        bad.append(round(dt, 4))
    n += 1
print(f"sleeps {n} bad {len(bad)} {bad[:5]}")
print("OK" if n and not bad else "FAIL")
sys.exit(0 if n and not bad else 1)
