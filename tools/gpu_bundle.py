"""What the SST-2 full-pool run needs on a GPU machine that reaches nothing.

Issue 29, item 8: the device machine (``tools/gpu_sst2_full_pool.sh``) has
PyTorch, transformers and scikit-learn but no network, and takes at most
64 MiB of files with the repository. This tool packs, here, what it lacks
into ``.gpu_bundle/`` (ignored by git):

- ``minilm/``: the bundled all-MiniLM-L6-v2's config and tokenizer, and its
  weights with every matrix stored as int8 with one float32 scale per row
  (absmax), the rest float16: 23 MB instead of 87 (the float32 weights
  would not fit beside the repository);
- ``data/sst2/``: SST-2's training split (the paper's 60,614-phrase pool)
  and its test split, from ``--data-home`` (default: ``ALLSH_SKLEARN_DATA``
  where set, else ``../shared/data`` beside the repository);
- ``wheels/``: skorch, the one Python package the machine lacks.

There, ``unpack`` writes the weights back as float32 for
``from_pretrained``. The int8 copy differs from the original by at most
half a quantisation step per weight (``check`` prints the cosine
similarity of the two models' sentence embeddings on SST-2 texts).

Run::

    python tools/gpu_bundle.py pack                    # here
    python tools/gpu_bundle.py check                   # here: the copy's fidelity
    python3 tools/gpu_bundle.py unpack --to /tmp/minilm   # on the device
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / ".gpu_bundle"
#: What the device takes with the repository (tracked files included).
TRAVEL_LIMIT = 64 * 2**20
_SCALE = ".__row_scale__"


def quantize(tensors):
    """Matrices to int8 with one absmax scale per row; the rest to float16.

    Parameters
    ----------
    tensors : dict of str -> torch.Tensor
        Floating-point weights.

    Returns
    -------
    packed : dict of str -> torch.Tensor
        ``name`` (int8 or float16) and, for matrices, ``name + _SCALE``.
    """
    import torch

    packed = {}
    for name, tensor in tensors.items():
        tensor = tensor.float()
        if tensor.ndim == 2 and tensor.shape[0] > 1:
            scale = tensor.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127
            packed[name] = torch.round(tensor / scale).to(torch.int8)
            packed[name + _SCALE] = scale
        else:
            packed[name] = tensor.half()
    return packed


def dequantize(packed):
    """Inverse of :func:`quantize`: float32 weights.

    Parameters
    ----------
    packed : dict of str -> torch.Tensor

    Returns
    -------
    tensors : dict of str -> torch.Tensor
    """
    tensors = {}
    for name, tensor in packed.items():
        if name.endswith(_SCALE):
            continue
        scale = packed.get(name + _SCALE)
        tensor = tensor.float()
        tensors[name] = (tensor * scale if scale is not None else tensor).contiguous()
    return tensors


def _tracked_bytes():
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return sum((ROOT / name.decode()).stat().st_size for name in listing if name)


def _folder_bytes(folder):
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def pack(data_home):
    """Write ``.gpu_bundle/`` and print what would travel.

    Parameters
    ----------
    data_home : Path
        The benchmark data (``sst2/`` in it).
    """
    from safetensors.torch import load_file, save_file

    from allsh_sklearn.models._loader import default_model_path

    sst2 = [data_home / "sst2" / name
            for name in ("train.jsonl.gz", "test.jsonl.gz", "meta.json")]  # fmt: skip
    missing = [path.name for path in sst2 if not path.exists()]
    if missing:
        sys.exit(f"--data-home must hold sst2/{missing[0]}. Got {data_home}.")
    source = default_model_path()
    if BUNDLE.exists():
        shutil.rmtree(BUNDLE)
    model = BUNDLE / "minilm"
    model.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json",
                 "special_tokens_map.json", "vocab.txt"):  # fmt: skip
        shutil.copy(source / name, model / name)
    save_file(quantize(load_file(source / "model.safetensors")),
              model / "int8.safetensors")  # fmt: skip
    data = BUNDLE / "data" / "sst2"
    data.mkdir(parents=True)
    for path in sst2:
        shutil.copy(path, data / path.name)
    wheels = BUNDLE / "wheels"
    from importlib.metadata import version

    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
         "--only-binary=:all:", "-d", str(wheels), f"skorch=={version('skorch')}"],
        check=True,
    )  # fmt: skip
    bundle, tracked = _folder_bytes(BUNDLE), _tracked_bytes()
    total = bundle + tracked
    mib = 2**20
    print(
        f"bundle {bundle / mib:.1f} MiB + tracked files {tracked / mib:.1f} MiB "
        f"= {total / mib:.1f} MiB of the device's {TRAVEL_LIMIT / mib:.0f}"
    )
    if total > TRAVEL_LIMIT:
        sys.exit("Too large to travel: the device would refuse the call.")


def unpack(destination):
    """Write a loadable float32 copy of the bundle's MiniLM.

    Parameters
    ----------
    destination : Path
    """
    from safetensors.torch import load_file, save_file

    destination.mkdir(parents=True, exist_ok=True)
    for path in (BUNDLE / "minilm").iterdir():
        if path.name != "int8.safetensors":
            shutil.copy(path, destination / path.name)
    tensors = dequantize(load_file(BUNDLE / "minilm" / "int8.safetensors"))
    save_file(tensors, destination / "model.safetensors", metadata={"format": "pt"})
    print(f"wrote {destination}")


def check(data_home, destination):
    """Cosine similarity of the original's and the copy's sentence embeddings."""
    import numpy as np

    from allsh_sklearn.datasets import load_dataset
    from allsh_sklearn.models import SentenceEncoder
    from allsh_sklearn.models._loader import default_model_path

    unpack(destination)
    texts, _ = load_dataset(
        "sst2", "test", data_home=data_home, return_X_y=True, n_samples=200,
        random_state=0,
    )  # fmt: skip
    texts = list(texts)
    original = SentenceEncoder(model=str(default_model_path())).fit_transform(texts)
    copy = SentenceEncoder(model=str(destination)).fit_transform(texts)
    cosine = np.sum(original * copy, axis=1) / (
        np.linalg.norm(original, axis=1) * np.linalg.norm(copy, axis=1)
    )
    print(
        f"cosine(original, int8 copy) over {len(texts)} SST-2 texts: "
        f"min {cosine.min():.5f}, mean {cosine.mean():.5f}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["pack", "unpack", "check"])
    parser.add_argument(
        "--data-home",
        type=Path,
        default=None,
        help="the benchmark data (default: $ALLSH_SKLEARN_DATA where set, else "
        "../shared/data beside the repository)",
    )
    parser.add_argument("--to", type=Path, default=Path("/tmp/minilm"))
    args = parser.parse_args(argv)
    if args.data_home is None:
        from allsh_sklearn.datasets import get_data_home

        env_set = bool(os.environ.get("ALLSH_SKLEARN_DATA"))
        args.data_home = get_data_home() if env_set else ROOT.parent / "shared" / "data"

    if args.action == "pack":
        pack(args.data_home)
    elif args.action == "unpack":
        unpack(args.to)
    else:
        check(args.data_home, args.to)


if __name__ == "__main__":
    main()
