# A single-threaded Python asleep for 30 s; Ctrl-C (SIGINT) must end the
# sleep at once with KeyboardInterrupt.  Usage: sleepint.py READYFILE
import signal
import sys
import time

# a background job of a shell starts with SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)

with open(sys.argv[1], 'w') as f:
    f.write('ready\n')
t0 = time.monotonic()
try:
    time.sleep(30)
    print('slept %.1f s' % (time.monotonic() - t0))
except KeyboardInterrupt:
    print('KeyboardInterrupt after %.1f s' % (time.monotonic() - t0),
          flush=True)
    # stay a little: the injector compares the process before and after
    time.sleep(2)
