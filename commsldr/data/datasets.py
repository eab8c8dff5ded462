"""Dataset loading: synthetic, CIFAR-10/100 (torchvision) and any ImageFolder, as uint8 tensors.

ImageFolder trees are decoded once (a thread pool, with a progress bar) and cached as a ``.pt``
file in the cache directory — ``$COMMSLDR_CACHE`` or ``~/.cache/commsldr`` — never inside the
dataset root, which may be read-only. The cache file name is a hash of the resolved path, the
split, the file list (names, sizes, modification times) and the options, so a changed tree
gives a new cache entry; a cache file that fails its checksum is rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from tqdm.auto import tqdm

from commsldr._atomic import atomic_torch_save

from .synthetic import make_synthetic
from .tensors import ImageTensors, derive_seed

__all__ = [
    "DATASETS",
    "IMAGE_EXTENSIONS",
    "SYNTHETIC_DEFAULT_SIZE",
    "cache_dir",
    "load_dataset",
    "load_imagefolder",
    "load_labels",
]

#: Names accepted by :func:`load_dataset`.
DATASETS: tuple[str, ...] = ("synthetic", "cifar10", "cifar100", "imagefolder")
#: File extensions read from an ImageFolder tree (case-insensitive).
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
#: Images per class of the synthetic splits when ``num_per_class`` is not given.
SYNTHETIC_DEFAULT_SIZE: dict[str, int] = {"train": 1000, "test": 200}
_CACHE_VERSION = 1


def cache_dir() -> Path:
    """The decode cache directory: :func:`commsldr.cache.cache_root` (``$COMMSLDR_CACHE``, else
    ``$XDG_CACHE_HOME/commsldr``, else ``~/.cache/commsldr``)."""
    from commsldr.cache import cache_root

    return cache_root()


def _default_torchvision_root() -> Path:
    return cache_dir() / "torchvision"


def load_dataset(
    name: str,
    split: str,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    num_per_class: int | None = None,
    seed: int = 0,
    image_size: int | None = None,
    progress: bool = True,
) -> ImageTensors:
    """Load a dataset split as :class:`ImageTensors` (``uint8 [N, 3, H, W]``).

    Args:
        name: one of :data:`DATASETS`.
        split: ``"train"`` or ``"test"`` (for ``imagefolder``: any sub-directory of ``root``).
        root: dataset directory (``cifar*``: torchvision's root, default
            ``<cache_dir>/torchvision``; ``imagefolder``: required; ``synthetic``: unused).
        download: let torchvision download CIFAR when it is missing under ``root``.
        num_per_class: keep this many images per class (stratified, drawn with ``seed``); for
            ``synthetic`` the number generated (default :data:`SYNTHETIC_DEFAULT_SIZE`). For
            ``imagefolder`` the subset is chosen before decoding, so only those files are read.
        seed: root seed; the synthetic train and test splits use independent derived streams.
        image_size: ``imagefolder`` only: resize every image to ``image_size x image_size``
            (needed when the images differ in size); ``synthetic``: the side length (default 32).
        progress: show a progress bar while decoding.

    Returns:
        The split, with ``classes`` in label order.

    Example:
        >>> d = load_dataset("synthetic", "test", num_per_class=2)
        >>> len(d), d.num_classes
        (20, 10)
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset name {name!r}; valid names: {list(DATASETS)}")
    if num_per_class is not None and (not isinstance(num_per_class, int) or num_per_class < 1):
        raise ValueError(f"num_per_class must be a positive int or None, got {num_per_class!r}")
    if name == "synthetic":
        if split not in SYNTHETIC_DEFAULT_SIZE:
            raise ValueError(f"split must be 'train' or 'test' for synthetic, got {split!r}")
        n = num_per_class or SYNTHETIC_DEFAULT_SIZE[split]
        return make_synthetic(n, seed=derive_seed(seed, f"synthetic/{split}"),
                              image_size=image_size or 32)
    if name in ("cifar10", "cifar100"):
        data = _load_cifar(name, split, root, download)
        return data.stratified_subset(num_per_class, seed=seed) if num_per_class else data
    if root is None:
        raise ValueError("root is required for name='imagefolder'")
    return load_imagefolder(root, split, num_per_class=num_per_class, seed=seed,
                            image_size=image_size, progress=progress)


def _load_cifar(name: str, split: str, root: str | os.PathLike[str] | None,
                download: bool) -> ImageTensors:
    from torchvision import datasets

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test' for {name}, got {split!r}")
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    path = Path(root).expanduser() if root is not None else _default_torchvision_root()
    try:
        ds = cls(str(path), train=split == "train", download=download)
    except OSError as err:  # urllib's URLError and socket errors: no network
        raise FileNotFoundError(
            f"{name}: download to root={str(path)!r} failed; this needs internet access "
            f"to www.cs.toronto.edu — offline, copy torchvision's {name} files (the "
            f"cifar-*-python folder) under that root, or use an imagefolder copy "
            f"(error: {err})"
        ) from None
    except RuntimeError as err:
        raise FileNotFoundError(
            f"{name} not found under root={str(path)!r}; pass download=True (commsldr: --download; "
            f"needs internet) or the directory that holds torchvision's {name} files as root "
            f"(commsldr: --data-root; scenarios: data.root) ({err})"
        ) from err
    images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
    labels = torch.as_tensor(ds.targets, dtype=torch.int64)
    return ImageTensors(images, labels, list(ds.classes))


def _list_imagefolder(split_dir: Path) -> tuple[list[str], list[Path], list[int]]:
    classes = sorted(d.name for d in split_dir.iterdir() if d.is_dir())
    if not classes:
        raise FileNotFoundError(f"no class sub-directories in {split_dir}")
    files: list[Path] = []
    labels: list[int] = []
    for i, c in enumerate(classes):
        found = sorted(
            p for p in (split_dir / c).iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
        )
        files += found
        labels += [i] * len(found)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {split_dir}")
    return classes, files, labels


def _decode(path: Path, image_size: int | None) -> torch.Tensor:
    import numpy as np
    from PIL import Image, UnidentifiedImageError
    from torchvision.transforms.v2.functional import resize

    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (OSError, UnidentifiedImageError) as err:
        raise ValueError(f"cannot decode image file {path}: {err}") from err
    img = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    if image_size is not None and tuple(img.shape[1:]) != (image_size, image_size):
        img = resize(img, [image_size, image_size], antialias=True)
    return img


def _checksum(images: torch.Tensor, labels: torch.Tensor) -> str:
    h = hashlib.sha256()
    h.update(images.contiguous().numpy().tobytes())
    h.update(labels.contiguous().numpy().tobytes())
    return h.hexdigest()


def load_labels(
    name: str,
    split: str,
    *,
    root: str | os.PathLike[str] | None = None,
    download: bool = False,
    num_per_class: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """The labels (``int64 [N]``) of the split :func:`load_dataset` returns for the same
    arguments, in the same order. An ImageFolder tree is only listed, not decoded, so this is
    cheap where decoding is not (e.g. a class prior from 50,000 training JPEGs)."""
    if name == "imagefolder":
        if root is None:
            raise ValueError("root is required for name='imagefolder'")
        split_dir = Path(root).expanduser().resolve() / split
        if not split_dir.is_dir():  # load_imagefolder's error message
            return load_imagefolder(root, split, num_per_class=num_per_class, seed=seed).labels
        classes, _, labels = _list_imagefolder(split_dir)
        label_t = torch.as_tensor(labels, dtype=torch.int64)
        if num_per_class is not None:
            label_t = label_t[_imagefolder_subset(label_t, len(classes), num_per_class, seed)]
        return label_t
    return load_dataset(name, split, root=root, download=download, num_per_class=num_per_class,
                        seed=seed, progress=False).labels


def _imagefolder_subset(labels: torch.Tensor, num_classes: int, num_per_class: int,
                        seed: int) -> torch.Tensor:
    """Sorted indices of ``num_per_class`` files per class (seeded), chosen before decoding."""
    g = torch.Generator().manual_seed(derive_seed(seed, "imagefolder_subset"))
    keep = []
    for c in range(num_classes):
        idx = torch.nonzero(labels == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=g)[:num_per_class]])
    return torch.cat(keep).sort().values


def load_imagefolder(
    root: str | os.PathLike[str],
    split: str,
    *,
    num_per_class: int | None = None,
    seed: int = 0,
    image_size: int | None = None,
    progress: bool = True,
    num_threads: int | None = None,
) -> ImageTensors:
    """Decode ``root/split/<class>/*.{jpg,jpeg,png}`` into :class:`ImageTensors`, with caching.

    Classes are the sub-directory names in sorted order (as ``torchvision.datasets.ImageFolder``).
    Decoding runs in a thread pool of ``num_threads`` (default ``min(8, cpu_count)``) with a tqdm
    bar; the result is stored in :func:`cache_dir` and reused by later calls with the same files
    and options.

    Args:
        root: dataset root holding one directory per split.
        split: sub-directory name, e.g. ``"train"``.
        num_per_class: decode only this many files per class (stratified, seeded).
        seed: seed of that subset.
        image_size: resize to a square of this side; required when image sizes differ.
        progress: show the progress bar.
        num_threads: decoder threads.

    Raises:
        FileNotFoundError: ``root/split`` is missing or holds no images.
        ValueError: a file cannot be decoded, or sizes differ and ``image_size`` is None.
    """
    root_path = Path(root).expanduser().resolve()
    split_dir = root_path / split
    if not split_dir.is_dir():
        have = sorted(d.name for d in root_path.iterdir() if d.is_dir()) if root_path.is_dir() else []
        raise FileNotFoundError(
            f"split directory {split_dir} not found (root={str(root_path)!r}); "
            f"available splits: {have}"
        )
    classes, files, labels = _list_imagefolder(split_dir)
    label_t = torch.as_tensor(labels, dtype=torch.int64)
    if num_per_class is not None:
        order = _imagefolder_subset(label_t, len(classes), num_per_class, seed)
        files = [files[i] for i in order.tolist()]
        label_t = label_t[order]

    key = hashlib.sha256()
    key.update(f"v{_CACHE_VERSION}|{root_path}|{split}|{image_size}|".encode())
    for f in files:
        st = f.stat()
        key.update(f"{f.relative_to(split_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    cache_file = cache_dir() / "imagefolder" / f"{root_path.name}-{split}-{key.hexdigest()[:20]}.pt"
    if cache_file.exists():
        try:
            blob = torch.load(cache_file, weights_only=True)
            data = ImageTensors(blob["images"], blob["labels"], blob["classes"])
            if blob["checksum"] != _checksum(data.images, data.labels) or not torch.equal(
                data.labels, label_t
            ):
                raise ValueError("checksum mismatch")
            return data
        except Exception as err:  # corrupt or stale cache: rebuild it
            warnings.warn(f"ignoring corrupt cache file {cache_file} ({err}); decoding again",
                          stacklevel=2)

    threads = num_threads or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        decoded = list(
            tqdm(pool.map(lambda p: _decode(p, image_size), files), total=len(files),
                 desc=f"decoding {root_path.name}/{split}", unit="img",
                 disable=None if progress else True)
        )
    shapes = {tuple(t.shape) for t in decoded}
    if len(shapes) != 1:
        raise ValueError(
            f"images under {split_dir} differ in size ({sorted(shapes)[:4]}...); pass image_size"
        )
    images = torch.stack(decoded)
    data = ImageTensors(images, label_t, classes)
    atomic_torch_save({"images": images, "labels": label_t, "classes": classes,
                       "checksum": _checksum(images, label_t), "version": _CACHE_VERSION},
                      cache_file)
    return data
