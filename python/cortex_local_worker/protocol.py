"""Frame format shared with src/python-bridge/frames.ts (documented in src/python-bridge/README.md).

Every frame is a 9-byte little-endian header, then `length` payload bytes:
    u32 length | u32 request id | u8 kind
"""
import os
import struct

HEADER = struct.Struct("<IIB")
HEADER_SIZE = HEADER.size

# Node -> Python
INIT = 1
PREDICT = 2
SHUTDOWN = 3

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
    """Reads whole frames from a pipe, many per read() when the sender batches them."""

    def __init__(self, fd, chunk_size=1 << 20):
        self._fd = fd
        self._chunk_size = chunk_size
        self._buf = bytearray()
        self._pos = 0
        self._pending = []

    def push_back(self, frames):
        self._pending = list(frames) + self._pending

    def read_frames(self):
        """Blocks until at least one frame is complete; returns a list of
        (request_id, kind, payload). An empty list means end of input."""
        frames, self._pending = self._pending, []
        while not frames:
            chunk = os.read(self._fd, self._chunk_size)
            if not chunk:
                return frames
            if self._pos:
                del self._buf[: self._pos]
                self._pos = 0
            self._buf += chunk
            buf = self._buf
            pos = 0
            end = len(buf)
            while end - pos >= HEADER_SIZE:
                length, request_id, kind = HEADER.unpack_from(buf, pos)
                stop = pos + HEADER_SIZE + length
                if stop > end:
                    break
                frames.append((request_id, kind, bytes(buf[pos + HEADER_SIZE : stop])))
                pos = stop
            self._pos = pos
        return frames


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
