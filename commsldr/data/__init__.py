"""commsldr.data: datasets as in-memory uint8 tensors, batched augmentation, distortions.

See the guide page "Data and models" for the synthetic dataset, caching and the augmentation
family T.
"""

from .augment import AUGMENT_MODES, Augment, LightAugment, make_augment, make_views
from .datasets import (
    DATASETS,
    SYNTHETIC_DEFAULT_SIZE,
    cache_dir,
    load_dataset,
    load_imagefolder,
    load_labels,
)
from .distort import DISTORTIONS, MAX_SEVERITY, ROTATION_DEG, distort
from .loader import BatchLoader
from .synthetic import SYNTHETIC_CLASSES, make_synthetic
from .tensors import (
    DEFAULT_MEAN,
    DEFAULT_STD,
    INFERENCE_BATCH_SIZE,
    ImageTensors,
    derive_seed,
    to_float,
)

__all__ = [
    "AUGMENT_MODES",
    "DATASETS",
    "DEFAULT_MEAN",
    "DEFAULT_STD",
    "DISTORTIONS",
    "INFERENCE_BATCH_SIZE",
    "MAX_SEVERITY",
    "ROTATION_DEG",
    "SYNTHETIC_CLASSES",
    "SYNTHETIC_DEFAULT_SIZE",
    "Augment",
    "BatchLoader",
    "ImageTensors",
    "LightAugment",
    "cache_dir",
    "derive_seed",
    "distort",
    "load_dataset",
    "load_imagefolder",
    "load_labels",
    "make_augment",
    "make_synthetic",
    "make_views",
    "to_float",
]
