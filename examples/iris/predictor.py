# The seed's iris example, offline: the "model" is a nearest-centroid
# classifier shipped as model.json (per-class means of the iris data set).
# numpy is used when installed; plain Python otherwise.
import json
import math

try:
    import numpy as np
except ImportError:
    np = None


class PythonPredictor:
    def __init__(self, config):
        with open(config["model"]) as f:
            model = json.load(f)
        self.features = model["features"]
        self.labels = model["labels"]
        self.centroids = np.array(model["centroids"]) if np is not None else model["centroids"]

    def predict(self, payload):
        x = [float(payload[name]) for name in self.features]
        if np is not None:
            distances = np.linalg.norm(self.centroids - np.array(x), axis=1)
            return self.labels[int(np.argmin(distances))]
        distances = [math.dist(x, c) for c in self.centroids]
        return self.labels[distances.index(min(distances))]
