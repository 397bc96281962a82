"""Golden PyTorch fixtures: what the tests in `npm test` compare wgml against on machines without
PyTorch. Run from the repository root with the Debian Python that has torch (python3-torch):

    /usr/bin/python3 scripts/torch/golden_fixtures.py [OUT_DIR]   # default test/fixtures

Deterministic: fixed seeds, CPU, one thread, float64 arithmetic. The checkpoints, batches and
safetensors files are the same bytes on every run; the float64 results may differ in the last
bits between torch builds or CPUs. `npm run test:torch` (test/torch/golden.torch.test.ts)
regenerates everything into a temporary folder and checks the committed files against it.

parity/resnet18_{cifar,imagenet}_w4.safetensors
    A ResNet18 (torchvision's layout and names, torch_resnet18.py) at width 4, 1 input channel,
    4 classes: torch's default init (seed 11 cifar, 12 imagenet), then random BatchNorm affine
    parameters and running statistics and num_batches_tracked = 5 (parity.torch_model), written by
    torch as a plain state dict with metadata {"format": "pt"} (no wgml metadata).
parity/resnet18_{stem}_w4.expected.safetensors
    The batch and PyTorch's float64 results for that checkpoint:
      x F32 [2,1,S,S] (S = 16 cifar, 48 imagenet; uniform in [-1, 1)), labels I64 [2] = (1, 3),
      weights F32 [2] = (0.7, 1.6) (per-example weights, as wBackMix uses);
      eval.logits F64            eval-mode logits (running statistics), before any step;
      train.logits, train.loss   one training-mode forward, loss = mean(w_i * CE_i);
      grad.<parameter> F64       d loss / d parameter, all 62 parameters;
      grad.x F64                 d loss / d x;
      running.<bn>.running_mean / running_var F64   BN running statistics after that forward.
    Metadata: config, torch's state-dict key order, num_batches_tracked after the step, torch
    version and BasicBlock implementation.
safetensors/torch_interop_mixed.safetensors (+ .expected.json)
    Mixed-dtype tensors (F32 with full 24-bit mantissas, 0-dim I64 beyond 2^53, I32 extremes, an
    empty and a 0-dim F32) and metadata with non-ASCII, quotes and a newline, written by torch
    (st_format.py, the reference serializer's rules). The values come from integer formulas that
    test/nn/safetensors.test.ts recomputes, so wgml writes the same tensors and must produce these
    bytes. The .expected.json holds what torch reads back from the file (values, f32 bit
    patterns, int64 as strings) and the strict parser's format report.
safetensors/torch_resnet18_{cifar_1_4,imagenet_3_1000}.header.json
    The safetensors header (length and JSON text, padding included) and file size torch writes
    for a width-64 ResNet18 state dict with {"format": "pt"}: the BackMix setting (cifar stem,
    1 channel, 4 classes) and torchvision's own resnet18 (imagenet stem, 3 channels, 1000
    classes). Model from torchvision when installed, else torch_resnet18.py (same names).
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_format  # noqa: E402
from parity import eval_logits, torch_model, train_step  # noqa: E402
from read_check import build_resnet18  # noqa: E402
from torch_resnet18 import BLOCK_IMPL, ResNet18  # noqa: E402
from write_fixture import expected as read_back_summary  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures"

PARITY_CASES = [  # (stem, input size, seed): the shapes test/nn/resnet_gradcheck.test.ts uses
    ("cifar", 16, 11),
    ("imagenet", 48, 12),
]
WIDTH, IN_CHANNELS, NUM_CLASSES, N = 4, 1, 4, 2
LABELS = [1, 3]
WEIGHTS = [0.7, 1.6]


def f64(values):
    return torch.tensor(values, dtype=torch.float64)


def parity_case(stem, size, seed):
    d = os.path.join(OUT, "parity")
    os.makedirs(d, exist_ok=True)
    ckpt = os.path.join(d, f"resnet18_{stem}_w{WIDTH}.safetensors")
    model = torch_model(stem, WIDTH, IN_CHANNELS, NUM_CLASSES, seed)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    st_format.save(state, ckpt, metadata={"format": "pt"})

    g = torch.Generator().manual_seed(1000 + seed)
    x32 = torch.rand((N, IN_CHANNELS, size, size), generator=g, dtype=torch.float32) * 2 - 1
    labels = torch.tensor(LABELS, dtype=torch.int64)
    w32 = torch.tensor(WEIGHTS, dtype=torch.float32)

    # Both computations start from the checkpoint's bytes, as wgml does.
    def from_file():
        m = ResNet18(stem, WIDTH, IN_CHANNELS, NUM_CLASSES)
        m.load_state_dict(st_format.load(ckpt)[0], strict=True)
        return m.double()

    ev = eval_logits(from_file(), x32.double())
    tr = train_step(from_file(), x32.double(), labels, w32.double())
    out = {
        "x": x32, "labels": labels, "weights": w32,
        "eval.logits": ev.reshape(-1).clone(),
        "train.logits": f64(tr["logits"]),
        "train.loss": f64(tr["loss"]),
        "grad.x": f64(tr["x_grad"]),
    }
    for k, v in tr["grads"].items():
        out[f"grad.{k}"] = f64(v)
    for k, v in tr["running"].items():
        out[f"running.{k}"] = f64(v)
    nbt = set(tr["num_batches_tracked"].values())
    assert nbt == {6}, nbt
    metadata = {
        "config": json.dumps({"stem": stem, "inChannels": IN_CHANNELS, "numClasses": NUM_CLASSES, "width": WIDTH}),
        "keys": json.dumps(list(state.keys())),
        "num_batches_tracked_after": "6",
        "torch": torch.__version__,
        "impl": BLOCK_IMPL,
    }
    exp = os.path.join(d, f"resnet18_{stem}_w{WIDTH}.expected.safetensors")
    st_format.save(out, exp, metadata=metadata)
    print("wrote", ckpt, os.path.getsize(ckpt), "B;", exp, os.path.getsize(exp), "B")


def formula_f32(n):
    """k_i = (i * 2654435761) mod 2^24 - 2^23, value k_i / 2^22: exact in f32 and f64, full mantissas."""
    return torch.tensor([((i * 2654435761) % (1 << 24) - (1 << 23)) / (1 << 22) for i in range(n)], dtype=torch.float32)


def interop_mixed():
    d = os.path.join(OUT, "safetensors")
    os.makedirs(d, exist_ok=True)
    # The same tensors test/nn/safetensors.test.ts builds and writes with wgml.
    tensors = {
        "conv1.weight": formula_f32(54).reshape(3, 2, 3, 3),
        "bn1.num_batches_tracked": torch.tensor(-9007199254740993, dtype=torch.int64),
        "ids": torch.tensor([-5, 0, 2147483647], dtype=torch.int32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
        "Zed": torch.tensor(-0.125, dtype=torch.float32),
    }
    metadata = {"format": "pt", "note": 'é ✓ "q"\n'}
    path = os.path.join(d, "torch_interop_mixed.safetensors")
    st_format.save(tensors, path, metadata)
    with open(path, "rb") as f:
        buf = f.read()
    back, meta, report = st_format.decode(buf)  # strict: raises on any rule violation
    assert meta == metadata and report["canonical_order"] and report["header_length_multiple_of_8"], report
    summary = read_back_summary(back, meta)
    summary["format"] = report
    summary["file_size"] = len(buf)
    with open(os.path.join(d, "torch_interop_mixed.expected.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", path, len(buf), "B")


def resnet18_header(stem, in_ch, num_classes):
    model, impl = build_resnet18(stem, in_ch, num_classes)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    buf = st_format.encode(state, {"format": "pt"})
    tensors, _, report = st_format.decode(buf)
    assert report["canonical_order"] and report["header_length_multiple_of_8"], report
    model.load_state_dict(tensors, strict=True)  # what torch wrote, torch reads back strictly
    (n,) = struct.unpack("<Q", buf[:8])
    doc = {
        "source": f"state_dict of {impl} (torch {torch.__version__}), written by st_format.py",
        "config": {"stem": stem, "inChannels": in_ch, "numClasses": num_classes, "width": 64},
        "metadata": {"format": "pt"},
        "file_size": len(buf),
        "header_length": n,
        "header": buf[8:8 + n].decode("utf-8"),
    }
    path = os.path.join(OUT, "safetensors", f"torch_resnet18_{stem}_{in_ch}_{num_classes}.header.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", path, f"({len(state)} tensors, {len(buf)} B file)")


def main():
    torch.set_num_threads(1)
    for case in PARITY_CASES:
        parity_case(*case)
    interop_mixed()
    resnet18_header("cifar", 1, 4)
    resnet18_header("imagenet", 3, 1000)


if __name__ == "__main__":
    main()
