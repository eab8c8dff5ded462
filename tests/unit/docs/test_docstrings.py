"""Sphinx roles become Markdown for the API pages and plain text for ``commsldr describe``."""

from __future__ import annotations

from commsldr.cli.describe import describe
from commsldr.docstrings import ROLE, to_markdown, to_text

DOC = r"""Fading with :math:`E|h|^2 = 1`, see :class:`~commsldr_channels.base.Channel` and
:func:`commsldr.link.simulate`.

    .. math::
        \rho_t = \bar\rho |h_t|^2,\qquad \sigma \le 1

    Args:
        x: the :attr:`~a.B.c` of :mod:`numpy`, ``code`` stays.
"""


def test_markdown():
    md = to_markdown(DOC)
    assert "$E|h|^2 = 1$" in md
    assert "`Channel`" in md and "`commsldr.link.simulate`" in md and "`c`" in md
    assert "    $$\n    \\rho_t = \\bar\\rho |h_t|^2,\\qquad \\sigma \\le 1\n    $$\n" in md
    assert not ROLE.search(md) and ".. math::" not in md
    assert "``code``" in md


def test_text():
    text = to_text(DOC)
    assert "E|h|^2 = 1" in text and "Channel and\ncommsldr.link.simulate" in text
    assert "ρ_t = \\barρ |h_t|^2,   σ ≤ 1" in text
    assert not ROLE.search(text) and ".. math::" not in text and "``" not in text


def test_reference_with_title():
    assert to_markdown(":class:`the PHY <commsldr.link.PHY>`") == "`the PHY`"


def test_describe_shows_no_roles():
    for kind, name in [("channels", "doppler-fading"), ("channels", "gilbert-elliott"),
                       ("channels", "tdl"), ("phys", "nr")]:
        out = describe(kind, name)
        assert not ROLE.search(out), (kind, name)
        assert ".. math::" not in out
