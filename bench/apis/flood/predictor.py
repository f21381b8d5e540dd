import sys


class PythonPredictor:
    def __init__(self, config):
        pass

    def predict(self, payload):
        megabytes = payload.get("flood", 0)
        # tqdm-style: each update starts with \r, no newline until the end.
        block = "".join("\r%3d%%|%s|" % (i % 100, "#" * (i % 40)) for i in range(1000))
        written = 0
        while written < megabytes * 1024 * 1024:
            sys.stdout.write(block)
            written += len(block)
        if megabytes:
            sys.stdout.write("\n")
            sys.stdout.flush()
        return {"written": written}
