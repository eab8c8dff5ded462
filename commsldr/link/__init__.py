"""commsldr.link: PHY abstractions, the link simulator, operating-point tables, analog transmission.

* PHYs (one interface, :class:`PHY`): :class:`ShannonPHY` (ideal capacity), :class:`NRPHY`
  (5G NR abstraction on Sionna SYS's BLER tables), :class:`BitTruePHY` (Sionna LDPC + QAM + the channel).
* :func:`build_table` / :class:`OperatingPointTable`: exact bits and correctness per
  (operating point, test image), saved with the model id.
* :func:`simulate`: frames over time, policy, PHY, fallback, retransmission; HARQ timing
  (RTT, parallel processes, re-picks) and the HARQ feedback hook in :mod:`commsldr.link.harq_loop`.
* :func:`transmit_end_to_end`: the full chain run for real (the table's ground truth).
* :mod:`commsldr.link.analog`: uncoded (analog) transmission of latents.

See the guide page "Link simulation".
"""

from commsldr.link.analog import AnalogScheme, analog_accuracy, finetune_decoder_with_noise
from commsldr.link.bittrue import BitTruePHY
from commsldr.link.e2e import EndToEndResult, transmit_end_to_end
from commsldr.link.harq_loop import HARQFeedback, HARQTiming
from commsldr.link.nr import NRPHY
from commsldr.link.phy import PHY, PHYResult, ShannonPHY
from commsldr.link.simulator import (
    FALLBACKS,
    CSIModelLike,
    PolicyLike,
    SimulationResult,
    TransmitterCSILike,
    frame_schedule,
    simulate,
    transmitter_csi_state,
)
from commsldr.link.table import (
    OperatingPoint,
    OperatingPointTable,
    build_table,
    classify_latents,
    encode_latents,
    make_coders,
)

__all__ = [
    "PHY",
    "PHYResult",
    "ShannonPHY",
    "NRPHY",
    "BitTruePHY",
    "OperatingPoint",
    "OperatingPointTable",
    "build_table",
    "make_coders",
    "encode_latents",
    "classify_latents",
    "FALLBACKS",
    "PolicyLike",
    "CSIModelLike",
    "TransmitterCSILike",
    "transmitter_csi_state",
    "SimulationResult",
    "frame_schedule",
    "simulate",
    "HARQTiming",
    "HARQFeedback",
    "EndToEndResult",
    "transmit_end_to_end",
    "AnalogScheme",
    "analog_accuracy",
    "finetune_decoder_with_noise",
]
