"""Documented ranges of a scenario's numbers: every accepted scenario runs or stops with a user
error, never overflows into an internal error or NaN results.

:func:`check_bounds` runs on the raw mapping of every sweep point before the typed parsing,
:func:`check_ranges` after it (the schema names wrong types and values below a field's minimum
first):

* **Named quantities** (:data:`SCENARIO_BOUNDS`): frames, seeds, data sizes, the link's frame
  length, bandwidth, retransmission counts, analog repeats, quantization scales, ...
* **Every other number** anywhere in the scenario (open parameters of channels, policies, CSI
  models, PHYs and schemes included): magnitude at most :data:`MAX_MAGNITUDE`; a number too
  large for a float (``frames: 1e400`` written as an integer) is refused by name.
* **Numbers written as text**: a string where a named quantity or a PHY parameter needs a
  number (``bandwidth_hz: "1e5"``) gets a message saying how to write it. (Unquoted, ``1e5`` is
  a number: the scenario loader reads YAML 1.2 floats, :mod:`commsldr.scenario.files`.)

Channel parameters are also bounded by the channel models themselves
(``commsldr_channels._validate.BOUNDS``: SNR in [-200, 200] dB, speeds up to 10 km/s, ...), and
the ``--set`` key depth by :data:`MAX_KEY_DEPTH`.
"""

from __future__ import annotations

import math
import re

from commsldr.errors import show
from commsldr.scenario.schema import ScenarioError, YAMLValue
from commsldr.train.checks import available_memory_bytes

__all__ = ["MAX_KEY_DEPTH", "MAX_MAGNITUDE", "SCENARIO_BOUNDS", "check_bounds", "check_key_depth",
           "check_ranges"]

#: largest magnitude of any number in a scenario outside :data:`SCENARIO_BOUNDS`
MAX_MAGNITUDE = 1e15
#: most parts of a dotted key (``--set a.b.c=...``, sweep keys): the YAML nesting limit
MAX_KEY_DEPTH = 32

#: bytes per synthetic image while it is generated (3 x 32 x 32 pixels, float32, twice)
SYNTHETIC_IMAGE_BYTES = 3 * 32 * 32 * 8

#: dotted path (``[]``: every list entry) -> (low, high, integer?)
SCENARIO_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "frames": (1, 10**9, True),
    "seeds[]": (0, 2**63 - 1, True),
    "data.train_per_class": (1, 10**6, True),
    "data.test_per_class": (1, 10**6, True),
    "link.frame_s": (1e-9, 1e3, False),
    "link.bandwidth_hz": (1.0, 1e12, False),
    "link.max_attempts": (1, 1000, True),
    "link.deadline_frames": (1, 10**6, True),
    "link.packet_interval_frames": (1, 10**6, True),
    "link.snr_gap_db": (0.0, 100.0, False),
    "analog.repeats": (1, 1000, True),
    "analog.symbols_per_entry": (0.5, 1e3, False),
    "analog.k": (1, 10**5, True),
    "coding.scales[]": (1e-6, 1e6, False),
    "model.truncations[]": (1, 10**5, True),
    "outputs.timeline_frames": (1, 10**6, True),
    "paper_figures.entropy_targets[]": (1e-3, 1e6, False),
}
_NUMERIC_TEXT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def check_key_depth(key: str, where: str = "--set") -> None:
    """Refuse a dotted key of more than :data:`MAX_KEY_DEPTH` parts (before anything nests)."""
    depth = key.count(".") + 1
    if depth > MAX_KEY_DEPTH:
        raise ScenarioError(where, f"the key {show(key, 60)} nests {depth} levels; at most "
                                   f"{MAX_KEY_DEPTH} are allowed")


def _text_hint(value: str) -> str:
    if _NUMERIC_TEXT.match(value):
        return " (a number in quotes is text: write it without quotes, e.g. 1.0e+5 or 1e5)"
    return ""


def _check_named(key: str, value: YAMLValue, lo: float, hi: float, integer: bool) -> None:
    if isinstance(value, str):
        raise ScenarioError(key, f"expected a number, got {show(value)}{_text_hint(value)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # the typed parsing names the wrong type
    if integer and isinstance(value, float):
        return  # "expected an integer" comes from the typed parsing
    if not lo <= value <= hi:
        shown = (f"{value:g}" if isinstance(value, float) else show(value) if abs(value) < 10**30
                 else "an integer of more than 30 digits")
        raise ScenarioError(key, f"must be in [{lo:g}, {hi:g}], got {shown}")


def _walk(value: YAMLValue, key: str) -> None:
    """Every number anywhere: representable as a float, magnitude <= MAX_MAGNITUDE."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if key == "seeds" or key.startswith("seeds["):
            return  # bounded by SCENARIO_BOUNDS
        if abs(value) > MAX_MAGNITUDE:
            shown = show(value) if abs(value) < 10**30 else "an integer of more than 30 digits"
            raise ScenarioError(key, f"{shown} is out of range; numbers in a scenario are at "
                                     f"most {MAX_MAGNITUDE:g} in magnitude")
    elif isinstance(value, float):
        if math.isfinite(value) and abs(value) > MAX_MAGNITUDE:
            raise ScenarioError(key, f"{value:g} is out of range; numbers in a scenario are at "
                                     f"most {MAX_MAGNITUDE:g} in magnitude")
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{key}[{i}]")


def _get(raw: YAMLValue, parts: list[str]) -> YAMLValue:
    node = raw
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_bounds(raw: dict[str, YAMLValue]) -> None:
    """Before the typed parsing: every number anywhere is representable and at most
    :data:`MAX_MAGNITUDE` in magnitude, PHY parameters are not numbers written as text, and the
    synthetic data fits in memory. Raises :class:`ScenarioError` naming the dotted key."""
    link = raw.get("link")
    if isinstance(link, dict):  # PHY parameters: a quoted or dot-less number is text
        for k, v in link.items():
            numeric_key = k.endswith(("_hz", "_s", "_db", "_bits"))
            if isinstance(v, str) and numeric_key and _NUMERIC_TEXT.match(v):
                raise ScenarioError(f"link.{k}", f"expected a number, got {show(v)}"
                                                 f"{_text_hint(v)}")
    _walk(raw, "")
    _check_synthetic_size(raw)


def check_ranges(raw: dict[str, YAMLValue]) -> None:
    """After the typed parsing (which names wrong types and values below a field's minimum):
    the named quantities of :data:`SCENARIO_BOUNDS` lie in their documented ranges."""
    for path, (lo, hi, integer) in SCENARIO_BOUNDS.items():
        if path.endswith("[]"):
            values = _get(raw, path[:-2].split("."))
            if isinstance(values, list):
                for i, v in enumerate(values):
                    _check_named(f"{path[:-2]}[{i}]", v, lo, hi, integer)
        else:
            v = _get(raw, path.split("."))
            if v is not None:
                _check_named(path, v, lo, hi, integer)


def _check_synthetic_size(raw: dict[str, YAMLValue]) -> None:
    data = raw.get("data")
    if not isinstance(data, dict) or data.get("dataset", "synthetic") != "synthetic":
        return
    sizes = [data.get(k) for k in ("train_per_class", "test_per_class")]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in sizes):
        return
    need = 10 * sum(sizes) * SYNTHETIC_IMAGE_BYTES
    half = available_memory_bytes() // 2
    if need > half:
        raise ScenarioError("data", f"{sum(sizes)} synthetic images per class need an estimated "
                                    f"{need / 2**30:.3g} GiB ({SYNTHETIC_IMAGE_BYTES} bytes per "
                                    f"image) but half of this machine's memory is "
                                    f"{half / 2**30:.3g} GiB; lower data.train_per_class / "
                                    f"data.test_per_class")
