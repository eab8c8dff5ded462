"""``commsldr list`` / ``describe`` / ``--version``: the source-read catalogue equals the imported
registries, the quick commands import no torch, ``describe`` shows parameters with units."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commsldr.cli import main
from commsldr.cli.catalogue import KINDS, catalogue

REPO = Path(__file__).resolve().parents[3]


def _first_line(doc: str | None) -> str:
    doc = (doc or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def test_catalogue_equals_the_registries() -> None:
    from commsldr.adapt import get_policy_class, list_csi_models, list_policies
    from commsldr.models import list_models
    from commsldr.models.pretrained import list_pretrained, pretrained_info
    from commsldr.registry import CSI_MODELS, PHYS
    from commsldr.scenario import list_scenarios
    from commsldr.train.recipes import recipe_descriptions
    from commsldr_channels import channel_descriptions

    assert catalogue("channels") == channel_descriptions()
    pol = catalogue("policies")
    assert list(pol) == list_policies()
    assert pol == {n: _first_line(get_policy_class(n).__doc__) for n in list_policies()}
    assert catalogue("csi") == {n: _first_line(CSI_MODELS.get(n).__doc__) for n in list_csi_models()}
    assert catalogue("phys") == {n: _first_line(PHYS.get(n).__doc__) for n in PHYS.names()}
    assert sorted(catalogue("models")) == sorted(list_models())
    assert catalogue("recipes") == recipe_descriptions()
    pre = catalogue("pretrained")
    assert list(pre) == list_pretrained()
    for n in pre:  # "<backbone> d_y=<d> <test accuracy> [· <acc at real bits>] · <description>"
        info = pretrained_info(n)
        assert pre[n].endswith(" · " + str(info["description"]).splitlines()[0])
        for b, v in (info.get("acc_at_bits") or {}).items():
            if v is not None:
                assert f"{100 * v['accuracy']:.2f} % at {v['payload_bits']:.1f} real bits" in pre[n]
            else:  # a budget below the cheapest rate point says so
                assert f"none within {b} b" in pre[n]
        assert pre[n].startswith(f"{info['backbone']} d_y={info['latent_dim']} "
                                 f"{100 * info['test_acc']:.2f} %")
    assert list(catalogue("scenarios")) == list_scenarios()
    from commsldr.schemes import scheme_descriptions

    assert catalogue("schemes") == scheme_descriptions()
    assert all(catalogue(k) for k in KINDS)


_NO_TORCH = """
import sys
from commsldr.cli import main
for argv in {argvs!r}:
    try:
        main(argv)
    except SystemExit as e:
        assert e.code in (0, None), (argv, e.code)
heavy = sorted(m for m in ("torch", "sionna", "matplotlib", "scipy") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


def test_quick_commands_import_no_torch() -> None:
    argvs = [["--help"], ["--version"], *(["list", k] for k in KINDS), ["run", "--help"],
             ["describe", "--help"]]
    proc = subprocess.run([sys.executable, "-c", _NO_TORCH.format(argvs=argvs)], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(REPO), os.environ.get("PYTHONPATH", "")])})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("HEAVY:"), proc.stdout[-500:]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import commsldr

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"commsldr {commsldr.__version__}"


def test_list_prints_name_and_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "policies"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(ln.startswith("oracle ") and "perfect" in ln for ln in lines)
    assert all(len(ln.split(None, 1)) == 2 for ln in lines)  # every name has a description


@pytest.mark.parametrize("kind,name,expect", [
    ("channels", "rayleigh-block", ["mean_snr_db", "10.0", "dB", "coherence_frames"]),
    ("policies", "capacity-greedy", ["margin", "0.0", "in [0, 1)"]),
    ("csi", "delayed", ["delay_frames", "frames"]),
    ("policies", "fixed", ["k ", "required", "scale"]),
    ("phys", "shannon", ["bandwidth_hz", "Hz"]),
    ("models", "split_autoencoder", ["latent_dim", "backbone"]),
    ("models", "resnet8", ["16 x 1"]),
    ("recipes", "ldr-ft", ["LDR-FT"]),
    ("pretrained", "cifar10-ldr-ft-d64", ["sha256"]),
    ("scenarios", "quickstart", ["policies:", "sweep:"]),
    ("schemes", "jpeg", ["jpeg"]),
])
def test_describe(kind: str, name: str, expect: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", kind, name]) == 0
    out = capsys.readouterr().out
    for text in expect:
        assert text in out, (text, out)


def test_describe_unknown_name_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "policies", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "oracle" in err


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    """``commsldr list channels | head -1``: no message when the reader goes away."""
    import io
    import sys

    from commsldr.cli import main

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def fileno(self):
            raise io.UnsupportedOperation("fileno")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["list", "channels"]) == 141
    assert capsys.readouterr().err == ""
