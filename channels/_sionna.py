"""Lazy access to Sionna blocks driven by an explicit `torch.Generator`.

Sionna blocks draw from ``sionna.phy.config.torch_rng(device)``, a process-wide generator, and
``import sionna.phy`` re-seeds torch's global generator. Here (1) Sionna is imported on first use
with torch's global RNG state saved and restored, and (2) each block is subclassed so that its
``torch_rng`` is the generator the caller passed, keeping every draw on that generator.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

import torch


def import_rng_safe(*modules: str) -> None:
    """Import ``modules`` (dotted names) with torch's global RNG state, CPU and CUDA, saved and
    restored, so that ``import sionna.phy`` (which re-seeds it) leaves it untouched."""
    cpu_state = torch.random.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        torch.random.set_rng_state(cpu_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


@functools.lru_cache(maxsize=1)
def sionna_phy() -> Any:
    """Import ``sionna.phy`` without disturbing torch's global RNG state."""
    import_rng_safe("sionna.phy", "sionna.phy.channel", "sionna.phy.channel.tr38901")
    return importlib.import_module("sionna.phy")


def sionna_device(device: torch.device) -> str:
    """Sionna's device string ('cpu', 'cuda:0', ...) for a torch device."""
    if device.type == "cuda":
        return f"cuda:{device.index if device.index is not None else torch.cuda.current_device()}"
    return device.type


class _GeneratorMixin:
    """Replaces Sionna's ``torch_rng`` property by a generator set per call."""

    _explicit_generator: torch.Generator | None = None

    @property
    def torch_rng(self) -> torch.Generator:
        if self._explicit_generator is None:
            raise RuntimeError("no explicit generator set on this Sionna block")
        return self._explicit_generator


@functools.cache
def seeded_block_class(module: str, name: str) -> type:
    """Subclass of ``sionna.phy.<module>.<name>`` whose random draws use ``_explicit_generator``."""
    phy = sionna_phy()
    base = getattr(functools.reduce(getattr, module.split("."), phy), name)
    return type(f"Seeded{name}", (_GeneratorMixin, base), {})


def make_block(module: str, name: str, generator: torch.Generator, **kwargs: Any) -> Any:
    """Instantiate a seeded Sionna block on ``generator``'s device."""
    cls = seeded_block_class(module, name)
    block = cls(device=sionna_device(generator.device), **kwargs)
    block._explicit_generator = generator
    return block
