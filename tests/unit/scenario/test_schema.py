"""Scenario validation: ≥ 20 malformed scenarios, each rejected with a message naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from commsldr.scenario import ScenarioError, load_scenario, parse_override, set_dotted

BASE = {
    "name": "tiny",
    "data": {"train_per_class": 20, "test_per_class": 10},
    "model": {"recipe": "ce", "train": {"epochs": 1, "latent_dim": 16}, "truncations": [8]},
    "coding": {"scales": [0.5, 1.0, 2.0]},
    "channels": {"ray": {"type": "rayleigh-block", "mean_snr_db": 10.0}},
    "link": {"phy": "shannon", "bandwidth_hz": 1e5, "images_per_packet": 2},
    "csi": {"type": "perfect"},
    "policies": {
        "fixed": {"type": "fixed", "k": 16, "scale": 1.0},
        "greedy": {"type": "capacity-greedy", "margin": 0.1},
        "oracle": {"type": "oracle"},
    },
    "sweep": {"channels.*.mean_snr_db": [0.0, 10.0]},
    "seeds": [0, 1],
    "frames": 50,
}


def test_the_base_scenario_is_valid():
    loaded = load_scenario(BASE)
    assert [p.values for p in loaded.points] == [
        {"channels.*.mean_snr_db": 0.0}, {"channels.*.mean_snr_db": 10.0}]
    assert loaded.points[0].scenario.channels["ray"].params["mean_snr_db"] == 0.0
    assert loaded.scenario.policies["greedy"].params == {"margin": 0.1}


def _with(*changes):
    raw = copy.deepcopy(BASE)
    for key, value in changes:
        if value is _DELETE:
            parts = key.split(".")
            node = raw
            for p in parts[:-1]:
                node = node[p]
            del node[parts[-1]]
        else:
            set_dotted(raw, key, value)
    return raw


_DELETE = object()

# (id, changes, expected dotted key, substrings that must appear in the message)
MALFORMED = [
    ("unknown-top-key", [("frame", 10)], "frame", ["unknown key", "frames"]),
    ("unknown-data-key", [("data.datset", "x")], "data.datset", ["allowed keys", "dataset"]),
    ("bad-dataset", [("data.dataset", "mnist")], "data.dataset", ["mnist", "cifar10", "synthetic"]),
    ("frames-zero", [("frames", 0)], "frames", [">= 1"]),
    ("frames-string", [("frames", "many")], "frames", ["integer"]),
    ("seeds-not-list", [("seeds", 3)], "seeds", ["list"]),
    ("seeds-duplicate", [("seeds", [1, 1])], "seeds", ["distinct"]),
    ("negative-seed", [("seeds", [0, -2])], "seeds[1]", [">= 0"]),
    ("no-model-source", [("model.recipe", None)], "model", ["exactly one of"]),
    ("two-model-sources", [("model.checkpoint", "x.pt")], "model", ["exactly one of"]),
    ("missing-checkpoint", [("model.recipe", None), ("model.train", {}),
                            ("model.checkpoint", "nope/model.pt")], "model.checkpoint", ["no such file"]),
    ("unknown-recipe", [("model.recipe", "magic")], "model.recipe", ["magic", "ce", "ldr-ft"]),
    ("bad-train-field", [("model.train.epochs", 0)], "model.train.epochs", [">= 1"]),
    ("unknown-train-field", [("model.train.epoch", 2)], "model.train.epoch", ["unknown"]),
    ("train-sets-data", [("model.train.dataset", "cifar10")], "model.train.dataset",
     ["data.dataset"]),
    ("truncation-too-big", [("model.truncations", [8, 32])], "model.truncations[1]",
     ["latent_dim"]),
    ("scale-negative", [("coding.scales", [1.0, -0.5])], "coding.scales[1]", ["> 0"]),
    ("crc-bits", [("coding.crc_bits", 12)], "coding.crc_bits", ["8, 16, 32"]),
    ("no-channels", [("channels", {}), ("sweep", {})], "channels", ["at least one"]),
    ("unknown-channel", [("channels.ray.type", "rayleigh")], "channels.ray.type",
     ["rayleigh-block", "awgn"]),
    ("missing-channel-model", [("channels.ray", {"mean_snr_db": 3.0})], "channels.ray.type",
     ["missing"]),
    ("unknown-channel-param", [("channels.ray.speed_kmh", 3.0)], "channels.ray.speed_kmh",
     ["coherence_frames", "mean_snr_db"]),
    ("bad-channel-param", [("channels.ray.coherence_frames", 0)],
     "channels.ray.coherence_frames", ["coherence_frames"]),
    ("bad-phy", [("link.phy", "wifi")], "link.phy", ["shannon", "nr", "bittrue"]),
    ("bad-phy-param", [("link.bandwidth_hz", -1.0)], "link.bandwidth_hz", ["bandwidth_hz"]),
    ("unknown-phy-param", [("link.mcs", 3)], "link.mcs", ["bandwidth_hz"]),
    ("images-per-packet", [("link.images_per_packet", 0)], "link.images_per_packet", [">= 1"]),
    ("fallback", [("link.fallback", "guess")], "link.fallback", ["error", "prior"]),
    ("max-attempts-zero", [("link.max_attempts", 0)], "link.max_attempts", [">= 1"]),
    ("max-attempts-float", [("link.max_attempts", 2.5)], "link.max_attempts", ["integer"]),
    ("deadline-zero", [("link.deadline_frames", 0)], "link.deadline_frames", [">= 1"]),
    ("retransmission-without-deadline", [("link.max_attempts", 3)], "link.deadline_frames",
     [">= 2", "max_attempts"]),
    ("sweep-retransmission-without-deadline", [("sweep", {"link.max_attempts": [1, 2]})],
     "link.deadline_frames", ["sweep point", "link.max_attempts=2"]),
    ("bad-csi", [("csi.type", "genie")], "csi.type", ["perfect", "noisy", "ack-nack"]),
    ("bad-csi-param", [("csi", {"type": "noisy", "std_db": -1})], "csi.std_db", ["std_db"]),
    ("csi-unknown-param", [("csi", {"type": "delayed", "delay": 2})], "csi.delay",
     ["delay_frames"]),
    ("no-policies", [("policies", {})], "policies", ["at least one"]),
    ("unknown-policy", [("policies.greedy.type", "greedy")], "policies.greedy.type",
     ["capacity-greedy", "oracle"]),
    ("policy-bad-margin", [("policies.greedy.margin", 1.5)], "policies.greedy.margin",
     ["margin"]),
    ("policy-unknown-param", [("policies.greedy.margn", 0.1)], "policies.greedy.margn",
     ["margin"]),
    ("fixed-missing-k", [("policies.fixed.k", _DELETE)], "policies.fixed.k", ["missing"]),
    ("fixed-k-not-variant", [("policies.fixed.k", 12)], "policies.fixed.k", ["8, 16"]),
    ("fixed-scale-not-on-grid", [("policies.fixed.scale", 3.0)], "policies.fixed.scale",
     ["0.5, 1.0, 2.0"]),
    ("sweep-not-list", [("sweep", {"frames": 10})], "sweep.frames", ["non-empty list"]),
    ("sweep-table-key", [("sweep", {"coding.scales": [[1.0]]})], "sweep.coding.scales",
     ["channels", "policies"]),
    ("sweep-bad-value", [("sweep", {"policies.greedy.margin": [0.1, 2.0]})],
     "policies.greedy.margin", ["sweep point"]),
    ("sweep-unknown-param", [("sweep", {"channels.ray.snr": [1.0]})], "channels.ray.snr",
     ["mean_snr_db"]),
    ("outputs-figure", [("outputs.figures", ["accuracy_vs_snr", "pie"])], "outputs.figures[1]",
     ["timeline", "accuracy_vs_capacity"]),
    ("outputs-ci", [("outputs.ci", "normal")], "outputs.ci", ["wilson", "bootstrap"]),
    ("confidence", [("outputs.confidence", 1.0)], "outputs.confidence", ["< 1"]),
    ("imagefolder-root", [("data.dataset", "imagefolder")], "data.root", ["required"]),
    ("section-not-mapping", [("link", "shannon")], "link", ["mapping"]),
    ("bool-for-int", [("frames", True)], "frames", ["integer"]),
    ("paper-figures-not-mapping", [("paper_figures", [1])], "paper_figures", ["mapping"]),
    ("paper-figures-unknown-key", [("paper_figures", {"model": {}})], "paper_figures.model",
     ["allowed keys", "models", "entropy_targets"]),
    ("paper-figures-models-list", [("paper_figures", {"models": ["cifar10-ce-d64"]})],
     "paper_figures.models", ["mapping"]),
    ("paper-figures-model-not-string", [("paper_figures", {"models": {"a": 3}})],
     "paper_figures.models.a", ["string"]),
    ("paper-figures-unknown-pretrained", [("paper_figures", {"models": {"a": "resnet-imagenet"}})],
     "paper_figures.models.a", ["unknown pretrained", "cifar10-ldr-ft-d64"]),
    ("paper-figures-missing-checkpoint", [("paper_figures", {"models": {"a": "nope/m.pt"}})],
     "paper_figures.models.a", ["no such file"]),
    ("paper-figures-target-negative", [("paper_figures", {"entropy_targets": [10.0, -1.0]})],
     "paper_figures.entropy_targets[1]", ["> 0"]),
    ("paper-figures-no-targets", [("paper_figures", {"entropy_targets": []})],
     "paper_figures.entropy_targets", ["at least one"]),
    ("paper-figures-unknown-truncation-label",
     [("paper_figures", {"models": {"a": "cifar10-ce-d64"}, "truncation_models": ["a", "b"]})],
     "paper_figures.truncation_models[1]", ["'b'", "labels: a"]),
    ("paper-figures-unknown-rate-label",
     [("paper_figures", {"models": {"a": "cifar10-ce-d64"}, "rate_models": ["c"]})],
     "paper_figures.rate_models[0]", ["'c'", "labels: a"]),
    ("paper-figures-unknown-distortion-label",
     [("paper_figures", {"models": {"a": "cifar10-ce-d64"}, "distortion_models": ["a", "x"]})],
     "paper_figures.distortion_models[1]", ["'x'", "labels: a"]),
    ("paper-figures-distortions", [("paper_figures", {"distortions": "yes"})],
     "paper_figures.distortions", ["true or false"]),
]


@pytest.mark.parametrize(("changes", "key", "words"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_scenarios_name_the_key(changes, key, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(_with(*changes))
    assert info.value.key == key, str(info.value)
    message = str(info.value)
    assert message.startswith(key + ":"), message
    for w in words:
        assert w in message, (w, message)


def test_there_are_at_least_twenty_malformed_cases():
    assert len(MALFORMED) >= 20


def test_set_overrides_are_yaml_parsed_and_dotted():
    loaded = load_scenario(BASE, ["frames=7", "policies.greedy.margin=0.25",
                                  "sweep.channels.*.mean_snr_db=[5, 15, 25]",
                                  "csi={type: noisy, std_db: 2}"])
    sc = loaded.scenario
    assert sc.frames == 7 and sc.policies["greedy"].params["margin"] == 0.25
    assert sc.csi.type == "noisy" and sc.csi.params == {"std_db": 2}
    assert [p.scenario.channels["ray"].params["mean_snr_db"] for p in loaded.points] == [5, 15, 25]
    with pytest.raises(ScenarioError, match="frames: must be >= 1"):
        load_scenario(BASE, ["frames=0"])
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        parse_override("frames")
    with pytest.raises(ScenarioError, match="malformed dotted key"):
        parse_override("a..b=1")


def test_the_resolved_config_round_trips(tmp_path):
    sc = load_scenario(BASE).scenario
    text = yaml.safe_dump(sc.to_dict(), sort_keys=False)
    path = tmp_path / "resolved.yaml"
    path.write_text(text)
    again = load_scenario(path).scenario
    assert again == sc


def test_file_errors(tmp_path):
    with pytest.raises(ScenarioError, match="no scenario file 'missing.yaml'.*quickstart"):
        load_scenario("missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="top level"):
        load_scenario(top)


def test_wildcard_applies_to_every_channel():
    raw = _with(("channels.ray2", {"type": "awgn", "snr_db": 3.0}),
                ("sweep", {"channels.ray.mean_snr_db": [1.0], "channels.ray2.snr_db": [2.0, 4.0]}))
    loaded = load_scenario(raw)
    assert len(loaded.points) == 2
    assert loaded.points[1].scenario.channels["ray2"].params["snr_db"] == 4.0


def test_retransmission_keys_are_link_settings_not_phy_parameters():
    from commsldr.scenario.load import phy_params

    loaded = load_scenario(_with(("link.max_attempts", 3), ("link.deadline_frames", 4),
                                 ("sweep", {"link.max_attempts": [1, 3]})))
    sc = loaded.scenario
    assert (sc.link.max_attempts, sc.link.deadline_frames) == (3, 4)
    assert [p.scenario.link.max_attempts for p in loaded.points] == [1, 3]
    assert "max_attempts" not in phy_params(sc) and "deadline_frames" not in phy_params(sc)
    assert sc.to_dict()["link"]["max_attempts"] == 3
    default = load_scenario(BASE).scenario.link
    assert (default.max_attempts, default.deadline_frames) == (1, 1)
