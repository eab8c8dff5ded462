r"""The OFDM resources of one NR transmission: PRBs x OFDM symbols, DMRS and overhead, layers.

TS 38.214 Sec. 5.1.3.2 (PDSCH) and Sec. 6.1.4.2 (PUSCH) count the resource elements available
for data per PRB and slot as

.. math::
    N'_{RE} = 12\,N^{sh}_{symb} - N^{PRB}_{DMRS} - N^{PRB}_{oh},\qquad
    N_{RE} = \min(156, N'_{RE})\; n_{PRB},

and the transport block carries :math:`N_{info} = N_{RE} R Q_m \upsilon` information bits before
quantisation (:math:`\upsilon` layers); rate matching then fills all :math:`N'_{RE} n_{PRB}`
data REs (the cap only enters the TBS). :class:`Allocation` derives :math:`N_{RE}` from the
allocation (so the 156-RE cap and the DMRS overhead are never the caller's job) and says which
MCS tables apply:

* PUSCH with transform precoding (DFT-s-OFDM): TS 38.214 Tables 6.1.4.1-1/-2, one layer only
  (TS 38.211 Sec. 6.3.1.5: transform precoding is defined for a single layer; more is refused);
* PUSCH without transform precoding (CP-OFDM) and PDSCH: Tables 5.1.3.1-1/-2, 1-4 layers (one
  codeword). Sionna's BLER tables of PDSCH (category 1) hold these MCS, so the abstraction reads
  them for CP-OFDM PUSCH too (the AWGN curves depend on :math:`Q_m`, :math:`R` and the block
  size only).

:meth:`Allocation.pusch_config` builds the matching Sionna :class:`~sionna.phy.nr.PUSCHConfig`
for CP-OFDM PUSCH (the tests check that its coded bits and transport block size equal the
abstraction's; Sionna's PUSCHConfig does not implement transform precoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commsldr.errors import UserError

__all__ = ["Allocation", "AllocationError", "LINKS"]

LINKS = ("pusch", "pdsch")
_DMRS_RE_PER_SYMBOL = (4, 6, 8, 12)  # type 2 with 1-3 CDM groups without data: 4, 8, 12; type 1: 6, 12
_OVERHEAD = (0, 6, 12, 18)  # xOverhead (TS 38.331)


class AllocationError(UserError):
    """An allocation 3GPP does not allow (the key names the field)."""


@dataclass(frozen=True)
class Allocation:
    """Resources of one transmission (see the module docstring).

    Args:
        num_prb: allocated PRBs :math:`n_{PRB}` (1..275).
        num_symbols: OFDM symbols of the allocation in the slot :math:`N^{sh}_{symb}` (1..14).
        dmrs_symbols: DMRS symbols among them (1..4; 1 + additional positions, x2 for
            double-symbol DMRS).
        dmrs_re_per_symbol: REs per PRB of each DMRS symbol not available for data: 6 per CDM
            group without data (type 1: 6 or 12) or 4 (type 2: 4, 8 or 12). 12 (the default, 2
            CDM groups of type 1) is what PUSCH with transform precoding uses.
        overhead_re_per_prb: :math:`N^{PRB}_{oh}` (xOverhead: 0, 6, 12 or 18).
        num_layers: MIMO layers :math:`\\upsilon` (1..4, one codeword).
        link: ``"pusch"`` (the sensor's uplink) or ``"pdsch"``.
        transform_precoding: PUSCH only; ``None`` = on for one layer (the default uplink of this
            package), off for more.

    Example:
        >>> a = Allocation(num_prb=24, num_symbols=14, dmrs_symbols=2)
        >>> a.re_per_prb, a.num_re, a.mcs_category
        (144, 3456, 0)
        >>> Allocation(num_prb=10, num_symbols=14, dmrs_symbols=1, dmrs_re_per_symbol=6).re_per_prb
        156
    """

    num_prb: int = 24
    num_symbols: int = 14
    dmrs_symbols: int = 2
    dmrs_re_per_symbol: int = 12
    overhead_re_per_prb: int = 0
    num_layers: int = 1
    link: str = "pusch"
    transform_precoding: bool | None = None

    def __post_init__(self) -> None:
        for name, lo, hi in (("num_prb", 1, 275), ("num_symbols", 1, 14), ("dmrs_symbols", 1, 4),
                             ("num_layers", 1, 4)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise AllocationError(f"allocation.{name}", f"must be an integer in {lo}..{hi}, got {v!r}")
        if self.link not in LINKS:
            raise AllocationError("allocation.link", f"must be one of {list(LINKS)}, got {self.link!r}")
        if self.dmrs_symbols >= self.num_symbols:
            raise AllocationError("allocation.dmrs_symbols",
                                  f"{self.dmrs_symbols} DMRS symbols leave no data symbol in "
                                  f"{self.num_symbols} OFDM symbols")
        if self.dmrs_re_per_symbol not in _DMRS_RE_PER_SYMBOL:
            raise AllocationError("allocation.dmrs_re_per_symbol",
                                  f"must be one of {list(_DMRS_RE_PER_SYMBOL)}, got {self.dmrs_re_per_symbol!r}")
        if self.overhead_re_per_prb not in _OVERHEAD:
            raise AllocationError("allocation.overhead_re_per_prb",
                                  f"must be one of {list(_OVERHEAD)} (xOverhead), got {self.overhead_re_per_prb!r}")
        tp = self.transform_precoding
        if tp is not None and not isinstance(tp, bool):
            raise AllocationError("allocation.transform_precoding", f"must be true or false, got {tp!r}")
        if self.link == "pdsch" and tp:
            raise AllocationError("allocation.transform_precoding", "PDSCH has no transform precoding")
        if tp and self.num_layers > 1:
            raise AllocationError("allocation.transform_precoding",
                                  f"transform precoding allows 1 layer (TS 38.211 Sec. 6.3.1.5), "
                                  f"got num_layers = {self.num_layers}; use transform_precoding: false")
        if self.re_per_prb < 1:
            raise AllocationError("allocation", f"no data RE left per PRB (12 x {self.num_symbols} "
                                  f"- DMRS - overhead = {self.re_per_prb})")

    # ---------------------------------------------------------------- derived
    @property
    def uses_transform_precoding(self) -> bool:
        """Whether the transmission is DFT-s-OFDM (PUSCH, one layer, unless switched off)."""
        if self.link == "pdsch":
            return False
        return self.num_layers == 1 if self.transform_precoding is None else self.transform_precoding

    @property
    def dmrs_re_per_prb(self) -> int:
        """:math:`N^{PRB}_{DMRS}`: DMRS REs per PRB (``dmrs_symbols * dmrs_re_per_symbol``)."""
        return self.dmrs_symbols * self.dmrs_re_per_symbol

    @property
    def re_per_prb(self) -> int:
        """Data REs per PRB and layer, :math:`\\min(156, N'_{RE})` (TS 38.214 Sec. 5.1.3.2)."""
        return min(156, self.data_re_per_prb)

    @property
    def data_re_per_prb(self) -> int:
        """Data REs per PRB and layer actually mapped, :math:`N'_{RE}` (no cap: the 156-RE cap
        only enters the TBS, rate matching fills every data RE)."""
        return 12 * self.num_symbols - self.dmrs_re_per_prb - self.overhead_re_per_prb

    @property
    def num_data_re(self) -> int:
        """Data REs per layer actually carrying coded bits, :math:`N'_{RE}\\, n_{PRB}`."""
        return self.data_re_per_prb * self.num_prb

    @property
    def num_re(self) -> int:
        """Data REs per layer, :math:`N_{RE} = \\min(156, N'_{RE})\\, n_{PRB}`."""
        return self.re_per_prb * self.num_prb

    @property
    def num_re_all_layers(self) -> int:
        """:math:`N_{RE}\\,\\upsilon`: what :class:`~commsldr.link.nr.NRPHY` multiplies by
        :math:`Q_m` for the coded bits of the transport block."""
        return self.num_re * self.num_layers

    @property
    def mcs_category(self) -> int:
        """The MCS-table family: 0 = PUSCH with transform precoding (Tables 6.1.4.1-x), 1 = the
        Tables 5.1.3.1-x of PDSCH and of CP-OFDM PUSCH."""
        return 0 if self.uses_transform_precoding else 1

    def check_mcs_table(self, mcs_table_index: int) -> None:
        """Refuse MCS tables 3GPP (or Sionna's BLER tables) do not give this allocation."""
        allowed = (1, 2) if self.link == "pusch" else (1, 2, 3, 4)
        if int(mcs_table_index) not in allowed:
            kind = ("PUSCH with transform precoding" if self.uses_transform_precoding else
                    "CP-OFDM PUSCH" if self.link == "pusch" else "PDSCH")
            raise AllocationError("mcs_table_index",
                                  f"{kind} uses MCS tables {list(allowed)}, got {mcs_table_index!r}")

    @classmethod
    def parse(cls, value: Allocation | dict | None) -> Allocation | None:
        """From ``None``, a mapping of the fields or an instance."""
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise AllocationError("allocation", f"expected a mapping of {list(cls.__dataclass_fields__)}, "
                                  f"got {value!r}")
        unknown = set(value) - set(cls.__dataclass_fields__)
        if unknown:
            raise AllocationError("allocation", f"unknown key(s) {sorted(unknown)}; allowed: "
                                  f"{', '.join(cls.__dataclass_fields__)}")
        return cls(**value)

    def pusch_config(self, mcs_index: int, mcs_table_index: int = 1) -> Any:
        """The Sionna :class:`~sionna.phy.nr.PUSCHConfig` of this allocation (CP-OFDM PUSCH): the
        PRBs start at 0 of a BWP of ``num_prb`` PRBs, mapping type B from symbol 0, DMRS type 1
        with ``dmrs_re_per_symbol / 6`` CDM groups without data and ``dmrs_symbols - 1``
        additional positions."""
        if self.link != "pusch":
            raise AllocationError("allocation.link", "pusch_config needs link = 'pusch'")
        if self.uses_transform_precoding:
            raise AllocationError("allocation.transform_precoding",
                                  "Sionna's PUSCHConfig does not implement transform precoding; "
                                  "set transform_precoding: false for a CP-OFDM PUSCH config")
        from commsldr.link.sionna_guard import sionna_phy

        sionna_phy()
        from sionna.phy.nr import PUSCHConfig

        pc = PUSCHConfig()
        pc.carrier.n_size_grid = self.num_prb
        pc.n_size_bwp = self.num_prb
        pc.num_layers = self.num_layers
        pc.num_antenna_ports = self.num_layers
        pc.precoding = "codebook" if self.num_layers > 1 else "non-codebook"
        if self.num_layers > 1:
            pc.tpmi = 0
        pc.transform_precoding = False
        pc.mapping_type = "B"
        pc.symbol_allocation = [0, self.num_symbols]
        pc.dmrs.config_type = 1
        pc.dmrs.length = 1
        pc.dmrs.additional_position = self.dmrs_symbols - 1
        pc.dmrs.num_cdm_groups_without_data = self.dmrs_re_per_symbol // 6
        pc.tb.mcs_table = int(mcs_table_index)
        pc.tb.mcs_index = int(mcs_index)
        return pc
