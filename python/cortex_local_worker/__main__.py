"""Entry point: `python -m cortex_local_worker FD_IN FD_OUT`.

The parent sends one INIT frame (JSON: predictor type/path, python_path,
config, threads; model, signature_key, models_dir for onnx/tensorflow), then
PREDICT frames; this process answers READY (with the model's input signature
for onnx/tensorflow) or INIT_ERROR, then STARTED and one result frame per
request. stdout and stderr belong to the user's code and go to the API's log.
"""
import atexit
import gc
import json
import os
import sys

from . import protocol
from .gpu_guard import apply_tensorflow_memory_limit
from .lifeline import die_with_server, keep_private, start_watchdog
from .loader import add_python_path, init_failure_report, load_predictor, set_project_dir
from .model_clients import build_client
from .server import serve


def main(argv):
    # Moved out of the predictor's way first: its own os.write(4, ...) or a
    # program it runs must not reach the frame pipes.
    fd_in, fd_out = keep_private(int(argv[1])), keep_private(int(argv[2]))
    die_with_server(os.environ.pop("CORTEX_LOCAL_SERVER_PID", None))
    start_watchdog(fd_in)
    reader = protocol.FrameReader(fd_in)
    writer = protocol.FrameWriter(fd_out)

    frames = reader.read_frames()
    if not frames or frames[0][1] != protocol.INIT:
        return 2
    init = json.loads(frames[0][2])
    try:
        set_project_dir(init["project_dir"])
        add_python_path(init["python_path"])
        apply_tensorflow_memory_limit()
        client = build_client(init)
        predictor = load_predictor(init["type"], init["path"], init["config"], client)
    except BaseException as e:
        # Sent once, to be logged once by the server; not also to stderr.
        writer.write(protocol.pack(0, protocol.INIT_ERROR, init_failure_report(e).encode("utf-8")))
        return 1
    # What the predictor built, its model above all, lives as long as the
    # worker: frozen, it is no longer walked by every full collection (with a
    # model of 300,000 objects, a 1 MB echo ran 1.45x slower without this).
    # What __init__ left as garbage is collected first, not frozen for ever.
    gc.collect()
    gc.freeze()
    ready = {"pid": os.getpid(), "python": sys.version.split()[0]}
    if client is not None:
        # What GET <endpoint> showed in Cortex 0.15 for these types.
        ready["model_signature"] = client.input_signature
    writer.write(protocol.pack(0, protocol.READY, json.dumps(ready).encode("utf-8")))
    if len(frames) > 1:
        # Frames that arrived with INIT are unusual but must not be lost.
        reader.push_back(frames[1:])
    try:
        serve(predictor, reader, writer, int(init.get("threads", 1)))
    except BrokenPipeError:
        # Node closed the reply pipe: it is gone, or it gave up on this worker.
        return 1
    # Every request received has been answered; atexit handlers still run.
    atexit._run_exitfuncs()
    return 0


def finish(code):
    """Exits without waiting for threads the predictor started: after the last
    answer, a non-daemon thread must not hold the worker (and the server's
    shutdown) for its whole grace period."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            # stdout closed under us: there is nobody left to tell.
            pass
    os._exit(code)


if __name__ == "__main__":
    finish(main(sys.argv))
