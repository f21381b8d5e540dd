import time


class PythonPredictor:
    """Burns `cpu_ms` milliseconds of CPU (this thread's CPU time, not wall
    time, so a preempted request still costs the full amount) in pure Python,
    then answers. With N workers on N free cores the physical limit is
    N / cpu_ms req/s."""

    def __init__(self, config):
        self.cpu_s = float(config.get("cpu_ms", 5)) / 1000.0

    def predict(self, payload):
        end = time.thread_time() + self.cpu_s
        x = 0
        while time.thread_time() < end:
            for i in range(200):
                x += i * i
        return {"ok": True, "x": x & 0xFF}
