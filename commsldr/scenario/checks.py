"""Semantic checks of a scenario against the registries, the data, the machine and the model:
:func:`check_scenario` raises :class:`ScenarioError` (naming the dotted key and, where there is a
list, the allowed values) before a run does any real work.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import torch

from commsldr.adapt import create_csi_model, list_csi_models
from commsldr.cache import resolve_cache_dir
from commsldr.coding import ALLOCATION_RULES
from commsldr.errors import show
from commsldr.link.harq import HARQConfig
from commsldr.link.harq_loop import HARQTiming
from commsldr.scenario.build import (
    build_policy,
    channel_params,
    construct,
    phy_class,
    phy_params,
    scheme_policies,
    train_config,
    train_key,
)
from commsldr.scenario.files import resolve_model_ref, resolve_pretrained
from commsldr.scenario.schema import PolicyConfig, Scenario, ScenarioError
from commsldr.schemes import get_scheme_class, list_schemes
from commsldr.train import list_recipes
from commsldr.train.checkpoint import CheckpointError, load_model
from commsldr.train.checks import (
    available_memory_bytes,
    check_data_available,
    check_model_fits,
    test_set_size,
)
from commsldr.train.config import TrainConfigError
from commsldr_channels import CHANNELS, get_channel_class, list_channels

__all__ = ["check_scenario", "check_schemes", "check_writable", "SAFE_NAME"]

#: a scenario name that is safe as one directory name
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_TEST_SIZES: dict[tuple[str, str | None, int | None], int | None] = {}

#: rough memory of one simulated frame and seed held at once (channel states, PHY capacities,
#: simulation records of one policy), bytes; used for the frames estimate
_FRAME_BYTES = 512


#: HARQ processes a scenario may ask for (TS 38.321: at most 16 per carrier)
MAX_HARQ_PROCESSES = 16


def check_harq_timing(value: dict[str, object]) -> HARQTiming:
    """``link.harq_timing`` as a :class:`~commsldr.link.harq_loop.HARQTiming`, or a
    :class:`ScenarioError` naming the key (``link.harq_timing.<key>``) and what is allowed."""
    try:
        timing = HARQTiming.parse(dict(value))
    except (TypeError, ValueError) as e:
        m = re.match(r"^harq_timing\.([a-z_]+):", str(e))
        msg = str(e).split(": ", 1)[1] if m else str(e).removeprefix("harq_timing: ")
        raise ScenarioError(f"link.harq_timing.{m.group(1)}" if m else "link.harq_timing",
                            msg) from None
    if timing.processes > MAX_HARQ_PROCESSES:
        raise ScenarioError("link.harq_timing.processes", f"must be <= {MAX_HARQ_PROCESSES} "
                                                          f"(TS 38.321), got {timing.processes}")
    return timing


def check_writable(path: str, key: str) -> None:
    """``path`` is a directory that exists or can be created (without creating it)."""
    p = Path(path).expanduser().absolute()
    if p.exists() and not p.is_dir():
        raise ScenarioError(key, f"{path} exists and is not a directory")
    parent = p
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ScenarioError(key, f"cannot create {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ScenarioError(key, f"cannot create or write {path}: {parent} is not writable")


def _check_resources(sc: Scenario) -> None:
    """Data present, model and simulation within memory, packets within the test set."""
    check_writable(sc.outputs.dir, "outputs.dir")
    cache = resolve_cache_dir(sc.model.cache_dir)
    if sc.model.recipe is not None and not cache.is_dir():
        # an existing cache may be read-only (a shared, fully populated one): entries it lacks
        # are reported when the run needs to build them (scenario.assets.cache_lock)
        check_writable(str(cache), "model.cache_dir")
    tc = train_config(sc)
    try:
        check_data_available(tc)
        if sc.model.recipe is not None:
            check_model_fits(tc, num_classes=100 if tc.data.dataset == "cifar100" else 10)
    except TrainConfigError as e:
        raise ScenarioError(train_key(e.key), e.message) from None
    half = available_memory_bytes() // 2
    need = sc.frames * len(sc.seeds) * _FRAME_BYTES
    if need > half:
        raise ScenarioError("frames", f"{sc.frames} frames × {len(sc.seeds)} seed(s) need an "
                                      f"estimated {need / 2**30:.3g} GiB ({_FRAME_BYTES} bytes "
                                      f"per frame and seed) but half of this machine's memory is "
                                      f"{half / 2**30:.3g} GiB")
    data_key = (tc.data.dataset, str(Path(tc.data.root).resolve()) if tc.data.root else None,
                tc.data.test_num_per_class)
    if data_key not in _TEST_SIZES:  # an image folder is scanned once, not per sweep point
        _TEST_SIZES[data_key] = test_set_size(tc)
    n_test = _TEST_SIZES[data_key]
    m = sc.link.images_per_packet
    if n_test is not None and m > n_test:
        raise ScenarioError("link.images_per_packet", f"{m} is more than the {n_test} test "
                                                      f"images of data (data.test_per_class)")


_CHECKED_CHECKPOINTS: dict[tuple[str, int, int], int] = {}


def _checkpoint_latent_dim(path: str) -> int:
    """Load and verify (content hash) a checkpoint once per file version; its ``latent_dim``."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CHECKED_CHECKPOINTS:
        try:
            _CHECKED_CHECKPOINTS[key] = int(load_model(path).latent_dim)
        except CheckpointError as e:
            raise ScenarioError("model.checkpoint", show(str(e), 300)) from None
    return _CHECKED_CHECKPOINTS[key]


def _check_model(sc: Scenario) -> int | None:
    """Check the model section; return the full latent size when known without loading."""
    m = sc.model
    given = [k for k in ("checkpoint", "pretrained", "recipe") if getattr(m, k) is not None]
    if len(given) != 1:
        raise ScenarioError("model", "give exactly one of checkpoint, pretrained, recipe "
                                     f"(got {', '.join(given) or 'none'})")
    if m.train and m.recipe is None:
        raise ScenarioError("model.train", "only used with model.recipe")
    if m.checkpoint is not None:
        if not Path(m.checkpoint).is_file():
            raise ScenarioError("model.checkpoint", f"no such file: {m.checkpoint}")
        latent = _checkpoint_latent_dim(m.checkpoint)
    if m.pretrained is not None:
        resolve_pretrained(m.pretrained)
    latent_dim = latent if m.checkpoint is not None else None
    if m.recipe is not None:
        if m.recipe not in list_recipes():
            raise ScenarioError("model.recipe", f"{show(m.recipe)} is not allowed; allowed values: "
                                                f"{', '.join(list_recipes())}")
        latent_dim = train_config(sc).model.latent_dim
    if len(set(m.truncations)) != len(m.truncations):
        raise ScenarioError("model.truncations", f"duplicate entries in {m.truncations}")
    if latent_dim is not None:
        for i, k in enumerate(m.truncations):
            if k >= latent_dim:
                raise ScenarioError(f"model.truncations[{i}]",
                                    f"must be < latent_dim ({latent_dim}), got {k}")
    return latent_dim


def check_scenario(sc: Scenario) -> None:
    """Semantic checks of one (sweep-free) scenario against the registries; raises ScenarioError."""
    if not sc.name:
        raise ScenarioError("name", "missing (required)")
    if not SAFE_NAME.fullmatch(sc.name) or sc.name.strip(".") == "":
        raise ScenarioError("name", f"{show(sc.name)} is not a safe directory name; use letters, "
                                    f"digits, '.', '_' and '-' (at most 100, not only dots)")
    if sc.data.dataset == "imagefolder":
        if sc.data.root is None:
            raise ScenarioError("data.root", "required for dataset imagefolder")
    if sc.data.root is not None and not sc.data.download and not Path(sc.data.root).is_dir():
        raise ScenarioError("data.root", f"no such directory: {sc.data.root}")
    latent_dim = _check_model(sc)
    _check_resources(sc)
    for label, ref in sc.paper_figures.models.items():
        resolve_model_ref(ref, f"paper_figures.models.{label}")
    for key in ("rate_models", "distortion_models", "truncation_models"):
        for i, label in enumerate(getattr(sc.paper_figures, key)):
            if label not in sc.paper_figures.models:
                raise ScenarioError(f"paper_figures.{key}[{i}]",
                                    f"{show(label)} is not a label of paper_figures.models; "
                                    f"labels: {', '.join(sc.paper_figures.models) or '(none)'}")
    if not sc.paper_figures.entropy_targets:
        raise ScenarioError("paper_figures.entropy_targets", "needs at least one target")
    if sc.coding.rule not in ALLOCATION_RULES:
        raise ScenarioError("coding.rule", f"{show(sc.coding.rule)} is not allowed; allowed values: "
                                           f"{', '.join(sorted(ALLOCATION_RULES))}")
    if not sc.coding.scales:
        raise ScenarioError("coding.scales", "needs at least one scale")
    if len(set(sc.coding.scales)) != len(sc.coding.scales):
        raise ScenarioError("coding.scales", f"duplicate entries in {sc.coding.scales}")
    if not sc.channels:
        raise ScenarioError("channels", "needs at least one channel (label: {type: NAME, ...})")
    valid = list_channels()
    broken = CHANNELS.failures()  # plug-ins that failed to import: say why, not "not allowed"
    for label, ch in sc.channels.items():
        if ch.type in broken:
            raise ScenarioError(f"channels.{label}.type", broken[ch.type])
        if ch.type not in valid:
            raise ScenarioError(f"channels.{label}.type", f"{show(ch.type)} is not allowed; allowed "
                                                         f"values: {', '.join(valid)}")
        own = ch.params.get("frame_s")
        if own is not None and own != sc.link.frame_s:
            raise ScenarioError(f"channels.{label}.frame_s", (
                f"{show(own)} differs from link.frame_s ({sc.link.frame_s}); a channel steps "
                f"once per link frame, so leave frame_s out (it is the link's)"))
        construct(get_channel_class(ch.type), channel_params(sc, label), f"channels.{label}",
                   f"channel {show(ch.type)}")
    construct(phy_class(sc.link.phy), phy_params(sc), "link", f"PHY {show(sc.link.phy)}")
    if sc.link.params.get("harq") is not None:  # link.harq: {type, max_transmissions}
        harq = HARQConfig.parse(sc.link.params["harq"])  # the PHY accepted it above
        if harq.type != "none" and sc.link.max_attempts > 1:
            raise ScenarioError("link.max_attempts", "leave it at 1 with link.harq; "
                                                     "link.harq.max_transmissions sets the "
                                                     "transmissions per packet")
        if harq.transmissions > 1 and sc.link.deadline_frames < 2:
            raise ScenarioError("link.deadline_frames", f"must be >= 2 with link.harq "
                                                        f"(got {sc.link.deadline_frames}): a "
                                                        f"lost packet is re-sent in a later frame")
    if sc.link.harq_timing is not None:
        check_harq_timing(sc.link.harq_timing)
    if sc.link.max_attempts > 1 and sc.link.deadline_frames < 2:
        raise ScenarioError("link.deadline_frames", f"must be >= 2 when link.max_attempts > 1 "
                                                    f"(got {sc.link.deadline_frames}): a lost "
                                                    f"packet is re-sent in a later frame")
    if sc.csi.type not in list_csi_models():
        raise ScenarioError("csi.type", f"{sc.csi.type!r} is not allowed; allowed values: "
                                        f"{', '.join(list_csi_models())}")
    try:
        create_csi_model(sc.csi.type, **sc.csi.params)
    except ValueError as e:
        m = re.search(r"parameter '([a-z_]+)'", str(e)) or re.match(r"^([a-z_]+) must", str(e))
        raise ScenarioError(f"csi.{m.group(1)}" if m else "csi", str(e)) from None
    if not sc.policies:
        raise ScenarioError("policies", "needs at least one policy (label: {type: NAME, ...})")
    for label, pc in sc.policies.items():
        _check_policy(sc, label, pc, latent_dim)
    check_schemes(sc)
    if sc.cell != type(sc.cell)():  # a cell section was given (even one with no sensors)
        from commsldr.scenario.cell_checks import check_cell  # torch only for a cell

        check_cell(sc)
    if sc.analog.enabled:
        for label, ch in sc.channels.items():
            channel = get_channel_class(ch.type)(**channel_params(sc, label))
            if channel.states(1, generator=torch.Generator().manual_seed(0)).snr_db is None:
                raise ScenarioError(f"channels.{label}.type", f"analog transmission needs a "
                                                             f"symbol-level channel (one with an "
                                                             f"SNR); {show(ch.type)} is not")
        if (2 * sc.analog.symbols_per_entry) % 1:
            raise ScenarioError("analog.symbols_per_entry",
                                f"must be a multiple of 0.5, got {sc.analog.symbols_per_entry}")
        if sc.analog.k is not None and latent_dim is not None and sc.analog.k not in (
                set(sc.model.truncations) | {latent_dim}):
            raise ScenarioError("analog.k", f"{sc.analog.k} is not an encoder variant; allowed "
                                            f"values: {sorted(set(sc.model.truncations) | {latent_dim})}")
    if len(set(sc.seeds)) != len(sc.seeds) or not sc.seeds:
        raise ScenarioError("seeds", f"needs distinct seeds, got {show(sc.seeds)}")


def _check_policy(sc: Scenario, label: str, pc: PolicyConfig, latent_dim: int | None) -> None:
    key = f"policies.{label}"
    policy = build_policy(pc, key)
    k = getattr(policy, "k", None)
    variants = set(sc.model.truncations) | ({latent_dim} if latent_dim else set())
    if k is not None and latent_dim is not None and k not in variants:
        raise ScenarioError(f"{key}.k", f"{k} is not an encoder variant; allowed values: "
                                        f"{', '.join(map(str, sorted(variants)))}")
    scale = getattr(policy, "scale", None)
    if scale is not None and scale not in sc.coding.scales:
        raise ScenarioError(f"{key}.scale", f"{scale} is not in coding.scales; allowed values: "
                                            f"{', '.join(map(str, sc.coding.scales))}")


def check_schemes(sc: Scenario) -> None:
    """Semantic checks of the ``schemes`` section; raises :class:`ScenarioError`."""
    if not sc.schemes:
        return
    valid = list_schemes()
    for label, cfg in sc.schemes.items():
        key = f"schemes.{label}"
        if cfg.type == "split-ae":
            raise ScenarioError(f"{key}.type", "the split autoencoder always runs (sections "
                                               "model and coding); list only other schemes here")
        if cfg.type not in valid:
            raise ScenarioError(f"{key}.type", f"{cfg.type!r} is not allowed; allowed values: "
                                               f"{', '.join(v for v in valid if v != 'split-ae')}")
        scheme = construct(get_scheme_class(cfg.type), cfg.params, key, f"scheme {cfg.type!r}")
        if scheme.kind == "analog":
            for ch_label, ch in sc.channels.items():
                channel = get_channel_class(ch.type)(**channel_params(sc, ch_label))
                st = channel.states(1, generator=torch.Generator().manual_seed(0))
                if st.snr_db is None:
                    raise ScenarioError(f"channels.{ch_label}.type", f"scheme {label!r} is "
                                        f"analog and needs a symbol-level channel (one with an "
                                        f"SNR); {ch.type!r} is not")
            continue
        points = scheme.menu_points()
        own = bool(cfg.policies)
        for pl, pc in scheme_policies(sc, label).items():
            pkey = f"{key}.policies.{pl}" if own else f"policies.{pl}"
            policy = build_policy(pc, pkey)
            k, scale = getattr(policy, "k", None), getattr(policy, "scale", None)
            if points is None or (k is None and scale is None):
                continue
            ok = [p for p in points if (k is None or p[0] == k)
                  and (scale is None or math.isclose(p[1], scale, rel_tol=1e-5, abs_tol=1e-8))]
            if not ok:
                shown = ", ".join(f"(k={a}, scale={b:g})" for a, b in points)
                hint = "" if own else f". Give {key} its own policies"
                raise ScenarioError(pkey, f"policy {pl!r} (k={k}, scale={scale}) needs an "
                                          f"operating point scheme {label!r} does not have; its "
                                          f"points: {shown}{hint}")
