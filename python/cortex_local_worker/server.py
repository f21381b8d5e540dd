"""The serving loop: frames in, predictions out.

Before a request starts, Node is told so (a STARTED frame); its result is
written as soon as it is computed, before the next request starts. So when a
worker dies, Node knows exactly which requests were running in it (they get
502), which were answered, and which never started (they run elsewhere).

With one thread, requests run inline on the reading thread in arrival order;
each result goes out with the next request's STARTED in one write, and Node may
tell it (BUSY_POLL) to look for its next request a while before it blocks
(protocol.FrameReader.spin_before_blocking). With several threads, a FIFO queue
feeds a pool; a thread that finds more work waiting writes its result and its
next STARTED together too.
"""
import json
import queue
import struct
import threading
import traceback

from . import protocol
from .serialize import BadRequest, encode_prediction, parse_payload

_U32 = struct.Struct("<I")
_pack = protocol.pack
_HEADER = protocol.HEADER
_STARTED = protocol.STARTED

# How a serving loop ended: SHUTDOWN asks to finish what was received; the end
# of the request pipe means Node is gone and nobody is waiting for answers.
SHUTDOWN = "shutdown"
END_OF_INPUT = "end of input"


def _describe(e):
    try:
        text = str(e)
    except BaseException:
        text = "(the exception could not be printed)"
    return "%s: %s" % (type(e).__name__, text) if text else type(e).__name__


def _error(request_id, e):
    try:
        tb = traceback.format_exc()
    except BaseException:
        tb = _describe(e)
    body = json.dumps({"error": _describe(e), "traceback": tb}).encode("utf-8")
    return _pack(request_id, protocol.PREDICT_ERROR, body)


def answer(predictor, request_id, body):
    """The reply frame of one request. Never raises: whatever happens, a
    BaseException such as SystemExit or KeyboardInterrupt included, answers
    this request and leaves the worker serving."""
    try:
        payload = parse_payload(body)
    except BadRequest as e:
        return _pack(request_id, protocol.BAD_REQUEST, str(e).encode("utf-8"))
    except RecursionError:
        # The standard library's parser recurses once per level of nesting.
        message = "invalid JSON payload: nested too deeply"
        return _pack(request_id, protocol.BAD_REQUEST, message.encode("utf-8"))
    except BaseException as e:
        return _error(request_id, e)
    try:
        prediction = predictor.predict(payload)
        is_bytes, data = encode_prediction(prediction)
    except BaseException as e:
        return _error(request_id, e)
    return _pack(request_id, protocol.RESULT_BYTES if is_bytes else protocol.RESULT_JSON, data)


def started(request_id):
    return _HEADER.pack(0, request_id, _STARTED)


def serve_inline(predictor, reader, writer):
    done = b""
    while True:
        frames = reader.read_frames()
        if not frames:
            if done:
                writer.write(done)
            return END_OF_INPUT
        for request_id, kind, body in frames:
            if kind == protocol.PREDICT:
                if done:
                    writer.write_parts(done, started(request_id))
                else:
                    writer.write(started(request_id))
                done = answer(predictor, request_id, body)
            elif kind == protocol.SHUTDOWN:
                if done:
                    writer.write(done)
                return SHUTDOWN
            elif kind == protocol.BUSY_POLL:
                reader.spin_before_blocking(_U32.unpack(body)[0] / 1e6)
        writer.write(done)
        done = b""


def serve_threaded(predictor, reader, writer, threads):
    work = queue.SimpleQueue()
    lock = threading.Lock()

    def run():
        done = b""
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                # Nothing waiting: the last result goes out before this thread blocks.
                if done:
                    with lock:
                        writer.write(done)
                    done = b""
                item = work.get()
            if item is None:
                if done:
                    with lock:
                        writer.write(done)
                return
            with lock:
                if done:
                    writer.write_parts(done, started(item[0]))
                else:
                    writer.write(started(item[0]))
            done = answer(predictor, item[0], item[1])

    pool = [threading.Thread(target=run, name="predict-%d" % i, daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    while True:
        frames = reader.read_frames()
        if not frames:
            return END_OF_INPUT
        for request_id, kind, body in frames:
            if kind == protocol.PREDICT:
                work.put((request_id, body))
            elif kind == protocol.SHUTDOWN:
                for _ in pool:
                    work.put(None)
                for t in pool:
                    t.join()
                return SHUTDOWN


def serve(predictor, reader, writer, threads):
    """Serves until SHUTDOWN (every request received is answered first) or the
    end of the request pipe; returns which."""
    if threads <= 1:
        return serve_inline(predictor, reader, writer)
    return serve_threaded(predictor, reader, writer, threads)
