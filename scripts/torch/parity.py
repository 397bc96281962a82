"""PyTorch side of wgml's live ResNet18 parity tests (test/torch/resnet_parity.torch.test.ts, run by
`npm run test:torch`); golden_fixtures.py uses the same model builder and training step. Prints JSON.

    /usr/bin/python3 scripts/torch/parity.py train WEIGHTS BATCH
        Load a wgml-written ResNet18 checkpoint (config from its `wgml.config` metadata) with
        load_state_dict(strict=True), run one training-mode forward on BATCH's x, the loss
        mean(w_i * CE_i) (the wBackMix reduction), and backward. Reports logits, loss, every
        parameter's gradient, the input's gradient and every BN's running statistics after the
        forward.

    /usr/bin/python3 scripts/torch/parity.py export OUT BATCH STEM WIDTH IN_CHANNELS NUM_CLASSES SEED
        Build a ResNet18 in torch (default init, then random BN affine parameters and running
        statistics so eval mode is not the identity), write its state_dict to OUT as a plain
        safetensors file (no wgml metadata, only {"format": "pt"}), and report eval-mode logits on
        BATCH's x.

    /usr/bin/python3 scripts/torch/parity.py jobs JSON
        Runs several of the above in one process (torch takes seconds to import): JSON is a list
        of argument lists, e.g. [["train", "w.safetensors", "b.safetensors"], ["export", ...]];
        prints the list of their results.

BATCH is a safetensors file with x F32 [N,C,H,W], labels I64 [N] and weights F32 [N].
All arithmetic is in float64 (the f32 weights widen exactly), so the numbers are an oracle for
wgml's f32 GPU results rather than another f32 computation.

The model (torch_resnet18.py) is torchvision's ResNet layout built by hand with a width
parameter (torchvision's ResNet class fixes width 64, too slow for a software GPU), so
state-dict keys are torchvision's.
safetensors is read and written with st_format.py (no `safetensors` package on Debian).
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_format  # noqa: E402
from torch_resnet18 import BLOCK_IMPL, ResNet18  # noqa: E402

def load_batch(path):
    tensors, _, _ = st_format.load(path)
    return tensors["x"].double(), tensors["labels"].long(), tensors["weights"].double()


def flat(t):
    return t.detach().reshape(-1).tolist()


def train_step(model, x, labels, w):
    """One float64 training-mode forward, loss mean(w_i * CE_i) and backward of `model` (already
    .double()): logits, loss, parameter and input gradients, BN running statistics after."""
    model = model.train()
    x = x.clone().requires_grad_(True)
    logits = model(x)
    loss = (F.cross_entropy(logits, labels, reduction="none") * w).mean()
    loss.backward()
    sd = model.state_dict()
    return {
        "impl": BLOCK_IMPL,
        "torch": torch.__version__,
        "logits": flat(logits),
        "loss": loss.item(),
        "grads": {k: flat(p.grad) for k, p in model.named_parameters()},
        "x_grad": flat(x.grad),
        "running": {k: flat(v) for k, v in sd.items() if k.endswith(("running_mean", "running_var"))},
        "num_batches_tracked": {k: int(v.item()) for k, v in sd.items() if k.endswith("num_batches_tracked")},
    }


def train(weights_path, batch_path):
    state, metadata, _ = st_format.load(weights_path)
    if not metadata or "wgml.config" not in metadata:
        raise SystemExit(f"{weights_path}: no wgml.config metadata")
    c = json.loads(metadata["wgml.config"])
    model = ResNet18(c["stem"], c["width"], c["inChannels"], c["numClasses"])
    model.load_state_dict(state, strict=True)
    return {**train_step(model.double(), *load_batch(batch_path)), "config": c}


def torch_model(stem, width, in_channels, num_classes, seed):
    """A ResNet18 with torch's default init (seeded), then random BN affine parameters and running
    statistics and num_batches_tracked = 5, so eval mode is not the identity. float32."""
    torch.manual_seed(seed)
    model = ResNet18(stem, width, in_channels, num_classes)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(5)
    return model


def eval_logits(model, x):
    with torch.no_grad():
        return model.double().eval()(x)


def export(out_path, batch_path, stem, width, in_channels, num_classes, seed):
    model = torch_model(stem, width, in_channels, num_classes, seed)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    st_format.save(state, out_path, metadata={"format": "pt"})
    x, _, _ = load_batch(batch_path)
    return {
        "impl": BLOCK_IMPL,
        "torch": torch.__version__,
        "keys": list(state.keys()),
        "eval_logits": flat(eval_logits(model, x)),
    }


def run(argv):
    if len(argv) == 3 and argv[0] == "train":
        return train(argv[1], argv[2])
    if len(argv) == 8 and argv[0] == "export":
        return export(argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]), int(argv[7]))
    raise SystemExit(f"bad arguments {argv!r}\n{__doc__}")


def main(argv):
    torch.set_num_threads(1)  # tiny models; leave the other core to the GPU test worker
    if len(argv) == 2 and argv[0] == "jobs":
        result = [run(job) for job in json.loads(argv[1])]
    else:
        result = run(argv)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
