"""Import Sionna without disturbing torch's global RNG (``import sionna.phy`` re-seeds it)."""

from __future__ import annotations

import functools
from typing import Any

import torch


@functools.lru_cache(maxsize=1)
def sionna_phy() -> Any:
    """``sionna.phy`` (with ``fec``, ``mapping``, ``nr`` and ``sionna.sys`` loaded), imported with
    torch's global RNG state saved and restored."""
    state = torch.random.get_rng_state()
    import sionna.phy
    import sionna.phy.fec.crc  # noqa: F401
    import sionna.phy.fec.ldpc  # noqa: F401
    import sionna.phy.mapping  # noqa: F401
    import sionna.phy.nr.utils  # noqa: F401
    import sionna.sys  # noqa: F401

    torch.random.set_rng_state(state)
    return sionna.phy
