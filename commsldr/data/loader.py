"""Mini-batches straight from an in-memory uint8 tensor (no per-image Python work)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from .augment import Augment
from .tensors import DEFAULT_MEAN, DEFAULT_STD, ImageTensors, to_float

__all__ = ["BatchLoader"]


class BatchLoader:
    """Iterate over ``data`` in mini-batches of normalised float images.

    Each iteration (epoch) draws a fresh permutation from ``generator`` when ``shuffle`` is true,
    and, when ``augment`` is given, augments each batch with the same ``generator``; so the
    sequence of batches is a deterministic function of the generator's state.

    Args:
        data: the images (``uint8``) and labels.
        batch_size: images per batch (>= 1).
        shuffle: draw a random order each epoch.
        generator: CPU :class:`torch.Generator` for the order and the augmentation (required when
            ``shuffle`` or ``augment`` is used).
        augment: optional :class:`Augment` applied per batch (it normalises itself).
        drop_last: drop a final incomplete batch.
        raw: yield the ``uint8`` images unchanged (e.g. to build LDR-SSL views with
            :func:`~commsldr.data.make_views`); ``augment`` must then be ``None``.
        mean: per-channel mean for :func:`~commsldr.data.to_float` (when not augmenting).
        std: per-channel standard deviation for :func:`~commsldr.data.to_float`.
        device: move each batch there (the images stay on the CPU).

    Iterating yields ``(x, y)``: ``x float32 [B, 3, H, W]`` (``uint8`` with ``raw=True``) and
    ``y int64 [B]``.

    Example:
        >>> from commsldr.data import make_synthetic
        >>> loader = BatchLoader(make_synthetic(3, seed=0), 8, shuffle=False, generator=None)
        >>> x, y = next(iter(loader))
        >>> len(loader), x.shape, y.dtype
        (4, torch.Size([8, 3, 32, 32]), torch.int64)
    """

    def __init__(
        self,
        data: ImageTensors,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None,
        augment: Augment | None = None,
        drop_last: bool = False,
        raw: bool = False,
        mean: Sequence[float] = DEFAULT_MEAN,
        std: Sequence[float] = DEFAULT_STD,
        device: torch.device | str | None = None,
    ) -> None:
        if not isinstance(data, ImageTensors):
            raise TypeError("data must be an ImageTensors")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if (shuffle or augment is not None) and not isinstance(generator, torch.Generator):
            raise ValueError("generator (a torch.Generator) is required when shuffle or augment is used")
        if raw and augment is not None:
            raise ValueError("raw=True yields uint8 images; pass augment=None")
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.augment = augment
        self.drop_last = drop_last
        self.raw = raw
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.device = device

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(x, y)`` batches (a new order each call when shuffling)."""
        n = len(self.data)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for i in range(len(self)):
            sl = slice(i * self.batch_size, min((i + 1) * self.batch_size, n))
            if order is None:
                xb, yb = self.data.images[sl], self.data.labels[sl]
            else:
                idx = order[sl]
                xb, yb = self.data.images[idx], self.data.labels[idx]
            if self.raw:
                x = xb
            elif self.augment is not None:
                assert self.generator is not None
                x = self.augment(xb, self.generator)
            else:
                x = to_float(xb, self.mean, self.std)
            if self.device is not None:
                x, yb = x.to(self.device), yb.to(self.device)
            yield x, yb
