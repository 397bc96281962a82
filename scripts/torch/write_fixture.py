"""Write the small committed fixtures that test/nn/safetensors.test.ts and
test/nn/state_dict_names.test.ts read. Run from the repository root:

    /usr/bin/python3 scripts/torch/write_fixture.py [OUT_DIR]   # default test/fixtures

Writes:
  safetensors/torch_mixed.safetensors   F32, F64, F16, BF16, I64, I32, 0-dim and empty tensors + metadata
  safetensors/torch_mixed.expected.json what wgml must read: f32 bit patterns (after conversion), int64 as strings
  safetensors/torch_plain.safetensors   only wgml-writable dtypes (F32, I64, I32) + metadata: wgml must
                                        re-encode it byte for byte
  safetensors/ref_*.safetensors         the same, written by the `safetensors` package, if it is installed
  torchvision/resnet18_*.json           torchvision resnet18 state_dict key/shape/dtype lists (no weights),
                                        if torchvision is installed

Values are fixed (no RNG) so the files only change when this script does.
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_format  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures"


def f32_bits(t):
    """float32 bit patterns as ints (exact, keeps -0, Inf and NaN)."""
    t = t.detach().to(torch.float32).contiguous().reshape(-1)
    return [struct.unpack("<I", struct.pack("<f", v))[0] for v in t.tolist()]


def i16(bits):
    """uint16 bit patterns -> int16 tensor (torch has no uint16), to view as F16/BF16."""
    return torch.tensor([b - 0x10000 if b >= 0x8000 else b for b in bits], dtype=torch.int16)


def mixed_tensors():
    half_bits = i16([0x3C00, 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x8000, 0x7E00, 0x3555])
    bf_bits = i16([0x3F80, 0xC0A0, 0x7F80, 0x0001, 0x8000, 0x4049])
    return {
        "weight": torch.tensor([[0.5, -1.25, 3.0], [1e-8, -0.0, 65504.0]], dtype=torch.float32),
        "bn1.num_batches_tracked": torch.tensor(123456789012, dtype=torch.int64),
        "steps": torch.tensor([-1, 0, 2**62 + 5, -(2**63)], dtype=torch.int64),
        # F16: 1, -2.5, max, smallest subnormal, largest subnormal, +Inf, -Inf, -0, NaN, ~1/3
        "half": half_bits.view(torch.float16),
        # BF16: 1, -5, +Inf, smallest subnormal, -0, ~3.14
        "Bf.x": bf_bits.view(torch.bfloat16).reshape(2, 3),
        "dbl": torch.tensor([[0.1, 1e300], [-3.5, 1e-50]], dtype=torch.float64),
        "idx": torch.tensor([-2**31, -1, 0, 2**31 - 1], dtype=torch.int32),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "Zeta": torch.tensor([1.0, 2.0], dtype=torch.float32),  # uppercase sorts before lowercase byte-wise
        "é.w": torch.tensor([7.0], dtype=torch.float32),       # non-ASCII name, written raw in the JSON
    }


METADATA = {"format": "pt", "note": "wgml fixture — é ✓ \"quoted\"\n2nd line", "a": "first", "Z": "upper"}


def plain_tensors():
    x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7.0 - 1.0
    return {
        "layer1.0.conv1.weight": x,
        "layer1.0.bn1.num_batches_tracked": torch.tensor(42, dtype=torch.int64),
        "fc.bias": torch.tensor([0.25, -0.5, 1.5], dtype=torch.float32),
        "counts": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
        "b": torch.tensor([5], dtype=torch.int64),
        "a": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32),
    }


def expected(tensors, metadata):
    out = {"metadata": metadata, "tensors": {}}
    for name, t in tensors.items():
        e = {"sourceDtype": st_format.NAME_OF[t.dtype], "shape": list(t.shape)}
        if t.dtype in (torch.int64, torch.int32):
            e["values"] = [str(v) for v in t.reshape(-1).tolist()]
        else:
            # what PyTorch itself gives for .float(): round-to-nearest, F16/BF16 exact
            e["f32_bits"] = f32_bits(t.float())
        out["tensors"][name] = e
    return out


def _reference_style_resnet18(in_ch, num_classes):
    """A module with the BackMix reference model's parameter names and shapes (written from its
    description: conv1 3x3 s1, bn1, layer1-4 of two BasicBlocks with `shortcut` = 1x1 conv + BN
    where the shape changes, `linear` classifier). Only its state_dict keys/shapes are used."""
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            cin = 64
            for i, c in enumerate([64, 128, 256, 512]):
                setattr(self, f"layer{i + 1}", nn.Sequential(Block(cin, c, 1 if i == 0 else 2), Block(c, c, 1)))
                cin = c
            self.linear = nn.Linear(512, num_classes)

    return Net()


def torchvision_key_lists():
    try:
        import torchvision
    except ImportError:
        print("torchvision not installed: skipping torchvision/resnet18_*.json")
        return
    import torch.nn as nn
    d = os.path.join(OUT, "torchvision")
    os.makedirs(d, exist_ok=True)

    def dump(model, fname, config, source=None):
        sd = model.state_dict()
        entries = [{"name": k, "shape": list(v.shape), "dtype": st_format.NAME_OF[v.dtype]} for k, v in sd.items()]
        params = {n for n, _ in model.named_parameters()}
        for e in entries:
            e["kind"] = "parameter" if e["name"] in params else "buffer"
        doc = {"source": source or f"torchvision {torchvision.__version__} resnet18 (torch {torch.__version__})",
               "config": config, "parameter_count": sum(p.numel() for p in model.parameters()),
               "entries": entries}
        with open(os.path.join(d, fname), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print("wrote", os.path.join(d, fname), len(entries), "entries")

    # torchvision's own model: imagenet stem, 3 channels, 1000 classes
    dump(torchvision.models.resnet18(), "resnet18_imagenet_3_1000.json",
         {"stem": "imagenet", "inChannels": 3, "numClasses": 1000, "width": 64})
    # the BackMix setting: CIFAR stem (3x3 s1 p1 conv1, no max-pool), 1 channel, 4 classes
    m = torchvision.models.resnet18(num_classes=4)
    m.conv1 = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=False)
    m.maxpool = nn.Identity()
    dump(m, "resnet18_cifar_1_4.json", {"stem": "cifar", "inChannels": 1, "numClasses": 4, "width": 64})
    # the key names of the BackMix reference model (kitbransby/BackMix models/resnet.py, a CIFAR ResNet18:
    # same structure, but the projection is called `shortcut` and the classifier `linear`)
    dump(_reference_style_resnet18(1, 4), "resnet18_backmix_reference_1_4.json",
         {"stem": "cifar", "inChannels": 1, "numClasses": 4, "width": 64, "naming": "backmix-reference"},
         source=f"BackMix reference ResNet18 naming (models/resnet.py), torch {torch.__version__}")
    # imagenet stem on 1-channel input, 10 classes
    m = torchvision.models.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    dump(m, "resnet18_imagenet_1_10.json", {"stem": "imagenet", "inChannels": 1, "numClasses": 10, "width": 64})


def main():
    d = os.path.join(OUT, "safetensors")
    os.makedirs(d, exist_ok=True)
    mixed = mixed_tensors()
    plain = plain_tensors()
    st_format.save(mixed, os.path.join(d, "torch_mixed.safetensors"), METADATA)
    st_format.save(plain, os.path.join(d, "torch_plain.safetensors"), METADATA)
    for name, tensors in (("torch_mixed", mixed), ("torch_plain", plain)):
        with open(os.path.join(d, f"{name}.expected.json"), "w", encoding="utf-8") as f:
            json.dump(expected(tensors, METADATA), f, indent=1, ensure_ascii=False)
            f.write("\n")
        # self-check: our own strict reader gets the same tensors back
        back, meta, report = st_format.load(os.path.join(d, f"{name}.safetensors"))
        assert meta == METADATA and report["canonical_order"] and report["header_length_multiple_of_8"], report
        for k, t in tensors.items():
            assert back[k].dtype == t.dtype and back[k].shape == t.shape, k
            assert st_format.tensor_bytes(back[k]) == st_format.tensor_bytes(t), k  # bitwise (NaN-safe)
        print("wrote", os.path.join(d, f"{name}.safetensors"), "header order:", report["header_order"])

    try:
        from safetensors.torch import save_file
    except ImportError:
        print("python safetensors package not installed: no ref_*.safetensors written "
              "(st_format.py implements the reference's rules instead)")
    else:
        save_file(mixed, os.path.join(d, "ref_mixed.safetensors"), metadata=METADATA)
        save_file(plain, os.path.join(d, "ref_plain.safetensors"), metadata=METADATA)
        print("wrote ref_*.safetensors with the safetensors package")

    torchvision_key_lists()


if __name__ == "__main__":
    main()
