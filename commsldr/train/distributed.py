"""Data-parallel training under ``torchrun`` (one process per device; gloo on CPU, NCCL on CUDA).

The trainer does not wrap the model in ``DistributedDataParallel`` because its steps update
different parameter subsets with different losses (frozen parts, an encoder step and a decoder
step per mini-batch). Instead it does what DDP does, explicitly:

* at the start of a phase the parameters and buffers of rank 0 are broadcast to every rank;
* every rank walks the **same** global order of mini-batches (the data-order generator is seeded
  identically on all ranks) and keeps the slice ``batch[rank::world_size]`` — the in-memory
  equivalent of ``DistributedSampler`` with a per-rank batch of ``batch_size / world_size``;
  augmentation draws come from a per-rank generator;
* after each backward pass the gradients of the step's parameters are averaged with one
  ``all_reduce`` over a flattened buffer (so the update equals the single-process update on
  the global batch for a mean-reduced loss);
* BatchNorm statistics are per rank during the epoch (as in DDP without SyncBatchNorm) and
  rank 0's buffers are broadcast at the end of every epoch;
* the LDR loss is computed on each rank's local slice (Π restricted to that slice);
* only rank 0 writes checkpoints, metrics and progress bars; evaluation is sharded and the
  correct counts are summed.

Run e.g. ``torchrun --nproc_per_node=2 -m commsldr.cli train --recipe ce``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistContext", "init_distributed"]


@dataclass(frozen=True)
class DistContext:
    """Rank and world size of this process (``world_size == 1``: plain single process)."""

    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Keep this rank's slice ``t[rank::world_size]`` of every tensor (a global batch)."""
        if not self.enabled:
            return tensors
        return tuple(t[self.rank :: self.world_size] for t in tensors)

    def average_gradients(self, params: Iterable[torch.nn.Parameter]) -> None:
        """All-reduce (mean) the gradients of ``params`` in one flattened buffer."""
        if not self.enabled:
            return
        grads = [p.grad for p in params if p.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        flat /= self.world_size
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset : offset + n].view_as(g))
            offset += n

    def broadcast_module(self, module: torch.nn.Module, *, buffers_only: bool = False) -> None:
        """Copy rank 0's parameters (unless ``buffers_only``) and buffers to every rank."""
        if not self.enabled:
            return
        tensors = list(module.buffers()) if buffers_only else list(module.state_dict().values())
        with torch.no_grad():
            for t in tensors:
                if t.is_floating_point() or t.dtype in (torch.int64, torch.int32):
                    dist.broadcast(t, src=0)

    def sum(self, values: list[float]) -> list[float]:
        """Sum a short list of numbers over ranks."""
        if not self.enabled:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


def init_distributed(device: torch.device) -> DistContext:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    Reads ``WORLD_SIZE`` and ``RANK``; with ``WORLD_SIZE`` unset or 1 nothing is initialised.
    The backend is NCCL for CUDA devices and gloo otherwise.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank=rank, world_size=world)
