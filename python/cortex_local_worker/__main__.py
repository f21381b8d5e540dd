"""Entry point: `python -m cortex_local_worker FD_IN FD_OUT`.

The parent sends one INIT frame (JSON: predictor type/path, python_path,
config, threads; model, signature_key, models_dir for onnx/tensorflow), then
PREDICT frames; this process answers READY (with the model's input signature
for onnx/tensorflow) or INIT_ERROR, then one result frame per request. stdout
and stderr belong to the user's code and go to the API's log.
"""
import json
import os
import sys
import traceback

from . import protocol
from .gpu_guard import apply_tensorflow_memory_limit
from .loader import add_python_path, load_predictor
from .model_clients import build_client
from .server import serve


def main(argv):
    fd_in, fd_out = int(argv[1]), int(argv[2])
    reader = protocol.FrameReader(fd_in)
    writer = protocol.FrameWriter(fd_out)

    frames = reader.read_frames()
    if not frames or frames[0][1] != protocol.INIT:
        return 2
    init = json.loads(frames[0][2])
    try:
        add_python_path(init["python_path"])
        apply_tensorflow_memory_limit()
        client = build_client(init)
        predictor = load_predictor(init["type"], init["path"], init["config"], client)
    except BaseException:
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        sys.stderr.flush()
        writer.write(protocol.pack(0, protocol.INIT_ERROR, tb.encode("utf-8")))
        return 1
    ready = {"pid": os.getpid(), "python": sys.version.split()[0]}
    if client is not None:
        # What GET <endpoint> showed in Cortex 0.15 for these types.
        ready["model_signature"] = client.input_signature
    writer.write(protocol.pack(0, protocol.READY, json.dumps(ready).encode("utf-8")))
    if len(frames) > 1:
        # Frames that arrived with INIT are unusual but must not be lost.
        reader.push_back(frames[1:])
    serve(predictor, reader, writer, int(init.get("threads", 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
