"""Channel models for commsldr (the folder ``channels/``, installed as the package ``commsldr_channels``).

Imports torch / numpy / scipy / sionna (lazily), never ``commsldr``. Importing the package
imports only its registry (:mod:`commsldr_channels.registry`, no torch): the built-in models are
registered there by ``"module:Class"`` and their modules (and torch) load on first use, e.g. on
``create_channel`` or on ``from commsldr_channels import AWGN`` (PEP 562 module ``__getattr__``).

Example:
    >>> import torch
    >>> import commsldr_channels
    >>> ch = commsldr_channels.create_channel("rayleigh-block", mean_snr_db=10.0, coherence_frames=4)
    >>> state = ch.states(8, generator=torch.Generator().manual_seed(0))
    >>> state.snr_db.shape, state.gain.dtype
    (torch.Size([8]), torch.complex64)
"""

import os as _os

# OpenMP workers of PyTorch's CPU build wait passively so they do not starve other processes
# (see commsldr/__init__.py for the measurement). Set before torch is imported; a user's value wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from importlib import import_module as _import_module  # noqa: E402
from typing import TYPE_CHECKING as _TYPE_CHECKING  # noqa: E402
from typing import Any as _Any  # noqa: E402

from commsldr_channels.registry import (  # noqa: E402
    CHANNELS,
    ENTRY_POINT_GROUP,
    Registry,
    UnknownChannelError,
    channel_descriptions,
    create_channel,
    get_channel_class,
    list_channels,
    register_channel,
)

#: public names that live in modules importing torch, loaded on first access
_LAZY = {
    "LinkState": "commsldr_channels.base",
    "Channel": "commsldr_channels.base",
    "ChannelParameterError": "commsldr_channels.base",
    "AWGN": "commsldr_channels.awgn",
    "RayleighBlock": "commsldr_channels.rayleigh_block",
    "RicianBlock": "commsldr_channels.rician_block",
    "DopplerFading": "commsldr_channels.doppler_fading",
    "PathlossShadowing": "commsldr_channels.pathloss_shadowing",
    "GilbertElliott": "commsldr_channels.gilbert_elliott",
    "TraceCapacity": "commsldr_channels.trace",
    "MahimahiTrace": "commsldr_channels.trace_mahimahi",
    "CSVTrace": "commsldr_channels.trace_csv",
    "TDL": "commsldr_channels.tdl",
}

if _TYPE_CHECKING:
    from commsldr_channels.awgn import AWGN
    from commsldr_channels.base import Channel, ChannelParameterError, LinkState
    from commsldr_channels.doppler_fading import DopplerFading
    from commsldr_channels.gilbert_elliott import GilbertElliott
    from commsldr_channels.pathloss_shadowing import PathlossShadowing
    from commsldr_channels.rayleigh_block import RayleighBlock
    from commsldr_channels.rician_block import RicianBlock
    from commsldr_channels.tdl import TDL
    from commsldr_channels.trace import TraceCapacity
    from commsldr_channels.trace_csv import CSVTrace
    from commsldr_channels.trace_mahimahi import MahimahiTrace


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'commsldr_channels' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "LinkState",
    "Channel",
    "ChannelParameterError",
    "UnknownChannelError",
    "ENTRY_POINT_GROUP",
    "CHANNELS",
    "Registry",
    "register_channel",
    "create_channel",
    "get_channel_class",
    "list_channels",
    "channel_descriptions",
    "AWGN",
    "RayleighBlock",
    "RicianBlock",
    "DopplerFading",
    "PathlossShadowing",
    "GilbertElliott",
    "TraceCapacity",
    "MahimahiTrace",
    "CSVTrace",
    "TDL",
]
