"""One API's predictor inside an engine's process: built from cortex_export.json
the way cortex-local's worker builds it (for onnx and tensorflow, with the
model client, the model fetched from S3 when it is there), and called with
Cortex's HTTP semantics."""
import asyncio
import base64
import json
import os
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor

from cortex_local_worker.gpu_guard import apply_tensorflow_memory_limit
from cortex_local_worker.loader import add_python_path, load_predictor
from cortex_local_worker.model_clients import build_client
from cortex_local_worker.serialize import BadRequest, encode_prediction, parse_payload

EXPORT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_DIR = os.path.join(EXPORT_DIR, "project")
# Where cortex-local keeps models downloaded from S3, in the project copy here.
MODELS_DIR = os.path.join(PROJECT_DIR, ".cortex-local", "models")


class UnknownApi(Exception):
    pass


def read_api(name, export_dir=EXPORT_DIR):
    with open(os.path.join(export_dir, "cortex_export.json")) as f:
        apis = json.load(f)["apis"]
    for api in apis:
        if api["name"] == name:
            return api
    raise UnknownApi("no API named %r in cortex_export.json (it has: %s)" % (name, ", ".join(a["name"] for a in apis)))


class PredictorHost:
    """The predictor and the threads that run it: `threads` requests execute at
    once (Cortex's workers_per_replica x threads_per_worker), the rest wait."""

    def __init__(self, api):
        self.api = api
        self.predictor = None
        self.executor = ThreadPoolExecutor(max_workers=api["threads"], thread_name_prefix="predict")

    def load(self):
        # As in a Cortex pod, the project folder is the working directory:
        # the predictor opens its files by paths relative to it.
        os.chdir(PROJECT_DIR)
        add_python_path(os.path.normpath(os.path.join(PROJECT_DIR, self.api["python_path"])))
        apply_tensorflow_memory_limit()
        model = self.api["model"]
        client = build_client(
            {
                "type": self.api["type"],
                "model": model if model is None or model.startswith("s3://") else os.path.join(PROJECT_DIR, model),
                "signature_key": self.api["signature_key"],
                "models_dir": MODELS_DIR,
            }
        )
        path = os.path.join(PROJECT_DIR, self.api["path"])
        self.predictor = load_predictor(self.api["type"], path, self.api["config"], client)

    async def predict(self, payload):
        """The prediction for one parsed payload, made JSON-ready (numpy values
        become lists and numbers, exactly as cortex-local encodes them)."""
        is_bytes, data = await self._run(payload)
        if is_bytes:
            return {"b64": base64.b64encode(data).decode("ascii")}
        return json.loads(data)

    async def handle(self, body):
        """Cortex's `POST <endpoint>`: returns (status, content_type, body bytes)."""
        try:
            payload = parse_payload(body)
        except BadRequest as e:
            return 400, "application/json", self._error(str(e))
        try:
            is_bytes, data = await self._run(payload)
        except Exception as e:
            traceback.print_exc()
            sys.stderr.flush()
            return 500, "application/json", self._error("%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__)
        return 200, "application/octet-stream" if is_bytes else "application/json", data

    def _error(self, message):
        return json.dumps({"error": message, "api": self.api["name"]}).encode("utf-8")

    async def _run(self, payload):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._predict_encoded, payload)

    def _predict_encoded(self, payload):
        return encode_prediction(self.predictor.predict(payload))
