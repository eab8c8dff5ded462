"""What a run needs before it simulates: the model, the data, the operating-point table.

* **Model** — a checkpoint, a shipped pretrained model, or a training recipe run once and cached
  under ``<cache_dir>/models/<recipe>-<hash of the TrainConfig and the training environment>/``
  (truncated variants: plain :meth:`SplitAutoencoder.truncate`, or fine-tuned with the
  ``truncate`` recipe, also cached): :func:`obtain_model`.
* **Table** — :func:`commsldr.link.build_table` on the test set for every variant × scale and
  every packet size ``m`` the sweep uses; cached under ``<cache_dir>/tables/<hash>`` keyed by
  the model id and the coding settings; the split model's sensor MACs are stored with it:
  :func:`prepare_table`.
* **Caches** — an entry is built under its file lock (:func:`cache_lock`): two processes that
  need the same entry build it once. A complete entry is read without the lock (entries are
  written atomically and carry their own hash); a corrupt one is reported and rebuilt.

:mod:`commsldr.scenario.runner` and :mod:`commsldr.scenario.scheme_assets` both build on this
module; it imports neither.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import torch
from filelock import FileLock, Timeout

import commsldr
from commsldr._atomic import remove_stale_temp_files
from commsldr.cache import resolve_cache_dir
from commsldr.coding import LatentStats, compute_latent_stats, latent_stats_from_latents
from commsldr.data import load_labels
from commsldr.errors import UserError, show
from commsldr.link.table import OperatingPointTable, build_table, encode_latents
from commsldr.models import model_id
from commsldr.scenario.jobs import AnalogContext
from commsldr.scenario.load import (
    LoadedScenario,
    phy_class,  # noqa: F401  (re-exported for the runner)
    resolve_pretrained,
    train_config,
)
from commsldr.scenario.schema import Scenario
from commsldr.schemes.split_ae import encoder_macs
from commsldr.train import load_checkpoint, load_model, run_recipe
from commsldr.train import load_data as train_load_data
from commsldr.train import load_split as train_load_split

if TYPE_CHECKING:
    from commsldr.data import ImageTensors
    from commsldr.train import TrainConfig

__all__ = ["cache_lock", "model_cache_entry", "obtain_model", "prepare_table",
           "training_environment", "load_data", "load_split", "LazyTrain", "latent_stats",
           "analog_context", "load_cache_entry", "train_cached"]

#: a ``print``-like function for status lines
Log = Callable[[str], object]
T = TypeVar("T")


def _hash(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


@contextmanager
def cache_lock(entry: Path, log: Log = print) -> Iterator[None]:
    """Hold the file lock ``<entry>.lock`` of a cache entry (a model directory or a table).

    Two processes that need the same uncached entry build it once: the second waits here, then
    finds the entry in the cache. ``filelock`` locks are advisory, per file, and released when
    the holder exits (also when it is killed).
    """
    lock = FileLock(str(entry.parent / f"{entry.name}.lock"))
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except PermissionError:  # a read-only cache that lacks this entry
        raise UserError("model.cache_dir", f"the cache is read-only and lacks {entry} (it would "
                                           f"have to be built); make the cache writable or set "
                                           f"model.cache_dir to a writable directory") from None
    except Timeout:
        log(f"cache: waiting for {lock.lock_file} (another process is building {entry.name})")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def load_cache_entry(paths: list[Path], load: Callable[[], T], what: str, log: Log) -> T | None:
    """``load()`` a cache entry made of ``paths``; ``None`` if absent or corrupt.

    A corrupt entry (its content hash does not match: the model id of a checkpoint, the SHA-256
    of a table; or it cannot be read) is reported, deleted and left to be rebuilt.
    """
    if not paths[0].is_file():
        return None
    try:
        return load()
    except (ValueError, OSError, EOFError, RuntimeError, KeyError) as err:
        log(f"cache: {what} {paths[0]} is corrupt ({show(str(err), 160)}); rebuilding it")
        for p in paths:
            p.unlink(missing_ok=True)
        return None


def _load_quietly(paths: list[Path], load: Callable[[], T]) -> T | None:
    """``load()`` a complete cache entry without taking its lock; ``None`` if absent or unreadable.

    Entries are written atomically (a temporary file renamed into place), so a reader never sees
    a half-written one; a corrupt entry is left to the locked path, which reports and rebuilds it.
    A cached run therefore neither waits for nor even imports the lock.
    """
    if not all(p.is_file() for p in paths):
        return None
    try:
        return load()
    except (ValueError, OSError, EOFError, RuntimeError, KeyError):
        return None


def training_environment(device: str | None = None) -> dict[str, object]:
    """What changes trained weights besides the recipe's configuration.

    Training is *not* bit-identical across thread counts (the summation order of PyTorch's CPU
    kernels follows the thread partition), devices or PyTorch versions, and of course not across
    edits of the training code; so the model cache key covers all of them: the intra-op thread
    count, the device type, the torch version and a digest of the code of
    ``commsldr.{data,models,losses,train}`` (its syntax tree without docstrings, so that editing a
    comment or a docstring does not retrain).
    """
    root = Path(commsldr.__file__).parent
    h = hashlib.sha256()
    for sub in ("data", "models", "losses", "train"):
        for f in sorted((root / sub).glob("*.py")):
            tree = ast.parse(f.read_bytes())
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)
                        and isinstance(body[0].value.value, str)):
                    node.body = body[1:] or [ast.Pass()]
            h.update(f.name.encode() + b"\0" + ast.dump(tree).encode())
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return {"threads": torch.get_num_threads(), "device": torch.device(device).type,
            "torch": torch.__version__, "source": h.hexdigest()[:16]}


def _model_key_fields(cfg: TrainConfig) -> dict[str, object]:
    key_fields = {k: v for k, v in cfg.to_dict().items()
                  if k not in ("out", "progress", "resume", "device")}
    key_fields["environment"] = training_environment(cfg.to_dict().get("device"))
    return key_fields


def model_cache_entry(recipe: str, cfg: TrainConfig, cache_dir: Path) -> Path:
    """The cache directory of recipe ``recipe`` trained with ``TrainConfig`` ``cfg`` (in this
    process's :func:`training_environment`)."""
    return Path(cache_dir) / "models" / f"{recipe}-{_hash(_model_key_fields(cfg))}"


def train_cached(recipe: str, cfg: TrainConfig, cache_dir: Path, log: Log,
                 progress: bool = True) -> Path:
    key_fields = _model_key_fields(cfg)
    out = Path(cache_dir) / "models" / f"{recipe}-{_hash(key_fields)}"
    ckpt = out / "model.pt"
    if _load_quietly([ckpt], lambda: load_model(ckpt)) is not None:
        log(f"model: cached {ckpt}")
        return ckpt
    remove_stale_temp_files(out)
    with cache_lock(out, log):
        if load_cache_entry([ckpt], lambda: load_model(ckpt), "model", log) is not None:
            log(f"model: cached {ckpt}")
            return ckpt
        log(f"model: training recipe {recipe!r} → {out} (cached for later runs; "
            f"{key_fields['environment']['threads']} thread(s))")
        result = run_recipe(recipe, cfg.replace(out=str(out), progress=progress))
        (out / "environment.json").write_text(json.dumps(key_fields["environment"], indent=1))
        return Path(result.checkpoint_path)


def obtain_model(sc: Scenario, log: Log = print, progress: bool = True,
                 ) -> tuple[dict[int, torch.nn.Module], str]:
    """The encoder variants ``{k: model}`` of the scenario and a description of their source."""
    m = sc.model
    cache = resolve_cache_dir(m.cache_dir)
    if m.checkpoint is not None:
        ckpt, source = Path(m.checkpoint), f"checkpoint {m.checkpoint}"
    elif m.pretrained is not None:
        ckpt, source = resolve_pretrained(m.pretrained), f"pretrained {m.pretrained}"
    else:
        ckpt = train_cached(m.recipe or "ce", train_config(sc), cache, log, progress)
        source = f"recipe {m.recipe} ({ckpt})"
    model = load_model(ckpt).eval()
    variants: dict[int, torch.nn.Module] = {int(model.latent_dim): model}
    for k in m.truncations:
        if k >= model.latent_dim:
            raise ValueError(f"model.truncations: k={k} must be < latent_dim ({model.latent_dim})")
        if m.finetune_truncations:
            cfg = train_config(sc).replace(recipe="truncate", keep=int(k),
                                           from_checkpoint=str(ckpt))
            variants[int(k)] = load_model(
                train_cached("truncate", cfg, cache, log, progress)).eval()
        else:
            variants[int(k)] = model.truncate(int(k)).eval()
    return variants, source


def load_data(sc: Scenario, progress: bool = True) -> tuple[ImageTensors, ImageTensors]:
    return train_load_data(train_config(sc).replace(progress=progress))


def load_split(sc: Scenario, split: str, progress: bool = True) -> ImageTensors:
    """One split of the scenario's data (what :func:`load_data` returns for it), alone."""
    return train_load_split(train_config(sc).replace(progress=progress), split)


def _train_labels(sc: Scenario) -> torch.Tensor:
    """The training split's labels without decoding its images (the class prior needs no more)."""
    tc = train_config(sc)
    return load_labels(tc.data.dataset, "train", root=tc.data.root, download=tc.data.download,
                       num_per_class=tc.data.num_per_class, seed=tc.run.seed)


class LazyTrain:
    """The training split, loaded on first use (a scenario whose checkpoint stores the latent
    statistics never decodes it). Arguments of the call are ignored, so it also serves as
    :func:`commsldr.report.paper_figures.paper_figures`' ``train`` (a function of a train config)."""

    def __init__(self, sc: Scenario, progress: bool) -> None:
        self._sc, self._progress, self._data = sc, progress, None

    def __call__(self, *_ignored: object) -> ImageTensors:
        if self._data is None:
            self._data = load_split(self._sc, "train", self._progress)
        return self._data


def latent_stats(sc: Scenario, full: torch.nn.Module,
                 train: ImageTensors | Callable[[], ImageTensors], log: Log = print,
                 train_latents: torch.Tensor | None = None) -> LatentStats:
    """The training-set latent statistics of the scenario's full model: those stored in its
    checkpoint (``model.pretrained`` / ``model.checkpoint``) when they belong to exactly this
    model (same model id), else computed from ``train_latents`` (its training latents, when
    the caller has encoded them already) or by encoding the training set (``train``: the
    split, or a function returning it, called only then)."""
    m = sc.model
    path = (Path(m.checkpoint) if m.checkpoint is not None
            else resolve_pretrained(m.pretrained) if m.pretrained is not None else None)
    if path is not None:
        ck = load_checkpoint(path)
        if "latent_stats" in ck and ck.get("model_id") == model_id(full):
            log(f"latent statistics: stored in {path}")
            return LatentStats.from_dict(ck["latent_stats"])
    if train_latents is not None:
        return latent_stats_from_latents(train_latents)
    return compute_latent_stats(full, train() if callable(train) else train)


def prepare_table(loaded: LoadedScenario, *, log: Log = print, progress: bool = True,
                  device: str = "cpu") -> OperatingPointTable:
    """Build (or load from the cache) the operating-point table of a scenario.

    ``device``: where the network inference runs (``"cuda"`` needs a CUDA device). A table built
    on a GPU can differ from the CPU one where a latent lies on a quantization boundary within
    floating-point rounding, so it is cached under its own key. The build holds the entry's
    :func:`cache_lock`. ``table.meta["cache_key"]`` is the key (it identifies the table).
    """
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: no CUDA device is available (use cpu)")
    sc = loaded.scenario
    variants, source = obtain_model(sc, log, progress)
    full = variants[max(variants)]
    ms = sorted({p.scenario.link.images_per_packet for p in loaded.points})
    key_fields = {
        "model": model_id(full), "variants": {k: model_id(v) for k, v in variants.items()},
        "scales": sc.coding.scales, "rule": sc.coding.rule, "codec": sc.coding.codec,
        "crc_bits": sc.coding.crc_bits, "m": ms, "data": sc.data.__dict__, "format": 1,
    }
    if sc.coding.transform != "none":  # (absent for "none": earlier caches stay valid)
        key_fields["transform"] = sc.coding.transform
    if dev.type != "cpu":
        key_fields["device"] = dev.type
    key = _hash(key_fields)
    path = resolve_cache_dir(sc.model.cache_dir) / "tables" / key
    files = [path.with_suffix(".npz"), path.with_suffix(".json")]
    table = _load_quietly(files, lambda: OperatingPointTable.load(path, model_id=model_id(full)))
    if table is not None:
        log(f"table: cached {path}.npz")
    else:
        table = _locked_table(path, files, sc, variants, ms, dev, log, progress)
    table.meta["source"] = source
    table.meta["cache_key"] = key
    return table


def _locked_table(path: Path, files: list[Path], sc: Scenario,
                  variants: dict[int, torch.nn.Module], ms: list[int], dev: torch.device,
                  log: Log, progress: bool) -> OperatingPointTable:
    """The table, built into the cache under its lock unless another process just did."""
    full = variants[max(variants)]

    with cache_lock(path, log):
        table = load_cache_entry(
            files, lambda: OperatingPointTable.load(path, model_id=model_id(full)), "table", log)
        if table is not None:
            log(f"table: cached {path}.npz")
        else:
            table = _build_table(sc, variants, ms, dev, log, progress)
            # the sensor MACs belong to the model variants, which the key covers: stored with the
            # table, a cached run does not count them again (the counter's import alone is ~1 s)
            size = int(full.config.get("image_size") or 32)
            macs = encoder_macs(variants, torch.zeros(2, 3, size, size))
            table.meta["encoder_macs"] = {str(k): v for k, v in macs.items()}
            table.save(path)
    return table


def _build_table(sc: Scenario, variants: dict[int, torch.nn.Module], ms: list[int],
                 dev: torch.device, log: Log, progress: bool) -> OperatingPointTable:
    train, test = LazyTrain(sc, progress), load_split(sc, "test", progress)
    log(f"table: {len(variants)} variant(s) × {len(sc.coding.scales)} scales on "
        f"{len(test)} test images ({dev.type})")
    full = variants[max(variants)]
    encode_train = sc.coding.codec == "categorical" or sc.coding.transform != "none"
    stats = None if encode_train else latent_stats(sc, full, train, log)
    variants = {k: v.to(dev) for k, v in variants.items()}
    try:
        train_latents = None
        if encode_train:
            log(f"table: encoding the {len(train())} training images once per variant "
                f"(coding.codec={sc.coding.codec}, coding.transform={sc.coding.transform})")
            train_latents = {k: encode_latents(v, train().images) for k, v in variants.items()}
            # the full model's statistics from the latents just encoded, not a second encoding
            stats = latent_stats(sc, full, train, log, train_latents[max(variants)])
        return build_table(
            variants, stats, sc.coding.scales, test, rule=sc.coding.rule, codec=sc.coding.codec,
            transform=sc.coding.transform,
            train_latents=train_latents, images_per_packet=ms, crc_bits=sc.coding.crc_bits,
            train_labels=_train_labels(sc), dataset_name=sc.data.dataset, progress=progress,
        )
    finally:
        for v in variants.values():
            v.to("cpu")


def analog_context(loaded: LoadedScenario, log: Log, progress: bool) -> AnalogContext:
    """Model variants (CPU), training latent statistics and the test set for analog jobs."""
    variants, _ = obtain_model(loaded.scenario, log, progress)
    test = load_split(loaded.scenario, "test", progress)
    return AnalogContext(variants=variants, test=test, stats=latent_stats(
        loaded.scenario, variants[max(variants)], LazyTrain(loaded.scenario, progress), log))
