"""The serving loop: frames in, predictions out.

With one thread, requests run inline on the reading thread in arrival order,
and their responses are written together after each batch of frames (one write
for many responses). With several threads, a FIFO queue feeds a pool; each
thread writes its own response. Either way requests start in the order they
arrived, which the Node side relies on to know which requests may have started
when a worker dies.
"""
import json
import queue
import sys
import threading
import time
import traceback

from . import protocol
from .serialize import BadRequest, encode_prediction, parse_payload

# An inline batch is flushed early once it has run this long, so a slow
# predictor does not hold finished responses back.
_FLUSH_AFTER_S = 0.001


def handle(predictor, request_id, body):
    try:
        payload = parse_payload(body)
    except BadRequest as e:
        return protocol.pack(request_id, protocol.BAD_REQUEST, str(e).encode("utf-8"))
    try:
        prediction = predictor.predict(payload)
        is_bytes, data = encode_prediction(prediction)
    except Exception as e:
        tb = traceback.format_exc()
        error = "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__
        body = json.dumps({"error": error, "traceback": tb}).encode("utf-8")
        return protocol.pack(request_id, protocol.PREDICT_ERROR, body)
    return protocol.pack(request_id, protocol.RESULT_BYTES if is_bytes else protocol.RESULT_JSON, data)


def serve_inline(predictor, reader, writer):
    perf_counter = time.perf_counter
    while True:
        frames = reader.read_frames()
        if not frames:
            return
        out = []
        started = perf_counter()
        for request_id, kind, body in frames:
            if kind == protocol.PREDICT:
                out.append(handle(predictor, request_id, body))
                if perf_counter() - started > _FLUSH_AFTER_S:
                    writer.write(b"".join(out))
                    out = []
                    started = perf_counter()
            elif kind == protocol.SHUTDOWN:
                if out:
                    writer.write(b"".join(out))
                return
        if out:
            writer.write(b"".join(out))


def serve_threaded(predictor, reader, writer, threads):
    work = queue.SimpleQueue()
    lock = threading.Lock()

    def run():
        while True:
            item = work.get()
            if item is None:
                return
            frame = handle(predictor, item[0], item[1])
            with lock:
                writer.write(frame)

    pool = [threading.Thread(target=run, name="predict-%d" % i, daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    try:
        while True:
            frames = reader.read_frames()
            if not frames:
                return
            for request_id, kind, body in frames:
                if kind == protocol.PREDICT:
                    work.put((request_id, body))
                elif kind == protocol.SHUTDOWN:
                    return
    finally:
        for _ in pool:
            work.put(None)
        for t in pool:
            t.join()


def serve(predictor, reader, writer, threads):
    if threads <= 1:
        serve_inline(predictor, reader, writer)
    else:
        serve_threaded(predictor, reader, writer, threads)
    sys.stdout.flush()
    sys.stderr.flush()
