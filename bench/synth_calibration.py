#!/usr/bin/python3
"""Does the synthetic benchmark carry a shortcut that a small ResNet18 takes, and does BackMix
remove it? A PyTorch stand-in for `wgml train`'s synthetic default (torchvision stem, width 8,
Adam 3e-3, batch 32, 12 epochs, rotation ±30° / flip / brightness-contrast, per-image z-score,
best-validation epoch) that runs in seconds, so the generator can be calibrated quickly. The
numbers that count come from wgml itself; this script answers "is the cue there" (the
self-checks of docs/DESIGN.md, "The synthetic benchmark": background-only scores high i.d. and
near chance o.o.d.; sector-only about the same on both).

Run with Debian's torch (the pyenv python3 has none), after `npm run build`:
    /usr/bin/python3 bench/synth_calibration.py [--seeds 0,1,2] [--shortcut P] [--hard P]
"""
import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'scripts', 'torch'))
from torch_resnet18 import ResNet18  # noqa: E402

CLASSES = ['PLAX', 'PSAX-AV', 'A2C', 'A4C']
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (label, what the network sees, how background is treated in training)
RUNS = [
    ('background only', 'bg', 'none'),
    ('sector only', 'sector', 'none'),
    ('none (full frame)', 'full', 'none'),
    ('backmix (full frame)', 'full', 'backmix'),
]


def load_split(data, rows, split, view):
    r = [x for x in rows if x['split'] == split]
    if not r:
        sys.exit(f'{data}/manifest.csv: no rows in split {split!r}')
    x = np.stack([np.array(Image.open(os.path.join(data, q['image'])).convert('L'), dtype=np.float32) for q in r])
    m = np.stack([(np.array(Image.open(os.path.join(data, q['mask'])).convert('L')) > 0).astype(np.float32) for q in r])
    y = np.array([CLASSES.index(q['label']) for q in r])
    if view == 'bg':
        x = x * (1 - m)
    elif view == 'sector':
        x = x * m
    return torch.tensor(x)[:, None], torch.tensor(m)[:, None], torch.tensor(y)


def zscore(x):
    x = x / 255
    mean = x.mean((1, 2, 3), keepdim=True)
    sd = x.std((1, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / sd.clamp_min(1e-6)


def augment(x, m):
    """Rotation U(±30°) (bicubic frame, nearest mask, replicate border), flip p=.5, α/β."""
    b = x.shape[0]
    th = (torch.rand(b) * 60 - 30) * math.pi / 180
    a = torch.zeros(b, 2, 3)
    a[:, 0, 0], a[:, 0, 1], a[:, 1, 0], a[:, 1, 1] = th.cos(), -th.sin(), th.sin(), th.cos()
    grid = F.affine_grid(a, list(x.shape), align_corners=False)
    xr = F.grid_sample(x, grid, mode='bicubic', padding_mode='border', align_corners=False)
    mr = F.grid_sample(m, grid, mode='nearest', padding_mode='border', align_corners=False)
    flip = torch.rand(b) < 0.5
    xr[flip], mr[flip] = xr[flip].flip(3), mr[flip].flip(3)
    alpha = 1 + (torch.rand(b, 1, 1, 1) * 0.3 - 0.15)
    beta = torch.rand(b, 1, 1, 1) * 0.3 - 0.15
    return torch.trunc((xr * alpha + 255 * beta).clamp(0, 255)), mr


def train_once(data, view, method, seed, epochs):
    torch.manual_seed(seed)
    rows = list(csv.DictReader(open(os.path.join(data, 'manifest.csv'))))
    d = {s: load_split(data, rows, s, view) for s in ['train', 'val', 'test', 'ood-test']}
    xtr, mtr, ytr = d['train']
    net = ResNet18('imagenet', 8, 1, len(CLASSES))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def accuracy(split):
        net.eval()
        x, _, y = d[split]
        with torch.no_grad():
            return (net(zscore(x)).argmax(1) == y).float().mean().item()

    best_val, best = -1.0, None
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(ytr))
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            x, m = augment(xtr[idx], mtr[idx])
            if method == 'backmix':  # donor background, its own sector blacked out, not augmented
                j = torch.randint(0, len(ytr), (len(idx),))
                x = m * x + (1 - m) * (1 - mtr[j]) * xtr[j]
            loss = F.cross_entropy(net(zscore(x)), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        val = accuracy('val')
        if val >= best_val:  # ties go to the later epoch, as in wgml and the reference
            best_val, best = val, (accuracy('test'), accuracy('ood-test'))
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--shortcut', type=float, default=None, help='wgml synth --shortcut (default: its default)')
    p.add_argument('--hard', type=float, default=None, help='wgml synth --hard (default: its default)')
    p.add_argument('--epochs', type=int, default=12)
    a = p.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    seeds = [int(s) for s in a.seeds.split(',')]
    results = {label: [] for label, _, _ in RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            data = os.path.join(tmp, f'synth-{seed}')
            cmd = ['node', os.path.join(ROOT, 'dist/cli/main.js'), 'synth', '--out', data, '--seed', str(seed)]
            if a.shortcut is not None:
                cmd += ['--shortcut', str(a.shortcut)]
            if a.hard is not None:
                cmd += ['--hard', str(a.hard)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            for label, view, method in RUNS:
                r = train_once(data, view, method, seed, a.epochs)
                results[label].append(r)
                print(f'seed {seed} {label}: i.d. test {r[0]:.3f}, o.o.d. test {r[1]:.3f}', file=sys.stderr, flush=True)

    def fmt(v):
        return f'{100 * np.mean(v):.1f} ± {100 * np.std(v):.1f}'

    print(f'Seeds {a.seeds} (each its own dataset and init), {a.epochs} epochs, mean ± std:\n')
    print('| input, method | i.d. test % | o.o.d. test % | gap (points) |')
    print('|---|---:|---:|---:|')
    for label, _, _ in RUNS:
        ids = [r[0] for r in results[label]]
        oods = [r[1] for r in results[label]]
        print(f'| {label} | {fmt(ids)} | {fmt(oods)} | {100 * (np.mean(ids) - np.mean(oods)):.1f} |')


if __name__ == '__main__':
    main()
