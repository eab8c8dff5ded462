"""What a scheme is and what it hands to the simulator.

A **scheme** is what the sensor sends for one image: the split autoencoder's quantized latent,
a JPEG or WebP file, the label decided on the sensor, or analog channel symbols. A scheme turns
the data and the scenario's settings (:class:`SchemeContext`) into one of two products:

- :class:`DigitalProduct` — an :class:`~commsldr.link.OperatingPointTable` (exact packet bits
  and server correctness per operating point and test image) that the simulator and every
  adaptation policy already understand, plus the sensor's compute per operating point;
- :class:`AnalogProduct` — an evaluator that sends the images of a frame schedule through a
  symbol-level channel (``Channel.forward``) and says which ones the server classifies
  correctly (the network runs per realisation, as in :mod:`commsldr.link.analog`).

Sensor compute is counted in multiply–accumulates (MACs) per image: with
:func:`commsldr.schemes.cost.count_macs` for networks, with the stated estimate of
:func:`commsldr.schemes.cost.codec_macs` for the image codecs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from commsldr.cache import cache_root

__all__ = ["Scheme", "SchemeContext", "DigitalProduct", "AnalogProduct"]


@dataclass
class SchemeContext:
    """What a scheme may use; everything expensive is behind a callable and computed once.

    Attributes:
        data: ``() -> (train, test)`` :class:`~commsldr.data.ImageTensors`.
        model: ``() -> SplitAutoencoder``: the scenario's split model (untruncated), whose
            architecture and weights the baselines' networks derive from.
        train_config: the scenario's :class:`~commsldr.train.TrainConfig` (optimiser settings
            for the baselines' training; ``None`` for a checkpoint or shipped model, then the
            :class:`~commsldr.train.TrainConfig` defaults apply).
        cache_dir: trained baseline models go to ``<cache_dir>/models/``, tables to
            ``<cache_dir>/tables/`` (keyed by a hash of everything they depend on).
        crc_bits: packet CRC width.
        images_per_packet: every packet size ``m`` the run uses.
        channel_uses_per_frame: complex channel uses of one frame of the scenario's PHY
            (``None`` if the PHY does not say).
        channel_uses_per_image: what one image gets of a frame, ``channel_uses_per_frame /
            images_per_packet``.
        seed: the scenario's first seed (training, image grouping).
        dataset: the dataset name (recorded in tables).
        log: a ``print``-like function.
        progress: show progress bars.
        split_table: ``() -> OperatingPointTable`` of the split autoencoder (the runner's
            cached table), for the ``split-ae`` scheme.
        split_variants: ``() -> {k: model}``, its encoder variants.
    """

    data: Callable[[], tuple[Any, Any]]
    model: Callable[[], torch.nn.Module]
    train_config: Any = None
    cache_dir: Path = field(default_factory=cache_root)
    crc_bits: int = 16
    images_per_packet: Sequence[int] = (1,)
    channel_uses_per_frame: float | None = None
    channel_uses_per_image: float | None = None
    seed: int = 0
    dataset: str | None = None
    log: Callable[[str], Any] = print
    progress: bool = False
    split_table: Callable[[], Any] | None = None
    split_variants: Callable[[], dict[int, torch.nn.Module]] | None = None


@dataclass
class DigitalProduct:
    """An operating-point table and the sensor cost of each of its points.

    Attributes:
        table: the :class:`~commsldr.link.OperatingPointTable` (``P`` points).
        sensor_macs: ``float64 [P]`` multiply–accumulates the sensor spends per image.
        point_labels: ``P`` short names of the points (``"q=50"``, ``"k=32 s=1"``, ...).
        info: JSON-able facts for ``results.json`` (classifier, estimate used, ...).
    """

    table: Any
    sensor_macs: np.ndarray
    point_labels: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sensor_macs = np.asarray(self.sensor_macs, dtype=np.float64).reshape(-1)
        if self.sensor_macs.shape != (len(self.table),) or len(self.point_labels) != len(self.table):
            raise ValueError(f"sensor_macs and point_labels need one entry per point "
                             f"({len(self.table)})")


@dataclass
class AnalogProduct:
    """Analog transmission: an evaluator run on the scenario's channel realisations.

    Attributes:
        evaluate: ``(images uint8 [F, 3, H, W], channel, state, generator) -> int64 [F]``:
            image ``t`` is sent in frame ``t`` (one channel state per frame); returns the
            server's predicted labels (the caller compares them with the true labels).
        channel_uses_per_image: complex channel symbols per image.
        sensor_macs: multiply–accumulates the sensor spends per image.
        clean_accuracy: accuracy without channel noise (for reference).
        info: JSON-able facts for ``results.json``.
    """

    evaluate: Callable[..., np.ndarray]
    channel_uses_per_image: int
    sensor_macs: float
    clean_accuracy: float = float("nan")
    info: dict[str, Any] = field(default_factory=dict)


class Scheme(ABC):
    """Base class of schemes. Subclasses set ``kind`` and implement :meth:`prepare`; their
    constructor takes the scheme's parameters (validated there, ``ValueError`` naming the
    parameter) and the registry sets ``name``.
    """

    name: ClassVar[str] = ""
    #: ``"digital"`` (an operating-point table) or ``"analog"`` (an evaluator)
    kind: ClassVar[str] = "digital"

    @abstractmethod
    def prepare(self, ctx: SchemeContext) -> DigitalProduct | AnalogProduct:
        """Build (or load from the cache) what the simulator needs."""

    def params(self) -> dict[str, Any]:
        """The constructor parameters (for result files and cache keys)."""
        return {}

    def menu_points(self) -> list[tuple[int, float]] | None:
        """The ``(k, scale)`` of every operating point, known before :meth:`prepare` (so a
        scenario can check a ``fixed`` policy early); ``None`` if unknown or analog."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"
