"""Every scheme through the runner on a tiny scenario: one results file, real packets, the same
channel draws, cost columns, figures; and the checks of the ``schemes`` section."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from commsldr.scenario import ScenarioError, load_scenario
from commsldr.scenario.runner import run_scenario

OWN = {"greedy": {"type": "capacity-greedy"}, "oracle": {"type": "oracle"}}
TINY = {
    "name": "tiny_schemes",
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 5.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 400000.0, "images_per_packet": 1},
    "csi": {"type": "perfect"},
    "schemes": {
        "jpeg": {"type": "jpeg", "qualities": [5, 50], "policies": OWN},
        "webp": {"type": "webp", "qualities": [10], "classifier": "clean", "policies": OWN},
        "edge-label": {"type": "edge-label", "policies": OWN},
        "analog-jscc": {"type": "analog-jscc", "channel_uses": 16, "epochs": 1},
    },
    "sweep": {"channels.*.mean_snr_db": [0.0, 25.0]},
}


@pytest.fixture(scope="module")
def run(tiny_overrides, tmp_path_factory):
    loaded = load_scenario(TINY, tiny_overrides)
    out = tmp_path_factory.mktemp("schemes") / "run"
    return run_scenario(loaded, out=out, progress=False, log=lambda *_: None)


def test_results_have_every_scheme_with_cost_columns(run):
    rows = list(csv.DictReader((run.run_dir / "results.csv").open()))
    assert {r["scheme"] for r in rows} == {"split-ae", "jpeg", "webp", "edge-label",
                                            "analog-jscc"}
    for r in rows:
        assert float(r["sensor_macs"]) > 0 and float(r["channel_uses_per_image"]) > 0
        assert 0 <= float(r["accuracy"]) <= 1
    by = {(r["scheme"], r["policy"], r["channels.*.mean_snr_db"]): r for r in rows}
    # every scheme saw the same channel draws: same mean capacity per sweep point
    for snr in ("0.0", "25.0"):
        caps = {float(r["mean_capacity_bits"]) for k, r in by.items() if k[2] == snr}
        assert len(caps) == 1
    assert float(by[("analog-jscc", "analog", "0.0")]["channel_uses_per_image"]) == 16
    # the edge-label packet: 1-byte payload + 9-byte header + CRC-16 = 96 bits
    assert float(by[("edge-label", "greedy", "25.0")]["mean_bits_per_image"]) == 96.0
    assert (run.run_dir / "sensor_cost.md").read_text().count("| jpeg |") == 2
    names = {p.name for p in (run.run_dir / "figures").iterdir()}
    assert {"accuracy_vs_snr.png", "accuracy_vs_capacity.png",
            "accuracy_vs_sensor_compute.png"} <= names


def test_codec_table_packets_are_real_packets(run, tiny_overrides):
    from pathlib import Path

    from commsldr.coding.packets import PacketHeader, build_packet, packet_model_id
    from commsldr.link.table import OperatingPointTable
    from commsldr.scenario.assets import load_data
    from commsldr.schemes.codec import encode_image

    cache = Path(next(o for o in tiny_overrides if o.startswith("model.cache_dir="))
                 .split("=", 1)[1])
    # this run's JPEG table: other tests of the session may cache JPEG tables of their own in
    # the shared cache (another ladder, server model or CRC), so select by what this run used
    server = json.loads((run.run_dir / "results.json").read_text())["schemes"]["jpeg"]
    tables = [t for t in map(OperatingPointTable.load, sorted((cache / "tables").glob("jpeg-*.npz")))
              if t.meta.get("qualities") == [5, 50] and t.model_id == server["server_model_id"]
              and t.meta.get("crc_bits") == 16]
    assert tables
    _, test = load_data(load_scenario(TINY, tiny_overrides).scenario)
    for table in tables:
        groups, pbits = table.packets(1)
        for j, q in enumerate([5, 50]):
            for g in range(0, len(groups), 7):
                i = int(groups[g, 0])
                payload = encode_image(test.images[i], "jpeg", q)
                packet = build_packet(PacketHeader(packet_model_id(table.model_id), 1, j, 1),
                                      payload, 16)
                assert pbits[j, g] == 8 * len(packet)
                assert table.bits[j, i] == 8 * len(payload)


def test_analog_jscc_degrades_gracefully(run):
    rows = [r for r in run.results["rows"] if r["scheme"] == "analog-jscc"]
    assert len(rows) == 2 and all(r["images"] == 80 for r in rows)
    schemes = run.results["schemes"]
    assert schemes["analog-jscc"]["channel_uses_per_image"] == 16
    assert schemes["jpeg"]["classifier"] == "finetuned"
    assert schemes["split-ae"]["operating_points"][0]["sensor_macs"] > 0


def test_rerun_is_identical_and_uses_the_cache(run, tiny_overrides, tmp_path):
    loaded = load_scenario(TINY, tiny_overrides)
    logs: list[str] = []
    again = run_scenario(loaded, out=tmp_path / "b", progress=False, plot=False,
                         log=logs.append)
    assert not any("training" in line or "fine-tuning" in line for line in logs)
    a = [{k: v for k, v in r.items()} for r in run.results["rows"]]
    b = [{k: v for k, v in r.items()} for r in again.results["rows"]]
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            assert x[k] == y[k] or (isinstance(x[k], float) and np.isnan(x[k]) and np.isnan(y[k]))


@pytest.mark.parametrize("change,key,message", [
    ({"jpeg": {"type": "jpeg"}}, "policies.fixed", "does not have"),
    ({"x": {"type": "split-ae"}}, "schemes.x.type", "always runs"),
    ({"x": {"type": "gif"}}, "schemes.x.type", "allowed values"),
    ({"x": {"type": "jpeg", "qualities": [0]}}, "schemes.x.qualities", r"integer in \[1, 100\]"),
    ({"x": {"type": "jpeg", "policies": {"f": {"type": "fixed", "k": 1, "scale": 7.0}}}},
     "schemes.x.policies.f", "does not have"),
])
def test_bad_schemes_name_the_key(change, key, message, tiny_overrides):
    sc = dict(TINY, schemes=change)
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(sc, tiny_overrides)
    assert err.value.key.startswith(key)


def test_analog_scheme_needs_a_symbol_level_channel(tiny_overrides):
    sc = dict(TINY, channels={"trace": {"type": "trace-csv", "path": "x.csv"}},
              schemes={"a": {"type": "analog-jscc"}})
    with pytest.raises(ScenarioError):
        load_scenario(sc, tiny_overrides)


def _context(tiny_overrides):
    from commsldr.scenario.runner import prepare_table
    from commsldr.scenario.scheme_assets import scheme_context

    loaded = load_scenario(TINY, tiny_overrides)
    return scheme_context(loaded, table_fn=lambda: prepare_table(loaded, progress=False,
                                                                 log=lambda *_: None),
                          log=lambda *_: None, progress=False)


def test_jscc_evaluation_path_through_the_channel_model(run, tiny_overrides):
    """At 120 dB the receiver's decoder input equals the noiseless one (logits agree); at -10 dB
    the MMSE output is rho/(1+rho)·x plus zero-mean noise (E[x̂ x*] / E|x|² = rho/(1+rho);
    about 19 000 symbols: standard error 2 %)."""
    import torch

    from commsldr.data import to_float
    from commsldr.schemes import create_scheme
    from commsldr.schemes._common import predict_images
    from commsldr.schemes.jscc import _to_real, mmse_equalise
    from commsldr_channels import create_channel

    ctx = _context(tiny_overrides)
    scheme = create_scheme("analog-jscc", channel_uses=16, epochs=1)
    product = scheme.prepare(ctx)  # cached by the run
    model = scheme.model(ctx)
    _, test = ctx.data()
    g = torch.Generator().manual_seed(0)
    x = model.symbols(to_float(test.images)).detach()
    for snr_db in (120.0, -10.0):
        if snr_db < 0:
            x = x.repeat(20, 1)
        channel = create_channel("awgn", snr_db=snr_db)
        state = channel.states(x.shape[0], generator=g)
        x_hat = mmse_equalise(channel.forward(x, state, generator=g), state.gain, state.noise_var)
        rho = 10 ** (snr_db / 10)
        if snr_db > 0:
            with torch.no_grad():
                torch.testing.assert_close(model.net.decode(_to_real(x_hat)),
                                           model.net.decode(_to_real(x)), atol=1e-3, rtol=1e-3)
        else:
            gain = (x_hat * x.conj()).real.mean() / x.abs().square().mean()
            assert float(gain) == pytest.approx(rho / (1 + rho), rel=0.1)
    state = create_channel("awgn", snr_db=120.0).states(len(test), generator=g)
    pred = product.evaluate(test.images, create_channel("awgn", snr_db=120.0), state, g)
    np.testing.assert_array_equal(pred, predict_images(model, test.images))


@pytest.mark.parametrize("coding", ["fixed", "prior"])
def test_edge_label_packets_carry_the_sensor_decisions(coding, run, tiny_overrides):
    """Every packet of 3 labels parses and decodes back to the labels the sensor decided."""
    from commsldr.coding import LatentCodec
    from commsldr.coding.packets import parse_packet
    from commsldr.schemes import create_scheme
    from commsldr.schemes._common import predict_images

    ctx = _context(tiny_overrides)
    ctx.images_per_packet = [1, 3]
    product = create_scheme("edge-label", label_coding=coding).prepare(ctx)
    train, test = ctx.data()
    pred = predict_images(ctx.model(), test.images)
    groups, pbits = product.table.packets(3)
    assert product.table.correct[0].tolist() == (pred == test.labels.numpy()).tolist()
    codec = LatentCodec.fit_categorical(train.labels.numpy()[:, None])
    from commsldr.coding.packets import PacketHeader, build_packet, packet_model_id
    from commsldr.schemes.edge import pack_labels

    for g, bits in zip(groups, pbits[0], strict=True):
        payload = pack_labels(pred[g], 4) if coding == "fixed" else codec.encode(pred[g][:, None])
        packet = build_packet(PacketHeader(packet_model_id(product.table.model_id), 1, 0, 3),
                              payload, 16)
        assert 8 * len(packet) == bits
        header, body = parse_packet(packet)
        assert header.num_images == 3
        if coding == "prior":
            assert codec.decode(body, 3)[:, 0].tolist() == pred[g].tolist()
        else:
            assert body == payload and len(body) == 2


def test_split_macs_stored_with_the_table_equal_a_fresh_count(run, tiny_overrides):
    """The split model's sensor MACs are counted once, when its table is built, and stored in the
    table's metadata; a cached run reads them back instead of counting again."""
    import torch

    from commsldr.scenario.runner import obtain_model
    from commsldr.schemes.split_ae import encoder_macs

    sc = load_scenario(TINY, tiny_overrides).scenario
    variants, _ = obtain_model(sc, log=lambda *_: None, progress=False)
    fresh = encoder_macs(variants, torch.zeros(2, 3, 32, 32))
    ops = run.results["schemes"]["split-ae"]["operating_points"]
    assert {int(p["k"]): p["sensor_macs"] for p in ops} == fresh
