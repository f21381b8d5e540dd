"""Frame format shared with src/python-bridge/frames.ts (documented in src/python-bridge/README.md).

Every frame is a 9-byte little-endian header, then `length` payload bytes:
    u32 length | u32 request id | u8 kind
"""
import os
import select
import struct
from time import perf_counter

HEADER = struct.Struct("<IIB")
HEADER_SIZE = HEADER.size

# Node -> Python
INIT = 1
PREDICT = 2
SHUTDOWN = 3
BUSY_POLL = 4

# Python -> Node
READY = 10
RESULT_JSON = 11
RESULT_BYTES = 12
BAD_REQUEST = 13
PREDICT_ERROR = 14
INIT_ERROR = 15
STARTED = 16


def pack(request_id, kind, payload=b""):
    return HEADER.pack(len(payload), request_id, kind) + payload


class FrameReader:
    """Reads whole frames from a pipe, many per read() when the sender batches them.

    Reads go into one buffer allocated once (os.read would allocate, and for a
    1 MiB read map and unmap, a fresh buffer each time); a frame that lies whole
    in a read is copied out of it once, and one that spans reads is gathered in
    a second buffer until it is complete."""

    def __init__(self, fd, chunk_size=1 << 20):
        self._fd = fd
        self._chunk = bytearray(chunk_size)
        self._view = memoryview(self._chunk)
        # the start of a frame whose end has not arrived, and how many bytes it
        # needs before a frame can come out of it
        self._partial = bytearray()
        self._need = HEADER_SIZE
        self._pending = []
        self._spin = 0.0
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)
        self._spin_next = False

    def spin_before_blocking(self, seconds):
        """From now on, look at the pipe for up to `seconds` before blocking in
        read(), while requests come that close together (0: never).

        A worker blocked in read() is woken by the kernel, often on another CPU
        than Node's, and on a virtual machine that costs tens of microseconds
        (bench/wakeup.py: 64 us for a round trip between two processes, 2.6 us
        on one CPU): a client that sends its next request as soon as it has the
        answer pays it on every request. Looking costs a system call of well
        under a microsecond each time. It is done only while the last wait for a
        request was no longer than `seconds` (twice that when the worker slept
        through it: the wait then includes the wake-up) and that request came
        alone, so a worker whose requests come further apart, or several to a
        read (a client with several connections), blocks at once, and an idle one
        looks once, for `seconds`, before it sleeps. Node decides which
        workers may (pool/busy-poll.ts)."""
        self._spin = seconds
        self._spin_next = self._spin_next and seconds > 0

    @property
    def spin_seconds(self):
        return self._spin

    def push_back(self, frames):
        self._pending = list(frames) + self._pending

    def read_frames(self):
        """Blocks until at least one frame is complete; returns a list of
        (request_id, kind, payload). An empty list means end of input."""
        frames, self._pending = self._pending, []
        while not frames:
            n = self._read()
            if not n:
                return frames
            if self._partial:
                self._partial += self._view[:n]
                if len(self._partial) < self._need:
                    continue
                gathered, self._partial = self._partial, bytearray()
                with memoryview(gathered) as data:
                    self._keep(self._split(data, frames))
            else:
                self._keep(self._split(self._view[:n], frames))
        if len(frames) > 1:
            # Several requests in one read: Node answered several clients in
            # its last turn and sends the next ones when the turn ends. The
            # wake-up a look would save is then shared by as many requests,
            # and the look takes the CPU Node and the clients need (hello on
            # 2 CPUs: 16 connections -25 % requests/s looking, 64 -5 %).
            self._spin_next = False
        return frames

    def _read(self):
        if self._spin_next:
            deadline = perf_counter() + self._spin
            while not self._poller.poll(0):
                if perf_counter() > deadline:
                    self._spin_next = False
                    break
            return os.readv(self._fd, [self._chunk])
        if not self._spin:
            return os.readv(self._fd, [self._chunk])
        began = perf_counter()
        n = os.readv(self._fd, [self._chunk])
        # A blocked wait includes the wake-up a look would have saved (tens of
        # microseconds here): judged against the look's length alone, a worker
        # that once slept went on sleeping whenever the client's turn and the
        # wake-up together passed it (hello at one connection on a slowed host:
        # 160-166 us p50 so, 69-74 looking).
        self._spin_next = perf_counter() - began <= 2 * self._spin
        return n

    def _keep(self, rest):
        if rest is None:
            return
        self._partial = bytearray(rest)
        self._need = HEADER_SIZE + HEADER.unpack_from(rest)[0] if len(rest) >= HEADER_SIZE else HEADER_SIZE

    @staticmethod
    def _split(data, frames):
        """Appends the whole frames of `data` to `frames`; returns what follows them, or None."""
        pos = 0
        end = len(data)
        while end - pos >= HEADER_SIZE:
            length, request_id, kind = HEADER.unpack_from(data, pos)
            stop = pos + HEADER_SIZE + length
            if stop > end:
                break
            frames.append((request_id, kind, bytes(data[pos + HEADER_SIZE : stop])))
            pos = stop
        return data[pos:end] if pos < end else None


class FrameWriter:
    """Writes frames whole; callers hold a lock when several threads write."""

    def __init__(self, fd):
        self._fd = fd

    def write(self, data):
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def write_parts(self, first, second):
        """Writes two buffers, in order, with one system call where the pipe takes them whole."""
        written = os.writev(self._fd, (first, second))
        if written < len(first) + len(second):
            self.write((bytes(first) + bytes(second))[written:])
