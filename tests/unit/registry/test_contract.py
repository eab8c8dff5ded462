"""timm-style contract tests: every registry of :data:`commsldr.registry.REGISTRIES`, every entry
in it, created by name and exercised once; the listing (read from source) equals the imported
docstring. A new built-in that needs parameters must get an example here (the test says so).

What each kind's exercise checks:
channels -- ``states(F)`` has ``F`` frames (statistics: ``tests/unit/channels``); policies -- bound
to a menu, ``choose`` returns one of the menu's points; CSI models -- ``observe`` after ``reset``
gives frame ``t``; schedulers -- every slot's PRB owners are sensors (or -1); PHYs -- ``deliver`` returns one decision per frame and never delivers more
than the frame carries; schemes -- ``kind`` is digital or analog and the menu is well formed;
models -- logits of shape ``[B, C]``; recipes -- a tiny run writes a loadable model.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from commsldr.adapt import CSI, PointMenu
from commsldr.cell import CellConfig
from commsldr.cell.linkabs import CellLinkAbstraction
from commsldr.cell.schedulers import SchedulerContext
from commsldr.errors import UserError
from commsldr.link import OperatingPoint
from commsldr.registry import REGISTRIES, check_params, first_line, signature_of, source_summary
from commsldr.train import load_model
from commsldr_channels import LinkState, create_channel

#: parameters of the built-ins that have required ones (channels: their ``example_params()``)
EXAMPLES: dict[tuple[str, str], dict] = {
    ("policies", "fixed"): {"k": 8, "scale": 1.0},
    ("phys", "bittrue"): {"channel": "awgn"},
    ("models", "split_autoencoder"): {"backbone": "resnet8", "latent_dim": 8, "num_classes": 10,
                                      "width": 0.25},
}
#: built-ins that need a trained artifact which may be absent: without it, using them must fail
#: with a user error naming it (with it, they are exercised like the others)
NEEDS_ARTIFACT = {("policies", "rl"): "checkpoint"}
ENTRIES = [(kind, name) for kind, reg in REGISTRIES.items() for name in reg.builtins]


_RL: dict[str, str] = {}


def _rl_checkpoint() -> str:
    """A tiny PPO agent on a 4-point menu like :func:`_menu`'s (the shipped agent has 15)."""
    if "path" not in _RL:
        import atexit
        import shutil
        import tempfile

        from commsldr.env.train import train_agent
        from commsldr.link.phy import ShannonPHY
        from commsldr.link.synthetic_table import synthetic_table

        table = synthetic_table(variants=(4, 8), scales=(0.5, 1.0), num_images=40)
        out = tempfile.mkdtemp(prefix="commsldr-rl-")
        atexit.register(shutil.rmtree, out, True)
        zp, _ = train_agent(table, create_channel("rayleigh-block", mean_snr_db=10.0),
                            ShannonPHY(), name="contract", total_steps=64, num_envs=4,
                            frames=16, out_dir=out,
                            hyperparameters={"n_steps": 16, "batch_size": 64, "n_epochs": 1})
        _RL["path"] = str(zp)
    return _RL["path"]


def _params(kind: str, name: str) -> dict:
    if (kind, name) == ("policies", "rl"):
        return {"checkpoint": _rl_checkpoint()}
    obj = REGISTRIES[kind].get(name)
    if kind == "channels":
        return obj.example_params()
    if kind == "phys" and name == "bittrue":
        return {"channel": create_channel("awgn", snr_db=10.0)}
    return EXAMPLES.get((kind, name), {})


def _menu() -> PointMenu:
    points = tuple(OperatingPoint(k, j, s) for k in (4, 8) for j, s in enumerate((0.5, 1.0)))
    return PointMenu(points=points, accuracy=np.array([0.3, 0.4, 0.5, 0.6]),
                     packet_bits=np.array([60.0, 90.0, 120.0, 200.0]))


def _state(frames: int = 6) -> LinkState:
    return LinkState(snr_db=torch.linspace(-5.0, 20.0, frames))


@pytest.mark.parametrize("kind,name", ENTRIES)
def test_listing_equals_the_imported_docstring(kind: str, name: str) -> None:
    reg = REGISTRIES[kind]
    listed = source_summary(reg.builtins[name])
    obj = reg.get(name)
    assert listed == first_line(obj.__doc__) == reg.summary(name)
    assert listed, f"{kind} {name!r} has no docstring summary for `commsldr list`"
    assert obj.name == name


@pytest.mark.parametrize("kind,name", ENTRIES)
def test_every_entry_is_created_by_name_and_works(kind: str, name: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    reg = REGISTRIES[kind]
    obj = reg.get(name)
    params = _params(kind, name)
    if (kind, name) == ("policies", "rl"):  # an SB3 zip runs pickled code when loaded: this
        # test's own agent is on the allow-list (commsldr.trust)
        monkeypatch.setenv("COMMSLDR_TRUSTED_PLUGINS", os.path.dirname(params["checkpoint"]))
    required = [p.name for p in signature_of(obj).parameters.values()
                if p.name != "self" and p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if kind == "recipes":
        assert required == ["config", "ctx"]
        return  # exercised below (slow)
    missing = [r for r in required if r not in params]
    assert not missing, f"add an example for {kind} {name!r} ({missing}) to EXAMPLES"
    check_params(obj, params, f"{kind} {name!r}")
    g = torch.Generator().manual_seed(0)
    if kind == "channels":
        thing = create_channel(name, **params)
        assert len(thing.states(5, generator=g)) == 5
    elif kind == "policies":
        menu = _menu()
        try:
            policy = reg.create(name, **params).bind(menu, REGISTRIES["phys"].create("shannon"))
        except UserError as err:
            if (kind, name) not in NEEDS_ARTIFACT:
                raise
            assert NEEDS_ARTIFACT[(kind, name)] in str(err)
            return
        policy.reset()
        if hasattr(policy, "fix"):  # best-fixed-hindsight: the runner fixes the point it found
            policy.fix(2)
        csi = CSI(frame=0, snr_db=10.0, capacity_bits=150.0, snr_std_db=0.0)
        assert policy.choose(csi) in menu.points
    elif kind == "csi":
        model = reg.create(name, **params)
        model.reset(_state(), np.random.default_rng(0))
        assert model.observe(3, None).frame == 3
    elif kind == "phys":
        phy = reg.create(name, **params)
        if hasattr(phy, "reset"):
            phy.reset()
        bits = np.full(6, 200, dtype=np.int64)
        out = phy.deliver(bits, _state(), g)
        assert out.delivered.shape == (6,) and out.delivered.dtype == bool
        cap = np.asarray(out.capacity_bits)
        assert not (out.delivered & (bits > cap)).any()
    elif kind == "schemes":
        scheme = reg.create(name, **params)
        assert scheme.kind in ("digital", "analog")
        points = scheme.menu_points()
        assert points is None or (points and all(len(p) == 2 for p in points))
    elif kind == "models":
        torch.manual_seed(0)
        model = reg.create(name, **params).eval()
        with torch.no_grad():
            out = model(torch.rand(2, 3, 32, 32))
        logits = getattr(out, "logits", out)
        assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    elif kind == "schedulers":
        n, prbs, slots = 3, 4, 2
        cfg = CellConfig()
        ctx = SchedulerContext(num_sensors=n, num_prb=prbs, slots_per_frame=slots,
                               re_per_prb=int(getattr(cfg, "re_per_prb", 144)),
                               link=CellLinkAbstraction(cfg, prbs * slots),
                               power_ratio_db=np.zeros((n, prbs + 1)),
                               menu_accuracy=np.array([0.3, 0.6]),
                               menu_bits=np.array([200.0, 800.0]))
        scheduler = reg.create(name, **params)
        scheduler.reset(ctx)
        sinr = np.linspace(1.0, 30.0, n * prbs).reshape(n, prbs)
        for slot in range(slots):
            owner = scheduler.allocate(slot, sinr)
            assert owner.shape == (prbs,) and ((owner >= -1) & (owner < n)).all()
            scheduler.update(owner, np.where(owner >= 0, sinr.max(0), 0.0))
        scheduler.end_frame(np.zeros(n), np.zeros(n, dtype=bool))
    else:
        pytest.fail(f"no exercise for the kind {kind!r}: add one to this test")


RECIPE_TINY = dict(dataset="synthetic", num_per_class=4, test_num_per_class=2, backbone="resnet8",
                   width=0.25, latent_dim=8, batch_size=20, epochs=1, ldr_epochs=1,
                   finetune_epochs=1, augment=False, progress=False, seed=0, keep=4, dims=[4],
                   ssl_views=2)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REGISTRIES["recipes"].builtins))
def test_every_recipe_runs_tiny(name: str, tmp_path) -> None:
    from commsldr.train import run_recipe

    res = run_recipe(name, dict(RECIPE_TINY, out=str(tmp_path)))
    model = load_model(res.checkpoint_path)
    assert 0.0 <= res.metrics["test_acc"] <= 1.0
    assert model.latent_dim == (4 if name in ("truncate", "screen") else 8)
