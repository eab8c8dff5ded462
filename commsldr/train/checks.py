"""Checks run before any training or data loading: the data is there, the model fits in memory.

Used by ``commsldr train`` and by scenario validation (``commsldr run --check``), so a run that
cannot finish is refused up front with the estimate instead of failing after work started.

This module imports no torch at import time (scenario validation and ``commsldr train`` use it
before any work); its three functions that need torch or the dataset code import it inside.
"""

from __future__ import annotations

import os
from pathlib import Path

from commsldr.train.config import TrainConfig, TrainConfigError

__all__ = ["available_memory_bytes", "check_data_available", "check_model_fits",
           "estimate_model_bytes", "test_set_size"]

_CIFAR_DIRS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
_CLASSES = {"synthetic": 10, "cifar10": 10, "cifar100": 100}
_CIFAR_TEST = 10_000


def available_memory_bytes() -> int:
    """Physical memory of this machine in bytes (``sysconf``; 16 GiB if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16 << 30


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def estimate_model_bytes(config: TrainConfig, num_classes: int = 10) -> tuple[int, int]:
    """``(parameters, bytes)`` of training ``config``'s model.

    The model is built on PyTorch's ``meta`` device (shapes only, nothing allocated); training
    holds each float32 parameter about 4 times (weights, gradients, two optimizer moments), and the
    coding-rate loss a few ``d x d`` matrices (``d`` = ``side_dim`` or ``latent_dim``).
    """
    import torch

    from commsldr.models import SplitAutoencoder

    d = config.model.side_dim or config.model.latent_dim
    # cheap lower bound first: the latent layer (hidden 512 -> d) and one 3x3 convolution of
    # 16 w -> 16 w channels, which every backbone has; past the memory it is estimate enough
    n = int(512 * config.model.latent_dim + 9 * (16 * config.model.width) ** 2)
    if 16 * n + 32 * d * d > available_memory_bytes():
        return n, 16 * n + 32 * d * d
    # convolution weights grow as width^2: above width 8 scale the count at width 1
    width = config.model.width if config.model.width <= 8 else 1.0
    with torch.device("meta"):
        model = SplitAutoencoder(config.model.backbone, config.model.latent_dim, num_classes,
                                 config.model.side_dim, width=width)
    n = sum(p.numel() for p in model.parameters())
    if width != config.model.width:
        n = int(n * (config.model.width / width) ** 2)
    return n, 16 * n + 32 * d * d


def check_model_fits(config: TrainConfig, num_classes: int = 10,
                     memory_bytes: int | None = None) -> None:
    """Refuse a model whose training would need more than half this machine's memory."""
    limit = (memory_bytes or available_memory_bytes()) // 2
    d = config.model.side_dim or config.model.latent_dim
    w = max(1.0, config.model.width)
    # generous upper bound (ResNet-34 has 21.8 M parameters at width 1; latent layers at most
    # 65536 w parameters per latent entry): below the limit, skip building the model
    if 16 * (25e6 * w * w + 65536 * w * config.model.latent_dim) + 32 * d * d <= limit:
        return
    try:
        n, need = estimate_model_bytes(config, num_classes)
    except (ValueError, RuntimeError, OverflowError) as e:
        raise TrainConfigError("width", f"latent_dim={config.model.latent_dim}, width={config.model.width:g} "
                                        f"give a model too large to build ({type(e).__name__})"
                                        ) from None
    if need > limit:
        key = "width" if config.model.width > 4 and config.model.latent_dim <= 4096 else "latent_dim"
        raise TrainConfigError(key, f"latent_dim={config.model.latent_dim}, width={config.model.width:g}: "
                                    f"training needs an estimated {_gb(need)} ({n:,} parameters) "
                                    f"but half of this machine's memory is {_gb(limit)}")


def _torchvision_root(config: TrainConfig) -> Path:
    from commsldr.data.datasets import cache_dir

    return Path(config.data.root).expanduser() if config.data.root else cache_dir() / "torchvision"


def check_data_available(config: TrainConfig) -> None:
    """The dataset can be loaded without surprises: raise :class:`TrainConfigError` naming
    ``data_root``/``download``/``dataset`` otherwise (no download is attempted)."""
    if config.data.dataset == "imagefolder":
        if config.data.root is None:
            raise TrainConfigError("data_root", "required for dataset imagefolder (a folder "
                                                "with train/ and test/ class sub-folders)")
        root = Path(config.data.root).expanduser()
        for split in ("train", "test"):
            if not (root / split).is_dir():
                raise TrainConfigError("data_root", f"{root} has no {split}/ folder (imagefolder "
                                                    f"needs train/ and test/ class sub-folders)")
    elif config.data.dataset in _CIFAR_DIRS:
        root = _torchvision_root(config)
        if not config.data.download and not (root / _CIFAR_DIRS[config.data.dataset]).is_dir():
            raise TrainConfigError("download", f"{config.data.dataset} is not under {root} (no "
                                               f"{_CIFAR_DIRS[config.data.dataset]}/) and download is "
                                               f"off; give the folder that holds it as data_root, "
                                               f"or allow the download (needs internet)")
    elif config.data.root is not None and not Path(config.data.root).expanduser().is_dir():
        raise TrainConfigError("data_root", f"no such directory: {config.data.root}")


def test_set_size(config: TrainConfig) -> int | None:
    """Number of test images ``config`` evaluates on, without loading them (``None``: unknown)."""
    from commsldr.data.datasets import SYNTHETIC_DEFAULT_SIZE

    per = config.data.test_num_per_class
    if config.data.dataset == "synthetic":
        return 10 * (per or SYNTHETIC_DEFAULT_SIZE["test"])
    if config.data.dataset in _CIFAR_DIRS:
        classes = _CLASSES[config.data.dataset]
        return min(_CIFAR_TEST, classes * per) if per else _CIFAR_TEST
    root = Path(config.data.root or "").expanduser() / "test"
    if not root.is_dir():
        return None
    total = 0
    for d in root.iterdir():
        if d.is_dir():
            n = sum(1 for f in d.iterdir() if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
            total += min(n, per) if per else n
    return total


