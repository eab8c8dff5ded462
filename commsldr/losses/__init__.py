"""MCR² coding-rate terms and the LDR / LDR-SSL losses (Qi et al. eqs. 1–2; Yu et al. 2020).

``eps_sq`` everywhere is ε² (the official MCR² code's ``eps``); see
:mod:`commsldr.losses.coding_rate`.
"""

from commsldr.losses.coding_rate import (
    DEFAULT_EPS_SQ,
    class_coding_rate,
    coding_rate,
    logdet_spd,
)
from commsldr.losses.ldr import LDRLoss, LDRTerms, ldr_loss, ldr_ssl_loss

__all__ = [
    "DEFAULT_EPS_SQ",
    "LDRLoss",
    "LDRTerms",
    "class_coding_rate",
    "coding_rate",
    "ldr_loss",
    "ldr_ssl_loss",
    "logdet_spd",
]
