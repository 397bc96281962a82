"""PyTorch CPU peer for `wgml bench` (src/bench/): reads one JSON request per line on stdin,
answers one JSON line on stdout. Inputs come as raw little-endian f32 files written by the
bench, outputs go back the same way, so both engines see the same bytes. Timing happens here
(warm-up first, then `samples` timed calls, median), so the pipe is never inside a timed region.
Uses every core (torch.set_num_threads(os.cpu_count())): the software GPUs use them all too."""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_resnet18 import ResNet18  # noqa: E402

torch.set_num_threads(os.cpu_count() or 1)


def load(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy())


def save(path, t):
    t.detach().contiguous().numpy().astype("<f4").tofile(path)


def rss_peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(fn, samples, warmup=1):
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    first = time.perf_counter() - t0
    ts = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    m = len(ts) // 2
    med = ts[m] if len(ts) % 2 else 0.5 * (ts[m - 1] + ts[m])
    return {"ms": med * 1e3, "first_ms": first * 1e3, "samples": len(ts)}


def run_and_save(req, fn):
    """Warm-up call (its output is the one compared), then the timed calls."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    r = timed(fn, req["samples"], warmup=0)
    r["first_ms"] = first * 1e3
    save(req["out"], out)
    return r


def conv(req):
    s = req["shape"]
    N, Ci, H, W, Co, K, st, p = s["N"], s["Ci"], s["H"], s["W"], s["Co"], s["KH"], s["stride"], s["pad"]
    x = load(req["x"], (N, Ci, H, W))
    w = load(req["w"], (Co, Ci, K, K))
    mode = req["mode"]
    with torch.no_grad():
        if mode == "forward":
            fn = lambda: F.conv2d(x, w, None, st, p)
        else:
            Ho = (H + 2 * p - K) // st + 1
            Wo = (W + 2 * p - K) // st + 1
            dy = load(req["dy"], (N, Co, Ho, Wo))
            if mode == "input":
                fn = lambda: torch.nn.grad.conv2d_input((N, Ci, H, W), w, dy, st, p)
            else:
                fn = lambda: torch.nn.grad.conv2d_weight(x, (Co, Ci, K, K), dy, st, p)
        return run_and_save(req, fn)


def matmul(req):
    n = req["n"]
    a = load(req["a"], (n, n))
    b = load(req["b"], (n, n))
    with torch.no_grad():
        return run_and_save(req, lambda: a @ b)


def batchnorm(req):
    N, C, H, W = req["shape"]
    x = load(req["x"], (N, C, H, W)).requires_grad_(True)
    dy = load(req["dy"], (N, C, H, W))
    g = torch.ones(C, requires_grad=True)
    b = torch.zeros(C, requires_grad=True)

    def fn():
        x.grad = None
        y = F.batch_norm(x, None, None, g, b, True, 0.1, 1e-5)
        y.backward(dy)
        return x.grad

    return run_and_save(req, fn)


def maxpool(req):
    N, C, H, W = req["shape"]
    x = load(req["x"], (N, C, H, W))
    with torch.no_grad():
        return run_and_save(req, lambda: F.max_pool2d(x, 3, 2, 1))


def make_model(req):
    stem = "imagenet" if req["stem"] == "imagenet" else "cifar"
    m = ResNet18(stem, req["width"], 1, req["classes"])
    sd = m.state_dict()
    blob = np.fromfile(req["params"], dtype="<f4")
    off = 0
    new = {}
    for name, shape in req["layout"]:
        n = int(np.prod(shape)) if shape else 1
        new[name] = torch.from_numpy(blob[off:off + n].reshape(shape).copy())
        off += n
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            new[k] = v
    m.load_state_dict(new)
    return m


def train(req):
    m = make_model(req).train()
    B, S = req["batch"], req["size"]
    x = load(req["x"], (B, 1, S, S))
    labels = torch.tensor(req["labels"], dtype=torch.long)
    weights = torch.tensor(req["weights"], dtype=torch.float32)
    opt = torch.optim.Adam(m.parameters(), lr=req["lr"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = (F.cross_entropy(m(x), labels, reduction="none") * weights).mean()
        loss.backward()
        opt.step()
        return loss.item()

    t0 = time.perf_counter()
    loss = step()
    first = time.perf_counter() - t0
    sd = m.state_dict()
    checks = {name: sd[name].flatten().tolist() for name in req["check"]}
    r = timed(step, req["samples"], warmup=0)
    r["first_ms"] = first * 1e3
    r.update(loss=loss, check=checks, rss_peak_bytes=rss_peak_bytes())
    return r


def infer(req):
    m = make_model(req).eval()
    B, S = req["batch"], req["size"]
    x = load(req["x"], (B, 1, S, S))
    with torch.no_grad():
        r = run_and_save(req, lambda: m(x))
    r["rss_peak_bytes"] = rss_peak_bytes()
    return r


OPS = {"conv": conv, "matmul": matmul, "batchnorm": batchnorm, "maxpool": maxpool, "train": train, "infer": infer}


def main():
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "mkldnn": torch.backends.mkldnn.is_available()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            res = OPS[req["op"]](req)
            res["ok"] = True
        except Exception as e:  # reported as a skip reason by the bench
            res = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
