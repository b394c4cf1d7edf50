#!/usr/bin/env python3
"""Would overlapping fdatasyncs shorten the one-partition fsync tail? (session 11, issue #6)

One file, appended 10 KiB every millisecond (1 partition x 10 MiB/s, the grid point), each append
acknowledged once an fdatasync that started after it has returned. SYNCERS threads do the syncs:

  1  group commit as the broker does it: one fdatasync at a time, covering every append made
     before it started; appends arriving during a slow sync wait for it and then for their own
  2+ up to SYNCERS fdatasyncs in flight: an idle syncer starts a new one as soon as appends are
     waiting, so appends made during a slow sync need not wait for it to end (fdatasync covers
     all data written before the call, whoever wrote it)

Prints the acknowledgement latency (append returned -> covering sync returned) p50/p99/p99.9/max
in ms and the number of syncs. Usage: python3 bench/probes/overlapped-fdatasync.py SYNCERS [SECONDS=15]
The file goes under .cache/ (the disk the broker uses). Results: bench/RESULTS.md, session 11.
"""
import os, sys, threading, time

syncers = int(sys.argv[1])
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0
SIZE, INTERVAL = 10240, 0.001
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".cache")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, f"overlap-probe-{syncers}.dat")
if os.path.exists(path):
    os.unlink(path)
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

lock = threading.Condition()
waiting: list[float] = []  # completion times of appends not yet covered by a started sync
latencies: list[float] = []
state = {"stop": False, "syncs": 0}


def syncer() -> None:
    while True:
        with lock:
            while not waiting and not state["stop"]:
                lock.wait()
            if state["stop"] and not waiting:
                return
            covered = waiting[:]
            waiting.clear()
        os.fdatasync(fd)
        done = time.perf_counter()
        with lock:
            state["syncs"] += 1
            latencies.extend(done - t for t in covered)


threads = [threading.Thread(target=syncer) for _ in range(syncers)]
for t in threads:
    t.start()
data = os.urandom(SIZE)
end = time.perf_counter() + seconds
next_at = time.perf_counter()
while next_at < end:
    os.write(fd, data)
    with lock:
        waiting.append(time.perf_counter())
        lock.notify()
    next_at += INTERVAL
    pause = next_at - time.perf_counter()
    if pause > 0:
        time.sleep(pause)
with lock:
    state["stop"] = True
    lock.notify_all()
for t in threads:
    t.join()
os.close(fd)
os.unlink(path)

ms = sorted(x * 1000 for x in latencies)
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print(f"syncers={syncers} appends={len(ms)} syncs={state['syncs']} ack ms p50 {pick(0.5):.3f} p99 {pick(0.99):.3f} p99.9 {pick(0.999):.3f} max {ms[-1]:.3f}")
