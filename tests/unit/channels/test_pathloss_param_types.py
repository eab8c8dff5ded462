"""``pathloss-shadowing`` parameters of the wrong type: one message naming the parameter and what
is allowed (a list of numbers; a model name; the small-scale model's parameter names)."""

from __future__ import annotations

import pytest

from commsldr_channels import ChannelParameterError, create_channel


@pytest.mark.parametrize(("params", "match"), [
    ({"distances_m": 5}, r"^distances_m: expected a list of distances in metres .* got 5$"),
    ({"distances_m": "abc"}, r"^distances_m: expected a list .* got 'abc'$"),
    ({"distances_m": {"a": 1}}, r"^distances_m: expected a list .* got \{'a': 1\}$"),
    ({"distances_m": [1.0, "x"]}, r"^distances_m\[1\]: expected a number"),
    ({"small_scale_params": 5},
     r"^small_scale_params: expected a mapping of parameter names to values for small_scale "
     r"'rayleigh-block' \(allowed: mean_snr_db, coherence_frames\), got 5$"),
    ({"small_scale_params": [1]}, r"^small_scale_params: expected a mapping"),
    ({"small_scale_params": {"nope": 1}},
     r"^small_scale_params: 'nope' is not a parameter of small_scale 'rayleigh-block' "
     r"\(allowed: mean_snr_db, coherence_frames\)$"),
    ({"small_scale": "doppler-fading", "small_scale_params": {"nope": 1}},
     r"^small_scale_params: 'nope' is not a parameter of small_scale 'doppler-fading' "
     r"\(allowed: .*doppler_hz, frame_s"),
    ({"small_scale": "doppler-fading", "small_scale_params": {"frame_s": "abc"}},
     r"^small_scale_params: frame_s: expected a number"),
    ({"small_scale": 5}, r"^small_scale: expected the name of a small-scale fading model"),
    ({"small_scale": [1]}, r"^small_scale: expected the name"),
    ({"small_scale": "nope"}, r"^small_scale: .*unknown channel 'nope'"),
])
def test_wrong_types_name_the_parameter_and_what_is_allowed(params, match) -> None:
    with pytest.raises(ChannelParameterError, match=match):
        create_channel("pathloss-shadowing", **params)


def test_good_lists_and_mappings_still_work() -> None:
    ch = create_channel("pathloss-shadowing", distances_m=(50, 60.0), small_scale="doppler-fading",
                        small_scale_params={"carrier_hz": 3.5e9, "frame_s": 0.01})
    assert ch.distances_m == [50.0, 60.0]
    assert create_channel("pathloss-shadowing", small_scale=None).small_scale_params == {}
