"""Load a (wgml-written) safetensors file into PyTorch and print a JSON summary on stdout.

    /usr/bin/python3 scripts/torch/read_check.py FILE [--resnet18 STEM IN_CHANNELS NUM_CLASSES]

Parsing uses the `safetensors` package when installed, else scripts/torch/st_format.py (a strict
parser of the format's rules). Either way it also reports format observations from the strict
parser: header padding, whether the layout is the one the reference writer produces, etc.

With --resnet18 it builds a width-64 ResNet18 with torchvision's names (torchvision.models.resnet18
when available, else an equivalent pure-torch module), with the requested stem
(imagenet: conv1 7x7/2 + max-pool; cifar: conv1 3x3/1, no max-pool), loads the file with
load_state_dict(strict=True), runs a forward pass on a fixed input in eval mode, and reports
per-tensor float64 sums of the *loaded model's* state_dict, so a test can check the values arrived.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_format  # noqa: E402
from torch_resnet18 import ResNet18  # noqa: E402


def summarize(t):
    flat = t.reshape(-1)
    s = {"dtype": st_format.NAME_OF[t.dtype], "shape": list(t.shape), "numel": t.numel()}
    if t.dtype in (torch.int64, torch.int32):
        s["values_head"] = [str(v) for v in flat[:8].tolist()]
        s["sum"] = str(int(flat.sum().item())) if t.numel() else "0"
    else:
        f = flat.double()
        s["values_head"] = [float(v) if v == v and abs(v) != float("inf") else str(v) for v in f[:8].tolist()]
        s["sum"] = float(f.sum().item()) if t.numel() else 0.0
        s["abs_sum"] = float(f.abs().sum().item()) if t.numel() else 0.0
    return s


def build_resnet18(stem, in_ch, num_classes):
    try:
        import torchvision
        model = torchvision.models.resnet18(num_classes=num_classes)
        impl = f"torchvision {torchvision.__version__}"
    except ImportError:
        model = ResNet18("imagenet", 64, 3, num_classes)
        impl = "pure-torch replica (torchvision not installed)"
    if stem == "cifar":
        model.conv1 = nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    elif in_ch != 3:
        model.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    return model, impl


def check_resnet18(tensors, stem, in_ch, num_classes):
    model, impl = build_resnet18(stem, in_ch, num_classes)
    out = {"impl": impl}
    try:
        res = model.load_state_dict(tensors, strict=True)
        out["loaded"] = True
        out["missing"] = list(res.missing_keys)
        out["unexpected"] = list(res.unexpected_keys)
    except RuntimeError as e:
        out["loaded"] = False
        out["error"] = str(e)
        return out
    sd = model.state_dict()
    out["state_dict_sums"] = {k: (str(int(v.sum().item())) if not v.is_floating_point() else float(v.double().sum().item()))
                              for k, v in sd.items()}
    model.eval()
    x = torch.linspace(-1, 1, 2 * in_ch * 32 * 32).reshape(2, in_ch, 32, 32)
    with torch.no_grad():
        y = model(x)
    out["forward_shape"] = list(y.shape)
    out["forward_finite"] = bool(torch.isfinite(y).all().item())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--resnet18", nargs=3, metavar=("STEM", "IN_CHANNELS", "NUM_CLASSES"))
    a = ap.parse_args()

    with open(a.file, "rb") as f:
        buf = f.read()
    # The strict hand parser always runs: it raises on any violation of the format's rules.
    tensors, metadata, report = st_format.decode(buf)
    parser = "st_format.py (strict, hand-written)"
    try:
        from safetensors.torch import load as st_load
        from safetensors import safe_open
    except ImportError:
        pass
    else:
        tensors = st_load(buf)
        with safe_open(a.file, framework="pt") as f:
            metadata = f.metadata()
        parser = "safetensors package"
    out = {
        "ok": True,
        "parser": parser,
        "torch": torch.__version__,
        "file_size": len(buf),
        "format": report,
        "metadata": metadata,
        "tensors": {k: summarize(v) for k, v in tensors.items()},
    }
    if a.resnet18:
        stem, in_ch, ncls = a.resnet18[0], int(a.resnet18[1]), int(a.resnet18[2])
        out["resnet18"] = check_resnet18(tensors, stem, in_ch, ncls)
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
