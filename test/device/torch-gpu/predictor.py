import os
import time

import torch


class PythonPredictor:
    def __init__(self, config):
        self.started = time.time()
        self.gib = config.get("alloc_gib", 0)
        self.visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self.cuda = torch.cuda.is_available()
        self.weights = None
        if self.gib and self.cuda:
            side = int((self.gib * (1 << 30) / 4) ** 0.5)  # a square float32 matrix of ~gib GiB
            self.weights = torch.randn(side, side, device="cuda")
            torch.cuda.synchronize()
        print("init pid=%d CUDA_VISIBLE_DEVICES=%r cuda=%s allocated=%.2fGiB t=%.3f" % (
            os.getpid(), self.visible, self.cuda, torch.cuda.memory_allocated() / 2**30 if self.cuda else 0, self.started), flush=True)

    def predict(self, payload):
        out = {"pid": os.getpid(), "CUDA_VISIBLE_DEVICES": self.visible, "cuda": self.cuda}
        if self.weights is not None:
            x = torch.randn(1024, self.weights.shape[0], device="cuda")
            y = x @ self.weights
            torch.cuda.synchronize()
            out["device"] = torch.cuda.get_device_name(0)
            out["allocated_gib"] = round(torch.cuda.memory_allocated() / 2**30, 2)
            out["checksum"] = float(y[0, 0])
        return out
