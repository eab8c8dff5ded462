"""Channel models for commsldr (the folder ``channels/``, installed as the package ``commsldr_channels``).

Imports torch / numpy / scipy / sionna (lazily), never ``commsldr``.

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

from commsldr_channels.base import Channel, ChannelParameterError, LinkState
from commsldr_channels.registry import (
    ENTRY_POINT_GROUP,
    UnknownChannelError,
    channel_descriptions,
    create_channel,
    get_channel_class,
    list_channels,
    register_channel,
)

# Built-in models (importing a module registers its class).
from commsldr_channels.awgn import AWGN  # noqa: E402  isort: skip
from commsldr_channels.rayleigh_block import RayleighBlock  # noqa: E402  isort: skip
from commsldr_channels.rician_block import RicianBlock  # noqa: E402  isort: skip
from commsldr_channels.doppler_fading import DopplerFading  # noqa: E402  isort: skip
from commsldr_channels.pathloss_shadowing import PathlossShadowing  # noqa: E402  isort: skip
from commsldr_channels.gilbert_elliott import GilbertElliott  # noqa: E402  isort: skip
from commsldr_channels.trace import TraceCapacity  # noqa: E402  isort: skip
from commsldr_channels.trace_mahimahi import MahimahiTrace  # noqa: E402  isort: skip
from commsldr_channels.trace_csv import CSVTrace  # noqa: E402  isort: skip
from commsldr_channels.tdl import TDL  # noqa: E402  isort: skip

__all__ = [
    "LinkState",
    "Channel",
    "ChannelParameterError",
    "UnknownChannelError",
    "ENTRY_POINT_GROUP",
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
