"""Write test/fixtures/gradcam/torch_gradcam.json, the PyTorch oracle that
test/kernels/gradcam.test.ts checks wgml's bilinear upsampling and GradCAM against.
Run from the repository root:

    /usr/bin/python3 scripts/torch/gradcam_fixture.py [OUT_FILE]

bilinear: F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False) for small
          odd shapes (up, down, mixed, identity, 1x1), inputs f32, outputs in f32 and f64.
gradcam:  A, dA [N,C,h,w] -> alpha = dA.mean((2,3)), cam = relu(sum_c alpha*A),
          up = interpolate(cam), z = min-max per image (a constant map -> zeros, valid 0),
          in f64 from the same f32 inputs. Image 1 has alpha < 0 and A >= 0, so its CAM is
          all zero after ReLU.

Inputs come from a seeded generator, so the file only changes when this script does.
"""
import json
import sys

import torch
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/gradcam/torch_gradcam.json"
g = torch.Generator().manual_seed(20240611)


def rand(*shape, lo=-1.0, hi=1.0):
    return (lo + (hi - lo) * torch.rand(*shape, generator=g, dtype=torch.float32))


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


bilinear = []
for (n, h, w, H, W) in [(1, 2, 2, 4, 4), (1, 3, 3, 17, 17), (2, 4, 7, 17, 17), (1, 4, 7, 5, 3),
                        (1, 1, 1, 3, 3), (1, 3, 5, 3, 5), (1, 3, 5, 7, 11)]:
    x = rand(n, 1, h, w, lo=0.0, hi=2.0)
    y32 = F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False)
    y64 = F.interpolate(x.double(), size=(H, W), mode="bilinear", align_corners=False)
    bilinear.append({"N": n, "h": h, "w": w, "H": H, "W": W, "x": flat(x),
                     "y_f32": flat(y32), "y_f64": flat(y64)})

N, C, h, w, H, W = 2, 5, 4, 7, 17, 17
A = rand(N, C, h, w)
dA = rand(N, C, h, w)
A[1] = A[1].abs()
dA[1] = -dA[1].abs() - 0.01
A64, dA64 = A.double(), dA.double()
alpha = dA64.mean(dim=(2, 3))
cam = torch.relu((alpha[:, :, None, None] * A64).sum(dim=1))
up = F.interpolate(cam[:, None], size=(H, W), mode="bilinear", align_corners=False)[:, 0]
lo = up.amin(dim=(1, 2), keepdim=True)
hi = up.amax(dim=(1, 2), keepdim=True)
valid = (hi - lo > 0).reshape(-1)
z = torch.where(valid[:, None, None], (up - lo) / torch.where(hi > lo, hi - lo, torch.ones_like(hi)), torch.zeros_like(up))

fixture = {
    "torch": torch.__version__,
    "bilinear": bilinear,
    "gradcam": {"N": N, "C": C, "h": h, "w": w, "H": H, "W": W, "A": flat(A), "dA": flat(dA),
                "alpha": flat(alpha), "cam": flat(cam), "up": flat(up), "z": flat(z),
                "valid": [int(v) for v in valid.tolist()]},
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {OUT}")
