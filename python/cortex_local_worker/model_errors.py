"""Errors of the onnx and tensorflow clients: a model that cannot be served
(fails the API at start), and an input that does not fit it (fails the request)."""


class ModelLoadError(Exception):
    pass


class ModelInputError(ValueError):
    pass
