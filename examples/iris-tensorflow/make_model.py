"""Writes model/1/ here: the iris classifier of examples/iris (nearest
centroid over the per-class means of Fisher's iris data set) as a TensorFlow
SavedModel with the signatures of Cortex 0.15's examples/tensorflow/iris-classifier
export (a DNNClassifier's export_saved_model: inputs sepal_length, sepal_width,
petal_length, petal_width, float64 [-1]; outputs class_ids int64 [-1, 1],
probabilities, logits; signatures "predict" and "serving_default"). Needs
tensorflow (pip install tensorflow); nothing is downloaded.

    python make_model.py
"""
import os

import tensorflow as tf

CENTROIDS = [
    [5.006, 3.428, 1.462, 0.246],  # setosa
    [5.936, 2.770, 4.260, 1.326],  # versicolor
    [6.588, 2.974, 5.552, 2.026],  # virginica
]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


class IrisClassifier(tf.Module):
    def __init__(self):
        self.centroids = tf.Variable(CENTROIDS, dtype=tf.float64)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float64, name=name) for name in FEATURES])
    def predict(self, sepal_length, sepal_width, petal_length, petal_width):
        x = tf.stack([sepal_length, sepal_width, petal_length, petal_width], axis=1)
        distances = tf.norm(x[:, None, :] - self.centroids[None, :, :], axis=2)
        logits = tf.cast(-distances, tf.float32)
        return {
            "class_ids": tf.argmax(logits, axis=1)[:, None],
            "probabilities": tf.nn.softmax(logits),
            "logits": logits,
        }


model = IrisClassifier()
# TF Serving and Cortex read numbered versions under the model folder; 1 is the only one here.
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model", "1")
tf.saved_model.save(model, path, signatures={"predict": model.predict, "serving_default": model.predict})
print("wrote", path)
