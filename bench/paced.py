"""What a server's processes spend per request when requests come at a steady
pace, one at a time: one keep-alive connection sends hello's request, waits for
the answer, then waits for the next tick (every INTERVAL ms), for SECONDS, and
reads the CPU time of PID and each process below it from /proc. wrk sends the
next request as soon as an answer comes, so at high rates a server reads
several requests per wake-up; at a pace, each request and each answer wakes a
process that slept, which on a virtual machine costs far more than the work
itself (bench/results/perf-findings.md §5).

    python3 bench/paced.py PORT PID [INTERVAL_MS ...] [--seconds S] [--path P]

PID: the server's process (bin/cortex-local serve, or a baseline). Prints one
line per interval: requests/s, and µs of CPU per request of each process of
the tree (the root first; a `node` wrapper's child is where node:http runs).
"""
import argparse
import os
import socket
import time

BODY = b'{"name": "cortex"}'


def read_answer(sock, buffered):
    data = buffered
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or _closed()
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += sock.recv(65536) or _closed()
    return rest[length:]


def _closed():
    raise SystemExit("paced.py: the server closed the connection")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tree(root):
    """root and every process below it, parents first."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(sorted(children.get(pid, [])))
    return out


def name(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("pid", type=int)
    parser.add_argument("intervals", nargs="*", type=float, default=[5.0, 2.5, 1.0, 0.2])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--path", default="/hello")
    args = parser.parse_args()
    request = b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        args.path.encode(), len(BODY), BODY)
    sock = socket.create_connection(("127.0.0.1", args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = b""
    tick = os.sysconf("SC_CLK_TCK")
    for interval_ms in args.intervals:
        interval = interval_ms / 1000
        for _ in range(300):
            sock.sendall(request)
            buffered = read_answer(sock, buffered)
            time.sleep(interval)
        pids = tree(args.pid)
        before = [cpu_ticks(p) for p in pids]
        start = time.perf_counter()
        due = start
        n = 0
        while time.perf_counter() - start < args.seconds:
            sock.sendall(request)
            buffered = read_answer(sock, buffered)
            n += 1
            due += interval
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        elapsed = time.perf_counter() - start
        spent = ["%s %.0f" % (name(p), (cpu_ticks(p) - b) / tick / n * 1e6) for p, b in zip(pids, before)]
        print("every %5.2f ms: %7.0f req/s   µs of CPU per request: %s" % (interval_ms, n / elapsed, ", ".join(spent)))


if __name__ == "__main__":
    main()
