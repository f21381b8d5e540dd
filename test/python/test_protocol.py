"""FrameReader: frames come out whole and in order however the pipe cuts them."""
import os
import threading
import unittest

from cortex_local_worker import protocol


def frames_of(*payloads):
    return [protocol.pack(i + 1, protocol.PREDICT, p) for i, p in enumerate(payloads)]


class FrameReaderTest(unittest.TestCase):
    def read_all(self, pieces, chunk_size=1 << 20):
        r, w = os.pipe()

        def write():
            for piece in pieces:
                os.write(w, piece)
            os.close(w)

        writer = threading.Thread(target=write)
        writer.start()
        reader = protocol.FrameReader(r, chunk_size)
        out = []
        while True:
            got = reader.read_frames()
            if not got:
                break
            out.extend(got)
        writer.join()
        os.close(r)
        return out

    def test_frames_cut_at_every_byte_come_out_whole(self):
        payloads = [b"", b"a", b"x" * 30, b"{}" * 7]
        stream = b"".join(frames_of(*payloads))
        out = self.read_all([stream[i : i + 1] for i in range(len(stream))])
        self.assertEqual([p for _, _, p in out], payloads)
        self.assertEqual([i for i, _, _ in out], [1, 2, 3, 4])

    def test_many_frames_in_one_read(self):
        payloads = [str(i).encode() * (i % 7) for i in range(500)]
        out = self.read_all([b"".join(frames_of(*payloads))])
        self.assertEqual([p for _, _, p in out], payloads)

    def test_a_frame_larger_than_a_read_then_small_ones_after_it(self):
        big = os.urandom(300_000)
        stream = b"".join(frames_of(big, b"next", b""))
        pieces = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
        out = self.read_all(pieces, chunk_size=4096)
        self.assertEqual([p for _, _, p in out], [big, b"next", b""])
        self.assertIsInstance(out[0][2], bytes)


if __name__ == "__main__":
    unittest.main()
