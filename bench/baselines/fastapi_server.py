"""The baseline: the same PythonPredictor behind FastAPI + uvicorn, shaped the
way Cortex 0.15's serve.py served it, so the benchmark compares cortex-local
with the stack it replaces rather than with a strawman or a different app.

What Cortex 0.15's serve.py did per prediction, and this file keeps:
  - CORSMiddleware allowing any origin;
  - one `@app.middleware("http")` that stamps the request's start time (its
    request-file bookkeeping and CloudWatch metrics were skipped for the
    "local" provider, so they are skipped here too);
  - a *sync* route `predict(payload = Body(..., media_type="application/json"))`,
    which FastAPI runs on a thread pool of `threads_per_worker` threads;
  - `json.dumps(prediction)` into a `Response(media_type="application/json")`
    (bytes -> application/octet-stream, str -> text/plain);
  - uvicorn with uvloop + httptools, `workers_per_replica` processes.

`--style minimal` drops the middleware and the thread pool (an `async def`
route calling predict inline): not what Cortex ran, but the fastest this stack
goes with the same predictor, shown so the ratio cannot be blamed on
middleware choices.

Configuration travels in BENCH_* environment variables because uvicorn's
worker processes (workers > 1) import this module by name.

  python fastapi_server.py --predictor DIR/predictor.py --config '{"greeting": "Hello"}' \
      --endpoint /hello --port 8000 [--workers 1] [--threads 1] [--style cortex015|minimal]
      [--limit-concurrency N]

`--limit-concurrency N` is uvicorn's limit_concurrency, which is how Cortex
0.15 enforced max_replica_concurrency (per worker: max_replica_concurrency /
workers_per_replica): over it, uvicorn answers 503 itself. uvicorn counts
open connections as well as running tasks against it, so a limit of 1 would
refuse even a lone connection: the bench passes max_replica_concurrency + 1,
and `--log-level error` so that uvicorn does not log a warning per refusal.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

ENV_PREDICTOR = "BENCH_PREDICTOR"
ENV_CONFIG = "BENCH_CONFIG"
ENV_ENDPOINT = "BENCH_ENDPOINT"
ENV_THREADS = "BENCH_THREADS"
ENV_STYLE = "BENCH_STYLE"

SUMMARY_MESSAGE = "make a prediction by sending a post request to this endpoint with a json payload"


def load_predictor(path, config):
    # As Cortex: the predictor's folder is importable, and the class is
    # constructed once per worker process with the API's config dict.
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("predictor", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PythonPredictor(config)


def to_response(prediction):
    from starlette.responses import Response

    if isinstance(prediction, bytes):
        return Response(content=prediction, media_type="application/octet-stream")
    if isinstance(prediction, str):
        return Response(content=prediction, media_type="text/plain")
    if isinstance(prediction, Response):
        return prediction
    return Response(content=json.dumps(prediction), media_type="application/json")


def build_app():
    from typing import Any

    from fastapi import Body, FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from starlette.requests import Request

    predictor = load_predictor(os.environ[ENV_PREDICTOR], json.loads(os.environ.get(ENV_CONFIG, "{}")))
    endpoint = os.environ.get(ENV_ENDPOINT, "/")
    threads = int(os.environ.get(ENV_THREADS, "1"))
    style = os.environ.get(ENV_STYLE, "cortex015")

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"], allow_headers=["*"])

    if style == "minimal":

        async def predict_inline(request: Request):
            return to_response(predictor.predict(json.loads(await request.body())))

        app.add_api_route(endpoint, predict_inline, methods=["POST"])
    else:

        @app.on_event("startup")
        def size_thread_pool():
            # Cortex set the loop's default executor to threads_per_worker
            # threads; sync routes now go through anyio's limiter instead, so
            # that is what bounds them to the same number.
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads

        @app.middleware("http")
        async def register_request(request: Request, call_next):
            request.state.start_time = time.time()
            return await call_next(request)

        def predict(payload: Any = Body(..., media_type="application/json")):
            return to_response(predictor.predict(payload))

        app.add_api_route(endpoint, predict, methods=["POST"])

    def summary():
        return {"message": SUMMARY_MESSAGE}

    app.add_api_route(endpoint, summary, methods=["GET"])
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--predictor", required=True)
    parser.add_argument("--config", default="{}")
    parser.add_argument("--endpoint", default="/")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--style", choices=["cortex015", "minimal"], default="cortex015")
    parser.add_argument("--limit-concurrency", type=int, default=None)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()

    os.environ[ENV_PREDICTOR] = os.path.abspath(args.predictor)
    os.environ[ENV_CONFIG] = args.config
    os.environ[ENV_ENDPOINT] = args.endpoint
    os.environ[ENV_THREADS] = str(args.threads)
    os.environ[ENV_STYLE] = args.style

    import uvicorn

    uvicorn.run(
        "fastapi_server:build_app",
        factory=True,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        log_level=args.log_level,
        access_log=False,
        limit_concurrency=args.limit_concurrency,
    )
