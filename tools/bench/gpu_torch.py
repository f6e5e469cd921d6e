"""PyTorch's side of the GPU benchmark (tools/gpu/check.sh runs it on the GPU machine): the
models of gpu_export.py (the MLP of mlp_training.py with SGD at batch 128, the deep-MNIST
CNN of cnn.py with Adam at batch 64) trained, and their inference at batch 1 and 256, on
CUDA, strict float32 (no TF32, as Runnel's kernels). One JSON line per measurement, as
tools/bench/gpu_train.cc prints them.

    python3 tools/bench/gpu_torch.py [--steps 50] [--device cuda]
"""
import argparse
import json
import time

import torch

BATCH = {"mlp": 128, "cnn": 64}


def model(name):
    nn = torch.nn
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(1024, 10))


def inputs(name, batch, device):
    shape = (batch, 784) if name == "mlp" else (batch, 1, 28, 28)
    return torch.rand(shape, device=device), torch.randint(0, 10, (batch,), device=device)


def median_ms(step, steps, device):
    for _ in range(5):
        step()
    times = []
    for _ in range(steps):
        torch.cuda.synchronize(device)
        start = time.perf_counter()
        step()
        torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--device", default="cuda")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    for name in ("mlp", "cnn"):
        torch.manual_seed(0)
        m = model(name).to(device)
        x, y = inputs(name, BATCH[name], device)
        opt = (torch.optim.SGD(m.parameters(), lr=0.01) if name == "mlp"
               else torch.optim.Adam(m.parameters(), lr=1e-4))
        loss_fn = torch.nn.CrossEntropyLoss()

        def train():
            opt.zero_grad()
            loss_fn(m(x), y).backward()
            opt.step()
        ms = median_ms(train, args.steps, device)
        print(json.dumps({"model": name, "mode": "train", "batch": BATCH[name], "ms": ms,
                          "examples_per_s": BATCH[name] * 1e3 / ms}))
        m.eval()
        for batch in (1, 256):
            xi, _ = inputs(name, batch, device)
            with torch.no_grad():
                ms = median_ms(lambda: m(xi), args.steps, device)
            print(json.dumps({"model": name, "mode": "infer", "batch": batch, "ms": ms,
                              "examples_per_s": batch * 1e3 / ms}))
        m.train()


if __name__ == "__main__":
    main()
