"""Training: one plain-PyTorch loop with parameter groups and freezing, checkpoints and exact
resume, and the recipes of Qi et al. (CE-T, screening, DuPHiL, LDR-FT, truncation).

See the guide page "Training" for the recipes, the CLI and the ε convention.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, imported on first use (``commsldr train --help`` needs no torch)
    from commsldr.train.checkpoint import (
        CheckpointError,
        load_checkpoint,
        load_model,
        model_from_checkpoint,
        model_id,
        save_checkpoint,
    )
    from commsldr.train.config import TrainConfig, paper_config
    from commsldr.train.distributed import DistContext, init_distributed
    from commsldr.train.evaluation import evaluate, predict_from_latent
    from commsldr.train.loop import PhaseResult, train_phase
    from commsldr.train.phase import Phase, Step
    from commsldr.train.recipes import (
        RecipeResult,
        build_model,
        list_recipes,
        load_data,
        load_split,
        register_recipe,
        run_recipe,
    )
    from commsldr.train.settings import OptimSettings, SideSettings

#: exported name -> the submodule that defines it
_EXPORTS = {
    **dict.fromkeys(("CheckpointError", "load_checkpoint", "load_model", "model_from_checkpoint",
                     "model_id", "save_checkpoint"), "checkpoint"),
    **dict.fromkeys(("TrainConfig", "paper_config"), "config"),
    **dict.fromkeys(("DistContext", "init_distributed"), "distributed"),
    **dict.fromkeys(("evaluate", "predict_from_latent"), "evaluation"),
    **dict.fromkeys(("PhaseResult", "train_phase"), "loop"),
    **dict.fromkeys(("Phase", "Step"), "phase"),
    **dict.fromkeys(("RecipeResult", "build_model", "list_recipes", "load_data", "load_split",
                     "register_recipe", "run_recipe"), "recipes"),
    **dict.fromkeys(("OptimSettings", "SideSettings"), "settings"),
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "CheckpointError",
    "DistContext",
    "Phase",
    "PhaseResult",
    "OptimSettings",
    "RecipeResult",
    "SideSettings",
    "Step",
    "TrainConfig",
    "build_model",
    "evaluate",
    "init_distributed",
    "list_recipes",
    "load_checkpoint",
    "load_data",
    "load_split",
    "load_model",
    "model_from_checkpoint",
    "model_id",
    "paper_config",
    "predict_from_latent",
    "register_recipe",
    "run_recipe",
    "save_checkpoint",
    "train_phase",
]
