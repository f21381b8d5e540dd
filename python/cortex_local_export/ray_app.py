"""Ray Serve application for one API of a cortex-local export.

serve_config.yaml names one application per API, each built by `build` with
`args: {api: NAME}` and served at the API's endpoint (route_prefix); the
deployment's replicas, resources and autoscaling are set there. A request to
the endpoint is answered as cortex-local answers `POST <endpoint>`.
"""
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .host import PredictorHost, read_api


@serve.deployment
class CortexAPI:
    def __init__(self, api_name):
        self.host = PredictorHost(read_api(api_name))
        self.host.load()

    async def __call__(self, request: Request) -> Response:
        if request.method != "POST":
            return JSONResponse(
                {"error": "POST a JSON payload to %s" % self.host.api["endpoint"], "api": self.host.api["name"]},
                status_code=405,
                headers={"allow": "POST"},
            )
        status, content_type, body = await self.host.handle(await request.body())
        return Response(content=body, status_code=status, media_type=content_type)


def build(args):
    return CortexAPI.options(name=args["api"]).bind(args["api"])
