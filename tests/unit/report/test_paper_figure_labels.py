"""Which models the paper's Fig. 4 treats as truncated variants."""

from commsldr.report.paper_figures import truncated_labels


def test_only_real_truncations_are_truncated_variants():
    info = {
        "CE-T d128": {"latent_dim": 128, "truncated_from": None},
        "trunc 128->64": {"latent_dim": 64, "truncated_from": 128},
        # the equal-epoch control: the truncate recipe keeping all 64 entries
        "CE control d64": {"latent_dim": 64, "truncated_from": 64},
        "CE-T d64": {"latent_dim": 64},
    }
    assert truncated_labels(info) == ["trunc 128->64"]
