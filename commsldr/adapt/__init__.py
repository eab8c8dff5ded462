"""Adaptation policies and CSI models.

A policy is bound to a :class:`PointMenu` (the operating points with their accuracy and packet
size) and, when it plans with the PHY, a :class:`LinkModel`; then ``reset()`` and one
``choose(csi)`` per frame. CSI models (:func:`create_csi_model`) produce the :class:`CSI` a
policy may see: perfect, delayed, noisy, or ACK/NACK only. :mod:`commsldr.adapt.metrics` turns
per-frame records into the metrics a study reports.
"""

from commsldr.adapt.csi import (
    CSI,
    AckNackCSI,
    CSIModel,
    DelayedCSI,
    NoisyCSI,
    PerfectCSI,
    create_csi_model,
    list_csi_models,
    register_csi_model,
)
from commsldr.adapt.menu import LinkModel, PointMenu
from commsldr.adapt.metrics import (
    PolicyMetrics,
    aggregate,
    bootstrap_interval,
    metrics_from_simulation,
    policy_metrics,
    wilson_interval,
)
from commsldr.adapt.policies import (
    CapacityGreedy,
    Fixed,
    Oracle,
    OutageAware,
    Policy,
    ScaleAndTruncation,
    ScaleOnly,
)
from commsldr.adapt.registry import create_policy, get_policy_class, list_policies, register_policy

__all__ = [
    "CSI",
    "CSIModel",
    "PerfectCSI",
    "DelayedCSI",
    "NoisyCSI",
    "AckNackCSI",
    "create_csi_model",
    "list_csi_models",
    "register_csi_model",
    "PointMenu",
    "LinkModel",
    "Policy",
    "Fixed",
    "ScaleOnly",
    "ScaleAndTruncation",
    "CapacityGreedy",
    "OutageAware",
    "Oracle",
    "register_policy",
    "create_policy",
    "list_policies",
    "get_policy_class",
    "PolicyMetrics",
    "policy_metrics",
    "aggregate",
    "metrics_from_simulation",
    "wilson_interval",
    "bootstrap_interval",
]
