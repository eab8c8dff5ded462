"""The ``--device`` check shared by ``commsldr run`` and ``commsldr train``."""

from __future__ import annotations

__all__ = ["device_problem"]


def device_problem(text: str) -> str | None:
    """What stops ``--device TEXT`` from working on this machine (one line), or None.

    Allowed: ``cpu``, ``cuda`` and ``cuda:N`` with N one of this machine's CUDA devices.
    """
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        return f"--device {text!r}: not a device; allowed: cpu, cuda, cuda:N"
    if device.type not in ("cpu", "cuda"):
        return f"--device {text!r}: allowed: cpu, cuda, cuda:N"
    if device.type == "cpu":
        return None if device.index in (None, 0) else f"--device {text!r}: allowed: cpu"
    if not torch.cuda.is_available():
        return f"--device {text}: no CUDA device is available (use --device cpu)"
    count = torch.cuda.device_count()
    if device.index is not None and not 0 <= device.index < count:
        return f"--device {text}: this machine has CUDA devices 0 to {count - 1}"
    return None
