"""KServe model server for one API of a cortex-local export.

`python -m cortex_local_export.kserve_server --api NAME [KServe's own flags]`
serves the API's predictor on KServe's ModelServer: the v1 protocol
(`POST /v1/models/NAME:predict` with {"instances": [payload, ...]}), the v2 /
Open Inference protocol (`POST /v2/models/NAME/infer`, one BYTES input whose
elements are JSON payloads), and Cortex's own `POST <endpoint>` with the
payload as the body, answered as cortex-local answers it.
"""
import argparse
import json

from fastapi import Request
from fastapi.responses import Response
from kserve import Model, ModelServer, model_server
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse

from kserve.utils.utils import generate_uuid

from cortex_local_worker.serialize import BadRequest, parse_payload

from .host import PredictorHost, read_api


class CortexModel(Model):
    def __init__(self, host):
        super().__init__(host.api["name"])
        self.host = host

    def load(self):
        self.host.load()
        self.ready = True
        return self.ready

    async def predict(self, payload, headers=None, response_headers=None):
        if isinstance(payload, InferRequest):
            return await self._predict_v2(payload)
        if isinstance(payload, bytes):
            # KServe passes the body undecoded when the client did not say it is JSON.
            try:
                payload = parse_payload(payload)
            except BadRequest as e:
                raise InvalidInput(str(e)) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
            raise InvalidInput(
                'a v1 request is {"instances": [payload, ...]}; to send the payload itself, POST it to %s'
                % self.host.api["endpoint"]
            )
        return {"predictions": [await self.host.predict(instance) for instance in payload["instances"]]}

    async def _predict_v2(self, request):
        if len(request.inputs) != 1 or request.inputs[0].datatype != "BYTES":
            raise InvalidInput("a v2 request for a Cortex predictor has one BYTES input whose elements are JSON payloads")
        predictions = []
        for element in request.inputs[0].data:
            try:
                payload = json.loads(element)
            except (ValueError, TypeError) as e:
                raise InvalidInput("input element is not a JSON payload: %s" % e) from None
            predictions.append(json.dumps(await self.host.predict(payload)))
        output = InferOutput(name="prediction", shape=[len(predictions)], datatype="BYTES", data=predictions)
        return InferResponse(response_id=request.id or generate_uuid(), model_name=self.name, infer_outputs=[output])


def add_cortex_route(app, host):
    async def cortex_predict(request: Request):
        status, content_type, body = await host.handle(await request.body())
        return Response(content=body, status_code=status, media_type=content_type)

    app.add_api_route(host.api["endpoint"], cortex_predict, methods=["POST"])


def main():
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument("--api", required=True, help="the API of cortex_export.json to serve")
    args, _ = parser.parse_known_args()
    host = PredictorHost(read_api(args.api))
    model = CortexModel(host)
    model.load()
    # ModelServer serves kserve.model_server.app in this process (one uvicorn
    # worker), so a route added to it here is served beside KServe's own.
    add_cortex_route(model_server.app, host)
    ModelServer().start([model])


if __name__ == "__main__":
    main()
