#!/usr/bin/env python3
"""Does a segment whose blocks already exist make the durable path cheaper? (session 10, issue #6)

Appends 10 KiB at a time to one file, each followed by fdatasync and a 0.5 ms pause (about the
broker's group-commit rhythm at 1 partition x 10 MiB/s), and reports write+fdatasync latency:

  append   the file grows with each write (what Bunka and Kafka do)
  zeros    the file was written with zeros and synced beforehand (overwrites in place)
  dio      a background thread keeps zeroing 4 MiB ahead of the appends with O_DIRECT writes of
           PIECE bytes (no fdatasync of its own)
  dio-sync the same, fdatasync after each 4 MiB

Usage: python3 bench/probes/prefill-fdatasync.py MODE [N=8000] [PIECE=4194304]
The file goes under .cache/ (the disk the broker uses). Results: bench/RESULTS.md, session 10.
"""
import mmap, os, sys, threading, time

mode = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
piece = int(sys.argv[3]) if len(sys.argv) > 3 else 4 << 20
SIZE, CHUNK = 10240, 4 << 20
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".cache")
os.makedirs(root, exist_ok=True)
path = os.path.join(root, f"prefill-probe-{mode}.dat")
if os.path.exists(path):
    os.unlink(path)
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
state = {"prepared": 0, "pos": 0, "stop": False}


def zero_ahead():
    dfd = os.open(path, os.O_RDWR | os.O_DIRECT)
    zeros = mmap.mmap(-1, piece)  # page-aligned, as O_DIRECT needs
    while not state["stop"]:
        if state["prepared"] - state["pos"] > 2 * CHUNK:
            time.sleep(0.002)
            continue
        for off in range(0, CHUNK, piece):
            os.pwritev(dfd, [zeros], state["prepared"] + off)
        if mode == "dio-sync":
            os.fdatasync(dfd)
        state["prepared"] += CHUNK
    os.close(dfd)


filler = None
if mode.startswith("dio"):
    filler = threading.Thread(target=zero_ahead)
    filler.start()
    while state["prepared"] < 2 * CHUNK:
        time.sleep(0.01)
elif mode == "zeros":
    block = b"\0" * (1 << 20)
    for off in range(0, SIZE * n + len(block), len(block)):
        os.pwrite(fd, block, off)
    os.fdatasync(fd)
elif mode != "append":
    sys.exit(f"unknown mode {mode}")

data = os.urandom(SIZE)
lat = []
for i in range(n):
    t = time.perf_counter_ns()
    os.pwrite(fd, data, i * SIZE)
    state["pos"] = (i + 1) * SIZE
    os.fdatasync(fd)
    lat.append((time.perf_counter_ns() - t) / 1e6)
    time.sleep(0.0005)
state["stop"] = True
if filler:
    filler.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"{mode:8s} piece {piece >> 10:5d} KiB  write+fdatasync p50 {q(.5):.3f} p95 {q(.95):.3f} p99 {q(.99):.3f} p99.9 {q(.999):.3f} max {lat[-1]:.2f} ms")
os.close(fd)
os.unlink(path)
