"""Bit-true PHY: 5G NR LDPC + QAM over the channel model's symbol-level ``forward``.

Transmitter (per frame): the packet's ``L`` bits are split into ``ceil(L / k)`` code blocks of
``k`` information bits (the last one zero-filled; the filler is known to the receiver), each block
is encoded by Sionna's :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` (base graph, lifting and rate
matching of TS 38.212) to ``n`` coded bits, and mapped to ``n / Q_m`` QAM symbols by
:class:`~sionna.phy.mapping.Mapper`. The frame's symbols go through ``channel.forward`` — the
channel package's model, :math:`y = h_t x + n` with :math:`n \\sim \\mathcal{CN}(0, N_0)`.

Receiver: perfect-CSI zero-forcing equalisation :math:`\\hat x = y / h_t` (noise variance
:math:`N_0/|h_t|^2 = 1/\\rho_t`, with :math:`\\rho_t` the frame's SNR), max-log-free APP demapping
(:class:`~sionna.phy.mapping.Demapper`, ``"app"``) and belief-propagation decoding
(:class:`~sionna.phy.fec.ldpc.LDPC5GDecoder`, 20 iterations by default). The packet is accepted
iff its CRC verifies. Everything is batched over the packets of all frames in one call.

Modulation order and code rate come from a 5G NR MCS (TS 38.214 tables, as for
:class:`commsldr.link.nr.NRPHY`: PUSCH with transform precoding), so the two PHYs can be
cross-validated: the abstraction's BLER tables were simulated by Sionna with the same encoder,
mapper and decoder over AWGN.

HARQ (``harq={"type": "chase" | "ir", "max_transmissions": N}``): a retransmission
(``deliver(..., retransmission=...)``) re-sends the same packet bits; with ``chase`` the encoder
sends redundancy version 0 again and the receiver adds the new LLRs to the stored ones before
decoding; with ``ir`` transmission :math:`i` sends redundancy version
``IR_RV_SEQUENCE[i % 4]`` (0, 2, 3, 1) of Sionna's 5G LDPC rate matching
(``LDPC5GEncoder(..., rv=[...])``) and the decoder (``harq_mode=True``) uses all received versions.
The receiver's soft buffer (the HARQ process) lives in this object until the packet is decoded,
a fresh packet is sent, or :meth:`reset`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from commsldr.errors import show
from commsldr.link.bler import TableNotAvailable, bler_model, check_table, mcs_parameters
from commsldr.link.harq import IR_RV_SEQUENCE, HARQConfig
from commsldr.link.phy import PHYResult, check_bits, state_array
from commsldr.link.sionna_guard import sionna_phy
from commsldr.scalars import check_integer
from commsldr_channels import Channel, LinkState

__all__ = ["CRC_DEGREES", "BitTruePHY"]

#: the CRCs of Sionna's ``CRCEncoder`` (TS 38.212 Sec. 5.1)
CRC_DEGREES = ("CRC24A", "CRC24B", "CRC24C", "CRC16", "CRC11", "CRC6")


class BitTruePHY:
    """Bit-true 5G LDPC + QAM PHY over a symbol-level channel model.

    Args:
        channel: a :class:`commsldr_channels.Channel` whose states define ``snr_db`` (symbol-level).
        mcs_index: 5G NR MCS index giving the modulation order ``Q_m`` and code rate ``R``.
        mcs_table_index: 3GPP MCS table index (default 1).
        mcs_category: 0 = PUSCH (default), 1 = PDSCH.
        cb_info_bits: information bits ``k`` per LDPC code block (12..8448; the abstraction's
            tables cover 24..2000, so cross-validation uses a size within that range).
        symbols_per_frame: QAM symbols (resource elements) available per frame; a packet whose
            code blocks need more is not sent (not delivered).
        num_iter: belief-propagation iterations of the LDPC decoder.
        crc_degree: the Sionna CRC (``"CRC16"``, ``"CRC24A"``, ...) that :meth:`deliver` appends
            to its random payloads (the last ``crc_bits`` bits of the packet, as in a real frame).
            :meth:`transmit_bytes` sends the caller's bytes as they are (they carry their own CRC).
        device: torch device of the Sionna blocks (``"cpu"`` by default).
        harq: ``None`` or ``{"type": "none" | "arq" | "chase" | "ir", "max_transmissions": N}``.

    Example:
        >>> from commsldr_channels import create_channel
        >>> phy = BitTruePHY(create_channel("awgn", snr_db=5.0), mcs_index=5, cb_info_bits=500)
        >>> ch = phy.channel
        >>> g = torch.Generator().manual_seed(0)
        >>> r = phy.deliver(np.array([1000, 1000]), ch.states(2, generator=g), g)
        >>> r.delivered.shape
        (2,)
    """

    def __init__(
        self,
        channel: Channel,
        mcs_index: int = 10,
        mcs_table_index: int = 1,
        mcs_category: int = 0,
        cb_info_bits: int = 1000,
        symbols_per_frame: int = 3456,
        num_iter: int = 20,
        crc_degree: str = "CRC16",
        device: str = "cpu",
        harq: HARQConfig | dict | None = None,
    ) -> None:
        if not isinstance(channel, Channel):
            raise TypeError(f"channel: expected a commsldr_channels.Channel, got {type(channel).__name__}")
        cb_info_bits = check_integer("cb_info_bits", cb_info_bits, low=12, high=8448)
        symbols_per_frame = check_integer("symbols_per_frame", symbols_per_frame, low=1)
        num_iter = check_integer("num_iter", num_iter, low=1)
        mcs_category = check_integer("mcs_category", mcs_category, low=0, high=1)
        mcs_table_index = check_integer("mcs_table_index", mcs_table_index, low=1)
        mcs_index = check_integer("mcs_index", mcs_index, low=0)
        if crc_degree not in CRC_DEGREES:
            raise ValueError(f"crc_degree: must be one of {', '.join(CRC_DEGREES)}, got "
                             f"{show(crc_degree)}")
        phy = sionna_phy()
        try:
            check_table(mcs_category, mcs_table_index)
        except TableNotAvailable as err:
            raise ValueError(str(err)) from None
        qms, rates = mcs_parameters(mcs_category, mcs_table_index)
        if not (mcs_index < 29 and qms[mcs_index] > 0):
            raise ValueError(f"mcs_index: {mcs_index} is not valid for table {mcs_table_index}")
        qm, rate = int(qms[mcs_index]), float(rates[mcs_index])
        self.harq = HARQConfig.parse(harq)
        self.channel = channel
        self.mcs_index = mcs_index
        self.mcs_table_index = mcs_table_index
        self.mcs_category = mcs_category
        self.num_bits_per_symbol = qm
        self.coderate = rate
        self.k = cb_info_bits
        # Coded bits per block: k / R rounded up to whole symbols (as Sionna's CodedAWGNChannelNR).
        self.n = int(math.ceil(self.k / self.coderate / self.num_bits_per_symbol)) * self.num_bits_per_symbol
        self.symbols_per_block = self.n // self.num_bits_per_symbol
        self.symbols_per_frame = symbols_per_frame
        self.max_blocks = self.symbols_per_frame // self.symbols_per_block
        if self.max_blocks < 1:
            raise ValueError(
                f"symbols_per_frame: {symbols_per_frame} symbols cannot hold one code block of "
                f"{self.symbols_per_block} symbols"
            )
        self.num_iter = num_iter
        #: drawn per frame by the simulator's loop (every LDPC run is real work)
        self.stateless = False
        self._bler = bler_model(self.mcs_category, self.mcs_table_index)
        self._device = device
        self._harq_processes: dict[int, dict] = {}  # soft buffers by HARQ process id
        fec = phy.fec
        self.encoder = fec.ldpc.LDPC5GEncoder(
            self.k, self.n, num_bits_per_symbol=self.num_bits_per_symbol, device=device
        )
        self.decoder = fec.ldpc.LDPC5GDecoder(
            self.encoder, hard_out=True, num_iter=self.num_iter, device=device
        )
        self._ir_decoder = None  # built on first IR retransmission (harq_mode=True)
        constellation = phy.mapping.Constellation("qam", self.num_bits_per_symbol, device=device)
        self.mapper = phy.mapping.Mapper(constellation=constellation, device=device)
        self.demapper = phy.mapping.Demapper("app", constellation=constellation, device=device)
        self.crc_encoder = fec.crc.CRCEncoder(crc_degree, device=device)
        self.crc_decoder = fec.crc.CRCDecoder(self.crc_encoder, device=device)
        self.crc_bits = int(self.crc_encoder.crc_length)

    # --------------------------------------------------------------- link model
    @property
    def frame_info_bits(self) -> int:
        """Information bits one frame carries: ``max_blocks * k``."""
        return self.max_blocks * self.k

    def capacity_bits(self, snr_db: float | np.ndarray) -> float | np.ndarray:
        """The fixed frame payload ``max_blocks * k`` (the MCS does not adapt), at any SNR."""
        if np.ndim(snr_db) == 0:
            return float(self.frame_info_bits)
        return np.full(np.shape(snr_db), float(self.frame_info_bits))

    def block_error_rate_model(self, snr_db: np.ndarray) -> np.ndarray:
        """Code-block error rate that the 5G NR abstraction (:mod:`commsldr.link.bler`) gives for
        this MCS and ``k`` over AWGN at ``snr_db`` (``float64``, same shape) — the model the
        sender plans with."""
        snr = np.asarray(snr_db, dtype=np.float64)
        return np.asarray(self._bler.bler(self.mcs_index, self.k, snr), dtype=np.float64)

    def success_probability(self, packet_bits: np.ndarray, snr_db: float) -> np.ndarray:
        """``(1 - BLER)^ceil(L/k)`` for packets that fit, else 0 (BLER from the NR tables)."""
        bits = np.atleast_1d(np.asarray(packet_bits, dtype=np.float64))
        blocks = np.ceil(bits / self.k)
        p_block = 1.0 - float(self.block_error_rate_model(np.array(float(snr_db))))
        return np.where((blocks <= self.max_blocks) & (bits > 0), p_block**blocks, 0.0)

    def frame_capacity_bits(self, state: LinkState) -> np.ndarray:
        """``max_blocks * k`` per frame (0 where erased), ``float64 [F]``."""
        n = len(state)
        cap = np.full(n, float(self.frame_info_bits))
        erased = state_array(state, "erased")
        return np.where(erased, 0.0, cap) if erased is not None else cap

    # --------------------------------------------------------------- bit level
    def reset(self) -> None:
        """Drop the HARQ soft buffer (the simulator calls it at the start of a simulation)."""
        self._harq_processes = {}

    def _llrs(
        self,
        left: torch.Tensor,
        num_blocks: torch.Tensor,
        state: LinkState,
        generator: torch.Generator,
        rv: int | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode (redundancy version ``rv``; ``None`` = 0), map, pass through the channel,
        equalise and demap.

        Args:
            left: float32 ``[Fi, W]`` with ``W = max_nb * k``: each frame's packet bits from
                position 0, zeros after (filler).
            num_blocks: int64 ``[Fi]`` code blocks of each frame (``>= 1``).
            state: the ``Fi`` frames' link state.

        Returns:
            ``(llr float32 [B, n], mask bool [Fi, max_nb])``: the LLRs of the ``B`` code blocks
            sent, in frame-major order, and which (frame, block) slots they fill.
        """
        fi, w = left.shape
        max_nb = w // self.k
        mask = torch.arange(max_nb, device=left.device)[None, :] < num_blocks[:, None]
        u = left.reshape(fi, max_nb, self.k)[mask]  # [B, k]
        c = self.encoder(u) if rv in (None, 0) else self.encoder(u, rv=[int(rv)])[..., 0, :]
        x = self.mapper(c)  # [B, S_b]
        frames = torch.zeros(fi, max_nb, self.symbols_per_block, dtype=x.dtype, device=x.device)
        frames[mask] = x
        y = self.channel.forward(frames.reshape(fi, -1), state, generator=generator)
        gain = state.gain.to(y.device) if state.gain is not None else None
        x_eq = y if gain is None else y / gain[:, None]
        no_eff = (1.0 / state.snr_linear.to(y.device))[:, None]
        llr = self.demapper(x_eq, no_eff).reshape(fi, max_nb, self.n)[mask]
        return llr, mask

    def _unpack(self, u_hat: torch.Tensor, mask: torch.Tensor, w: int) -> torch.Tensor:
        fi, max_nb = mask.shape
        out = torch.zeros(fi, max_nb, self.k, dtype=torch.float32, device=u_hat.device)
        out[mask] = u_hat.to(torch.float32)
        return out.reshape(fi, w)

    def _decode(self, llrs: list[torch.Tensor], rvs: list[int]) -> torch.Tensor:
        """Decode the code blocks from the LLRs of every copy received (``[B, n]`` each).

        One copy, or Chase (all RV 0): the LLRs are added. IR: the decoder in HARQ mode takes
        the stacked versions ``[B, num_rv, n]``.
        """
        if len(llrs) == 1 or all(r == 0 for r in rvs):
            return self.decoder(torch.stack(llrs).sum(0))
        if self._ir_decoder is None:
            self._ir_decoder = sionna_phy().fec.ldpc.LDPC5GDecoder(
                self.encoder, hard_out=True, num_iter=self.num_iter, harq_mode=True,
                device=self._device,
            )
        return self._ir_decoder(torch.stack(llrs, dim=-2), rv=list(rvs))

    def _send(
        self, left: torch.Tensor, num_blocks: torch.Tensor, state: LinkState, generator: torch.Generator
    ) -> torch.Tensor:
        """One transmission without combining: float32 ``[Fi, W]`` decoded bits (blocks that
        were not sent are zero); see :meth:`_llrs` for the arguments."""
        llr, mask = self._llrs(left, num_blocks, state, generator)
        return self._unpack(self.decoder(llr), mask, left.shape[1])

    def _rv(self, transmission: int) -> int:
        """Redundancy version of transmission ``transmission`` (0-based) of a packet."""
        if self.harq.type == "ir":
            return IR_RV_SEQUENCE[transmission % len(IR_RV_SEQUENCE)]
        return 0

    def block_errors_per_re(self, snr_db_re: np.ndarray, generator: torch.Generator) -> np.ndarray:
        r"""Bit-true code blocks over a frequency-selective link with per-RE SNRs.

        Each of ``B`` code blocks (``k`` random bits, no CRC: a block counts as received iff all
        its bits are right) is encoded, mapped, and its symbol ``j`` sent on a resource element
        with SNR ``snr_db_re[b, j]`` (after perfect-CSI equalisation: :math:`\hat x_j = x_j +
        n_j`, :math:`n_j \sim \mathcal{CN}(0, 1/\rho_j)`); the demapper gets each RE's own
        noise variance (per-RE LLRs), then the LDPC decoder.

        Input: ``snr_db_re`` float ``[B, S]`` (dB), ``S = symbols_per_block`` (map the block's
        symbols onto subcarriers/OFDM symbols as the caller's resource grid does).
        Output: bool ``[B]``, ``True`` where the block was decoded wrongly.
        """
        snr = torch.as_tensor(np.asarray(snr_db_re, dtype=np.float32))
        if snr.ndim != 2 or snr.shape[1] != self.symbols_per_block:
            raise ValueError(f"snr_db_re: expected [blocks, {self.symbols_per_block}], got "
                             f"{tuple(snr.shape)}")
        b = snr.shape[0]
        u = torch.randint(0, 2, (b, self.k), generator=generator).to(torch.float32).to(self._device)
        x = self.mapper(self.encoder(u))  # [B, S]
        no = torch.pow(10.0, -snr / 10.0).to(self._device)
        w = torch.complex(torch.randn(x.shape, generator=generator),
                          torch.randn(x.shape, generator=generator)).to(x.device)
        y = x + torch.sqrt(no / 2.0).to(x.device) * w
        u_hat = self.decoder(self.demapper(y, no))
        return ~(u_hat.to(torch.float32) == u).all(dim=1).cpu().numpy()

    def harq_loss_after(
        self,
        num_packets: int,
        snr_db: float | Sequence[float],
        generator: torch.Generator,
        max_transmissions: int | None = None,
    ) -> np.ndarray:
        """Bit-true HARQ over AWGN at ``snr_db`` (one value for every transmission, or one per
        transmission): ``bool [P, N]``, ``True`` where packet ``p`` (one code block of ``k``
        bits, CRC-free: a block counts as received iff all its bits are right) is still lost
        after ``n + 1`` of its ``N`` transmissions (``N = max_transmissions`` or the HARQ
        setting's). Packets stop at their first success, as with :meth:`deliver`."""
        nmax = int(max_transmissions or self.harq.transmissions)
        snrs = np.asarray(snr_db, dtype=np.float64).reshape(-1)
        if snrs.size == 1:
            snrs = np.full(nmax, snrs[0])
        if snrs.shape != (nmax,):
            raise ValueError(f"snr_db: one value or {nmax} (one per transmission), got {len(snrs)}")
        p = int(num_packets)
        u = torch.randint(0, 2, (p, self.k), generator=generator).to(torch.float32).to(self._device)
        nb = torch.ones(p, dtype=torch.int64, device=self._device)
        llrs: list[torch.Tensor] = []
        rvs: list[int] = []
        lost = np.ones((p, nmax), dtype=bool)
        alive = np.ones(p, dtype=bool)
        for i in range(nmax):
            state = LinkState(snr_db=torch.full((p,), float(snrs[i]), dtype=torch.float32))
            llr, _ = self._llrs(u, nb, state, generator, rv=self._rv(i))
            idx = np.flatnonzero(alive)  # only the packets still undecoded are decoded again
            if idx.size == 0:
                lost[:, i:] = False
                break
            sel = torch.as_tensor(idx, device=llr.device)
            if self.harq.combining:
                llrs.append(llr)
                rvs.append(self._rv(i))
                u_hat = self._decode([x[sel] for x in llrs], rvs)
            else:
                u_hat = self.decoder(llr[sel])
            ok = (u_hat.to(torch.float32) == u[sel]).all(dim=1).cpu().numpy()
            alive[idx[ok]] = False
            lost[:, i] = alive
        return lost

    def _plan(self, bits: np.ndarray, state: LinkState) -> np.ndarray:
        """Frames whose packet is sent: non-empty, fits the frame, not erased, and has an SNR."""
        if state.snr_db is None:
            raise ValueError("state: BitTruePHY needs a symbol-level state with snr_db")
        erased = state_array(state, "erased")
        blocks = -(-bits // self.k)
        send = (bits > 0) & (blocks <= self.max_blocks)
        return send & ~erased if erased is not None else send

    def _packets(self, lengths: torch.Tensor, generator: torch.Generator) -> dict:
        """Random packets of ``lengths [Fi]`` bits whose last ``crc_bits`` are a Sionna CRC over
        the rest, left-aligned (``left [Fi, W]``) with what the CRC check needs."""
        nb = -(-lengths // self.k)
        w = int(nb.max()) * self.k
        pos = torch.arange(w, device=self._device)[None, :]
        start = w - lengths[:, None]  # right-aligned: zeros, info, CRC
        info = torch.randint(0, 2, (lengths.shape[0], w - self.crc_bits), generator=generator)
        info = torch.where(pos[:, : w - self.crc_bits] >= start, info.to(self._device), 0)
        right = self.crc_encoder(info.to(torch.float32))  # [Fi, W]
        return {"left": _shift_left(right, start[:, 0], w), "nb": nb, "w": w, "start": start,
                "lengths": lengths, "pos": pos}

    def _crc_ok(self, pk: dict, left_hat: torch.Tensor) -> np.ndarray:
        left_hat = torch.where(pk["pos"] < pk["lengths"][:, None], left_hat, 0.0)
        _, valid = self.crc_decoder(_shift_right(left_hat, pk["start"][:, 0], pk["w"]))
        return valid.reshape(-1).cpu().numpy().astype(bool)

    def deliver(
        self,
        bits: np.ndarray,
        state: LinkState,
        generator: torch.Generator,
        *,
        csi_state: LinkState | None = None,
        retransmission: np.ndarray | None = None,
        harq_process: np.ndarray | None = None,
    ) -> PHYResult:
        """Send one random packet of ``bits[t]`` bits (the last ``crc_bits`` a Sionna CRC over the
        rest) per frame; delivered iff the decoded packet passes the CRC.

        The CRC of a packet shorter than the batch width is computed on the packet left-padded
        with zeros, which leaves a CRC without initial value unchanged (a linear code), so one
        Sionna CRC call checks packets of every length at once. ``csi_state`` is unused (fixed
        MCS). ``retransmission`` (``bool [F]``): with HARQ ``chase``/``ir``, frame ``t`` re-sends
        the packet lost in the previous transmission and the receiver combines (module
        docstring); frames are then processed one by one. ``harq_process`` (``int [F]``,
        default 0): the HARQ process (soft buffer) of each frame's transmission. An erased
        retransmission still uses up its redundancy version (zero LLRs: nothing received).

        Input:
            bits (``int64 [F]``, bits): packet size per frame.
            state (:class:`~commsldr_channels.LinkState`): the channel's ``F`` frames (``gain``
                complex64, ``snr_db`` dB) for the symbol-level channel's ``forward``.
            generator (``torch.Generator``): the payload bits and the channel noise.

        Output:
            :class:`~commsldr.link.phy.PHYResult`: ``delivered`` ``bool [F]`` (the decoded packet
            passes its CRC: 5G LDPC, 3GPP TS 38.212, + QAM over the channel), ``capacity_bits``
            ``float64 [F]``, ``channel_uses`` ``int64 [F]`` (QAM symbols), ``mcs_index`` ``int64 [F]``,
            ``error_prob`` ``float64 [F]``.
        """
        n = len(state)
        bits = check_bits(bits, n)
        if np.any((bits > 0) & (bits <= self.crc_bits)):
            raise ValueError(f"bits: a packet must be longer than its {self.crc_bits}-bit CRC")
        retx = np.zeros(n, bool) if retransmission is None else np.asarray(retransmission, bool)
        if retx.shape != (n,):
            raise ValueError(f"retransmission: expected shape ({n},), got {retx.shape}")
        send = self._plan(bits, state)
        delivered = np.zeros(n, dtype=bool)
        if self.harq.combining:
            pid = np.zeros(n, np.int64) if harq_process is None else np.asarray(harq_process, np.int64)
            if pid.shape != (n,):
                raise ValueError(f"harq_process: expected shape ({n},), got {pid.shape}")
            erased = state_array(state, "erased")
            for t in range(n):
                delivered[t] = self._deliver_harq(int(bits[t]), bool(send[t]), bool(retx[t]),
                                                  state[t], generator, int(pid[t]),
                                                  bool(erased is not None and erased[t]))
        else:
            idx = np.flatnonzero(send)
            if idx.size:
                pk = self._packets(torch.as_tensor(bits[idx], device=self._device), generator)
                left_hat = self._send(pk["left"], pk["nb"], state[torch.as_tensor(idx)], generator)
                delivered[idx] = self._crc_ok(pk, left_hat)
        return PHYResult(
            delivered=delivered,
            capacity_bits=self.frame_capacity_bits(state),
            channel_uses=np.full(n, self.symbols_per_frame, dtype=np.int64),
            mcs_index=np.full(n, self.mcs_index, dtype=np.int64),
            error_prob=np.full(n, np.nan),
        )

    def _deliver_harq(
        self, bits: int, send: bool, retx: bool, state: LinkState, generator: torch.Generator,
        pid: int = 0, erased: bool = False,
    ) -> bool:
        """One frame of HARQ process ``pid``: combine with its stored copies or start afresh."""
        proc = self._harq_processes.get(pid)
        if not send:
            if not retx:
                self._harq_processes.pop(pid, None)
            elif erased and proc is not None and proc["bits"] == bits and self.harq.type == "ir":
                proc["llrs"].append(torch.zeros_like(proc["llrs"][0]))  # its RV is used up
                proc["rvs"].append(self._rv(len(proc["rvs"])))
            return False
        if not (retx and proc is not None and proc["bits"] == bits):
            pk = self._packets(torch.as_tensor([bits], device=self._device), generator)
            proc = {"bits": bits, "pk": pk, "llrs": [], "rvs": []}
        rv = self._rv(len(proc["rvs"]))
        pk = proc["pk"]
        llr, mask = self._llrs(pk["left"], pk["nb"], state, generator, rv=rv)
        if self.harq.type == "chase" and proc["llrs"]:
            proc["llrs"] = [proc["llrs"][0] + llr]  # Chase: one accumulated soft buffer
            proc["rvs"].append(rv)
        else:
            proc["llrs"].append(llr)
            proc["rvs"].append(rv)
        rvs = proc["rvs"] if self.harq.type == "ir" else [0] * len(proc["llrs"])
        u_hat = self._decode(proc["llrs"], rvs)
        ok = bool(self._crc_ok(pk, self._unpack(u_hat, mask, pk["w"]))[0])
        if ok:
            self._harq_processes.pop(pid, None)
        else:
            self._harq_processes[pid] = proc
        return ok

    def transmit_bytes(
        self, packets: Sequence[bytes | None], state: LinkState, generator: torch.Generator
    ) -> list[bytes | None]:
        """Send real packet bytes (one packet per frame, ``None`` = nothing to send).

        Returns:
            the decoded bytes per frame — possibly corrupted; the caller's packet parser checks the
            CRC — or ``None`` where nothing was sent (no packet, erased frame, or too long).
        """
        n = len(state)
        if len(packets) != n:
            raise ValueError(f"packets: expected {n} packets (one per frame), got {len(packets)}")
        bits = np.array([0 if p is None else 8 * len(p) for p in packets], dtype=np.int64)
        send = self._plan(bits, state)
        out: list[bytes | None] = [None] * n
        idx = np.flatnonzero(send)
        if idx.size:
            nb_np = -(-bits[idx] // self.k)
            w = int(nb_np.max()) * self.k
            left = np.zeros((idx.size, w), dtype=np.float32)
            for row, f in enumerate(idx):
                left[row, : bits[f]] = np.unpackbits(np.frombuffer(packets[f], dtype=np.uint8))
            left_hat = self._send(
                torch.from_numpy(left).to(self._device),
                torch.as_tensor(nb_np, device=self._device),
                state[torch.as_tensor(idx)],
                generator,
            ).cpu().numpy()
            for row, f in enumerate(idx):
                hard = left_hat[row, : bits[f]].round().astype(np.uint8)
                out[f] = np.packbits(hard).tobytes()
        return out


def _shift_left(right: torch.Tensor, start: torch.Tensor, w: int) -> torch.Tensor:
    """Move each row's bits from ``[start, w)`` to ``[0, w - start)`` (zeros after)."""
    pos = torch.arange(w, device=right.device)[None, :]
    src = pos + start[:, None]
    return torch.where(src < w, right.gather(1, src.clamp_max(w - 1)), 0.0)


def _shift_right(left: torch.Tensor, start: torch.Tensor, w: int) -> torch.Tensor:
    """Inverse of :func:`_shift_left`: move ``[0, w - start)`` to ``[start, w)`` (zeros before)."""
    pos = torch.arange(w, device=left.device)[None, :]
    src = pos - start[:, None]
    return torch.where(src >= 0, left.gather(1, src.clamp_min(0)), 0.0)
