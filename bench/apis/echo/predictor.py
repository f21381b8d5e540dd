class PythonPredictor:
    """Returns its payload: what the request costs when the predictor costs nothing."""

    def __init__(self, config):
        pass

    def predict(self, payload):
        return payload
