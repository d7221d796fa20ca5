"""The ``precision`` parameter: bfloat16 autocast where the hardware has it.

Measured on this project's 2-core CPU (AMD EPYC with AVX512-BF16, no AMX;
``benchmarks/bench_fast_finetune.py``): ``torch.autocast("cpu",
dtype=torch.bfloat16)`` scores MiniLM about 1.8x faster than float32 and
trains a step 1.4-2x faster, with the same argmax on SST-2 texts. Without
native bfloat16 instructions (AVX512-BF16 or AMX on x86) oneDNN emulates
them and bfloat16 is slower, so ``"auto"`` only picks it when they exist.
"""

import torch

from ..utils._validation import check_one_of

__all__ = ["PRECISIONS", "autocast_dtype", "bf16_is_native", "resolve_precision"]

#: Values of the ``precision`` parameter.
PRECISIONS = ("auto", "float32", "bfloat16")


def bf16_is_native(device="cpu"):
    """Whether ``device`` runs bfloat16 matrix products natively.

    Parameters
    ----------
    device : str or torch.device, default="cpu"

    Returns
    -------
    native : bool
        On CPU: AVX512-BF16 or AMX tiles; on CUDA: ``torch.cuda.is_bf16_supported()``.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision, device="cpu"):
    """Turn the ``precision`` parameter into ``"float32"`` or ``"bfloat16"``.

    Parameters
    ----------
    precision : {"auto", "float32", "bfloat16"}
        ``"auto"``: bfloat16 where :func:`bf16_is_native`, else float32.
    device : str or torch.device, default="cpu"

    Returns
    -------
    resolved : {"float32", "bfloat16"}

    Examples
    --------
    >>> resolve_precision("float32")
    'float32'
    >>> resolve_precision("auto") in ("float32", "bfloat16")
    True
    """
    check_one_of(precision, "precision", PRECISIONS, owner="TransformerClassifier")
    if precision == "auto":
        return "bfloat16" if bf16_is_native(device) else "float32"
    return precision


def autocast_dtype(resolved):
    """The autocast dtype of a resolved precision (None: no autocast)."""
    return torch.bfloat16 if resolved == "bfloat16" else None
