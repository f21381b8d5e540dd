"""TensorFlow GPU memory guard, applied before the user's predictor is imported.

The seed's parallelism note asks users to edit their predictor so the first
TensorFlow process does not take all GPU memory. cortex-local applies the same
two options for them: memory growth (TF_FORCE_GPU_ALLOW_GROWTH, set by the
server for GPU replicas), or a hard limit per process when
CORTEX_LOCAL_TF_MEMORY_LIMIT_MB is set.
"""
import importlib.util
import os
import sys

LIMIT_VAR = "CORTEX_LOCAL_TF_MEMORY_LIMIT_MB"


class GuardError(Exception):
    pass


def apply_tensorflow_memory_limit(environ=os.environ):
    value = environ.get(LIMIT_VAR)
    if not value:
        return None
    try:
        limit_mb = int(value)
    except ValueError:
        raise GuardError("%s must be a whole number of megabytes, got %r" % (LIMIT_VAR, value)) from None
    if limit_mb <= 0:
        raise GuardError("%s must be positive, got %d" % (LIMIT_VAR, limit_mb))
    if importlib.util.find_spec("tensorflow") is None:
        sys.stderr.write("cortex-local: %s is set but tensorflow is not importable; ignoring it\n" % LIMIT_VAR)
        return None
    # A hard limit and memory growth cannot both be configured on a device.
    environ.pop("TF_FORCE_GPU_ALLOW_GROWTH", None)
    import tensorflow as tf

    gpus = tf.config.experimental.list_physical_devices("GPU")
    for gpu in gpus:
        tf.config.experimental.set_virtual_device_configuration(
            gpu, [tf.config.experimental.VirtualDeviceConfiguration(memory_limit=limit_mb)]
        )
    return len(gpus)
