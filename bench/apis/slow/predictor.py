import time


class PythonPredictor:
    """Sleeps `sleep_ms` (default 20) and answers: slow enough that, with
    max_replica_concurrency 1, nearly every request under load is refused."""

    def __init__(self, config):
        self.sleep_s = float(config.get("sleep_ms", 20)) / 1000.0

    def predict(self, payload):
        time.sleep(self.sleep_s)
        return {"ok": True}
