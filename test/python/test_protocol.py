"""FrameReader: frames come out whole and in order however the pipe cuts them,
and a reader told to look for frames before it blocks still sleeps when idle."""
import os
import threading
import time
import unittest

from cortex_local_worker import protocol, server


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


class LookingBeforeBlockingTest(unittest.TestCase):
    def setUp(self):
        self.r, self.w = os.pipe()
        self.reader = protocol.FrameReader(self.r)

    def tearDown(self):
        os.close(self.r)
        os.close(self.w)

    def first_frame_then_a_late_one(self, delay, first=(b"first",)):
        """The CPU time this thread spent in read_frames() waiting `delay` s for
        a frame, after the `first` frames, which were there at once in one read."""
        os.write(self.w, b"".join(frames_of(*first)))
        self.assertEqual([p for _, _, p in self.reader.read_frames()], list(first))
        return self.a_late_frame(delay)

    def a_late_frame(self, delay):
        """The CPU time this thread spent in read_frames() waiting `delay` s for a frame."""
        late = threading.Timer(delay, lambda: os.write(self.w, frames_of(b"late")[0]))
        late.start()
        cpu = time.thread_time()
        got = self.reader.read_frames()
        used = time.thread_time() - cpu
        late.join()
        self.assertEqual([p for _, _, p in got], [b"late"])
        return used

    def test_a_frame_that_comes_while_it_looks_is_read(self):
        self.reader.spin_before_blocking(5.0)
        used = self.first_frame_then_a_late_one(0.3)
        # It looked (ran) rather than slept: most of the 0.3 s, even on a busy machine.
        self.assertGreater(used, 0.03)

    def test_it_looks_no_longer_than_told_then_sleeps(self):
        self.reader.spin_before_blocking(0.05)
        used = self.first_frame_then_a_late_one(0.5)
        self.assertLess(used, 0.3)

    def test_after_several_requests_in_one_read_it_sleeps(self):
        self.reader.spin_before_blocking(5.0)
        self.assertLess(self.first_frame_then_a_late_one(0.3, (b"one", b"two")), 0.1)
        # A request that comes alone lets it look again.
        self.assertGreater(self.first_frame_then_a_late_one(0.3), 0.03)

    def test_a_blocked_wait_within_twice_its_look_lets_it_look_again(self):
        # A blocked wait includes the wake-up a look saves: one that took a
        # little longer than the look itself still says the next may pay.
        self.reader.spin_before_blocking(0.3)
        self.first_frame_then_a_late_one(0.4)  # looked 0.3 s in vain, then blocked
        self.a_late_frame(0.35)  # blocked
        self.assertGreater(self.a_late_frame(0.15), 0.03)

    def test_a_blocked_wait_over_twice_its_look_keeps_it_blocking(self):
        self.reader.spin_before_blocking(0.05)
        self.first_frame_then_a_late_one(0.2)  # looked 0.05 s in vain, then blocked
        self.a_late_frame(0.2)  # blocked
        self.assertLess(self.a_late_frame(0.2), 0.05)

    def test_told_0_it_never_looks(self):
        self.reader.spin_before_blocking(5.0)
        self.reader.spin_before_blocking(0)
        used = self.first_frame_then_a_late_one(0.3)
        self.assertLess(used, 0.1)

    def test_the_serving_loop_takes_busy_poll_frames_from_node(self):
        class Echo:
            def predict(self, payload):
                return payload

        os.write(self.w, protocol.pack(0, protocol.BUSY_POLL, (250).to_bytes(4, "little")))
        os.write(self.w, protocol.pack(7, protocol.PREDICT, b'{"a": 1}'))
        os.write(self.w, protocol.pack(0, protocol.SHUTDOWN))
        out_r, out_w = os.pipe()
        try:
            ended = server.serve_inline(Echo(), self.reader, protocol.FrameWriter(out_w))
            os.close(out_w)
            replies = protocol.FrameReader(out_r).read_frames()
        finally:
            os.close(out_r)
        self.assertEqual(ended, server.SHUTDOWN)
        self.assertEqual(self.reader.spin_seconds, 0.00025)
        self.assertEqual([(i, k) for i, k, _ in replies], [(7, protocol.STARTED), (7, protocol.RESULT_JSON)])
        self.assertEqual(replies[1][2], b'{"a": 1}')


if __name__ == "__main__":
    unittest.main()
