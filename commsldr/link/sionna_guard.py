"""Import Sionna without disturbing torch's global RNG (``import sionna.phy`` re-seeds it).

The public way for the link layer and the cell (:mod:`commsldr.cell`) to reach Sionna:
``from commsldr.link.sionna_guard import sionna_phy``. The guard itself is the channels
package's :func:`commsldr_channels._sionna.import_rng_safe`; this module only names the Sionna
parts the link layer needs (FEC, mapping, NR utilities).
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from commsldr_channels._sionna import import_rng_safe

__all__ = ["sionna_phy"]


@functools.lru_cache(maxsize=1)
def sionna_phy() -> Any:
    """``sionna.phy`` (with ``fec``, ``mapping`` and ``nr`` loaded), imported with
    torch's global RNG state saved and restored."""
    import_rng_safe(
        "sionna.phy",
        "sionna.phy.fec.crc",
        "sionna.phy.fec.ldpc",
        "sionna.phy.mapping",
        "sionna.phy.nr.utils",
    )
    return importlib.import_module("sionna.phy")
