"""The ε convention pinned by a worked example: ``eps_sq`` is ε² (the authors' code's ``eps``).

Three unit-norm features in d = 2 (rows), N = 3, classes Π = {z1, z2}, {z3}:

    z1 = (1, 0), z2 = (0, 1), z3 = (0.6, 0.8)
    M = Z Zᵀ = Σ z_i z_iᵀ = [[1.36, 0.48], [0.48, 1.64]],  tr M = 3, det M = 2

With the paper's ε = 1/√2 (ε² = 0.5), c = d / (ε² N) = 2 / 1.5 = 4/3 and
det(I + c M) = 1 + c tr M + c² det M = 1 + 4 + 32/9 = 77/9, so R = ½ log(77/9).
Class {z1, z2}: Z₀Z₀ᵀ = I, c₀ = 2 / (0.5 · 2) = 2, logdet = 2 log 3, weight 2/(2·3) = 1/3.
Class {z3}: rank one with trace 1, c₁ = 2 / (0.5 · 1) = 4, logdet = log 5, weight 1/6.
So Rc = (2/3) log 3 + (1/6) log 5 and L_LDR = −R + Rc (natural logarithms, nats).

Reading 0.5 as ε instead (ε² = 0.25) doubles c: det = 1 + 8 + 128/9 = 209/9 — a different R.
"""

from __future__ import annotations

import math

import pytest
import torch

from commsldr.losses import class_coding_rate, coding_rate, ldr_loss
from commsldr.train import TrainConfig
from commsldr.train.recipes import duphil_phases

Z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=torch.float64)
LABELS = torch.tensor([0, 0, 1])
R_BY_HAND = 0.5 * math.log(77 / 9)
RC_BY_HAND = (2 / 3) * math.log(3) + (1 / 6) * math.log(5)


def test_rate_by_hand_with_eps_sq_half():
    assert float(coding_rate(Z, eps_sq=0.5)) == pytest.approx(R_BY_HAND, abs=1e-12)
    assert float(class_coding_rate(Z, LABELS, 2, eps_sq=0.5)) == pytest.approx(RC_BY_HAND, abs=1e-12)
    terms = ldr_loss(Z, LABELS, 2, eps_sq=0.5)
    assert float(terms.loss) == pytest.approx(-R_BY_HAND + RC_BY_HAND, abs=1e-12)


def test_eps_sq_is_epsilon_squared_not_epsilon():
    eps = 1 / math.sqrt(2)  # the paper's ε for the authors' eps = 0.5
    assert float(coding_rate(Z, eps_sq=eps**2)) == pytest.approx(R_BY_HAND, abs=1e-12)
    # passing ε itself (0.707) or squaring 0.5 again gives other, hand-checked values
    assert float(coding_rate(Z, eps_sq=0.25)) == pytest.approx(0.5 * math.log(209 / 9), abs=1e-12)
    assert float(coding_rate(Z, eps_sq=0.5)) != pytest.approx(float(coding_rate(Z, eps_sq=eps)))


def test_the_configured_eps_sq_reaches_every_ldr_phase():
    cfg = TrainConfig.from_dict(dict(eps_sq=0.25, duphil_mode="phases"))
    assert {p.eps_sq for p in duphil_phases(cfg)} == {0.25}
    assert TrainConfig().ldr.eps_sq == 0.5  # the authors' --eps 0.5 ("eps squared")
