"""torchvision's ResNet layout and parameter names, built by hand with a base width and an input
channel count (torchvision's ResNet class fixes width 64): conv1, bn1, relu, maxpool (Identity
for the cifar stem: conv1 3x3/1 pad 1), layer1..4 of two BasicBlocks each (torchvision's own
BasicBlock when torchvision is installed), avgpool, fc. Used by parity.py, read_check.py (on
machines without torchvision) and bench/synth_calibration.py."""
import torch
import torch.nn as nn

try:
    from torchvision.models.resnet import BasicBlock as _TvBasicBlock
except Exception:  # torchvision is optional
    _TvBasicBlock = None


class _BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, for machines without torchvision."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


BasicBlock = _TvBasicBlock or _BasicBlock
BLOCK_IMPL = "torchvision BasicBlock" if _TvBasicBlock else "hand-written BasicBlock"


class ResNet18(nn.Module):
    def __init__(self, stem, width, in_channels, num_classes):
        super().__init__()
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        elif stem == "cifar":
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        else:
            raise ValueError(f"unknown stem {stem!r}")
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if stem == "imagenet" else nn.Identity()
        self.inplanes = width
        self.layer1 = self._make_layer(width, 1)
        self.layer2 = self._make_layer(2 * width, 2)
        self.layer3 = self._make_layer(4 * width, 2)
        self.layer4 = self._make_layer(8 * width, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, num_classes)

    def _make_layer(self, planes, stride):
        # torchvision's _make_layer for BasicBlock (expansion 1), two blocks.
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample), BasicBlock(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))
