"""The table, channel and PHY of one channel of a scenario: what backs an environment.

``link_from_scenario("quickstart", "doppler", overrides=["channels.doppler.mean_snr_db=10"])``
resolves the scenario as ``commsldr run`` does (the same model and table caches) and returns the
pieces :class:`~commsldr.env.core.LinkBatch` takes, so any scenario channel and PHY can back the
environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from commsldr.env.core import EnvError
from commsldr.scenario import load_scenario
from commsldr.scenario.assets import prepare_table
from commsldr.scenario.load import channel_params, phy_class, phy_params
from commsldr_channels import create_channel

__all__ = ["ScenarioLink", "link_from_scenario"]


@dataclass(frozen=True)
class ScenarioLink:
    """What a scenario channel gives an environment (:class:`~commsldr.env.core.LinkBatch`)."""

    table: Any
    channel: Any
    phy: Any
    scenario: Any
    channel_label: str

    def env_kwargs(self) -> dict[str, Any]:
        """The scenario's link settings as :class:`LinkBatch` keyword arguments."""
        sc = self.scenario
        return {"images_per_packet": sc.link.images_per_packet, "fallback": sc.link.fallback,
                "frames": sc.frames}


def link_from_scenario(scenario: Any, channel: str | None = None,
                       overrides: Sequence[str] = (), *, point: int | None = None,
                       log: Any = print, progress: bool = True) -> ScenarioLink:
    """The table, channel model and PHY of channel ``channel`` of ``scenario``.

    The scenario's own settings with ``overrides`` applied, without its sweep (``point=i``: the
    settings of sweep point ``i`` instead). A ``--set`` of a swept key therefore takes effect
    (with a sweep, ``channels.doppler.mean_snr_db=10`` would be overwritten by the sweep's
    first value).

    Args:
        scenario: a scenario name, path or dict (as ``commsldr run`` takes it).
        channel: the channel label (default: the scenario's first channel).
        overrides: ``--set`` style ``key=value`` overrides.
        point: a sweep point's index, or None for the scenario without its sweep.

    Raises:
        EnvError: the channel label is not in the scenario (the message lists them).
    """
    loaded = load_scenario(scenario, list(overrides))
    if point is not None and not 0 <= point < len(loaded.points):
        raise EnvError("point", f"must be in [0, {len(loaded.points)}), got {point}")
    sc = loaded.scenario if point is None else loaded.points[point].scenario
    labels = list(sc.channels)
    label = labels[0] if channel is None else channel
    if label not in sc.channels:
        raise EnvError("channel", f"{label!r} is not a channel of scenario {sc.name!r}; "
                       f"channels: {labels}")
    table = prepare_table(loaded, log=log, progress=progress)
    ch = create_channel(sc.channels[label].type, **channel_params(sc, label))
    phy = phy_class(sc.link.phy)(**phy_params(sc))
    return ScenarioLink(table=table, channel=ch, phy=phy, scenario=sc, channel_label=label)
