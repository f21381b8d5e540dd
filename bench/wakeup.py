"""What one process waking another costs on this machine: a byte sent back and
forth over a pipe between two processes, as a request crosses between Node and
its Python worker (and between wrk and a server). Unpinned, the kernel puts the
woken process on the other (idle) core; pinned, both share one core and the
wake-up is a context switch. On a virtual machine the first can cost ten times
the second: the idle core must be woken by the host.

    python3 bench/wakeup.py [round trips, default 20000]
"""
import os
import sys
import time


def round_trips(n, cpus):
    a_r, b_w = os.pipe()
    b_r, a_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(a_r)
        os.close(a_w)
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        while True:
            data = os.read(b_r, 64)
            if not data:
                os._exit(0)
            os.write(b_w, data)
    os.close(b_r)
    os.close(b_w)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    times = []
    for _ in range(n):
        t = time.perf_counter_ns()
        os.write(a_w, b"x")
        os.read(a_r, 64)
        times.append(time.perf_counter_ns() - t)
    os.close(a_w)
    os.waitpid(pid, 0)
    os.close(a_r)
    times.sort()
    return times[n // 2] / 1000, times[int(n * 0.99)] / 1000


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    first = min(os.sched_getaffinity(0))
    for label, cpus in (("two processes, unpinned", None), ("both pinned to CPU %d" % first, {first})):
        p50, p99 = round_trips(n, cpus)
        print("%-28s round trip p50 %7.1f µs   p99 %7.1f µs" % (label, p50, p99))


if __name__ == "__main__":
    main()
