"""Transformer classifiers for active learning (imports torch and skorch).

:class:`TransformerClassifier` fine-tunes a Hugging Face model on raw texts
inside a skorch net; :class:`ConsistencyLoss` is the paper's CL criterion
(eq. 5). ``allsh_sklearn.models.torch_divergences`` holds the differentiable
twins of :mod:`allsh_sklearn.divergences`.
"""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "allsh_sklearn.models needs torch, transformers and skorch. Install them "
        "with: pip install 'allsh-sklearn[transformers]' (install the CPU torch "
        "wheel first to avoid a multi-GB CUDA build)."
    ) from error

from . import _torch_divergences as torch_divergences
from ._consistency import ConsistencyLoss
from ._data import TruncationWarning
from ._default_model import default_model_path
from ._inference import classification_head_linear
from ._transformer import TransformerClassifier

__all__ = [
    "ConsistencyLoss",
    "TransformerClassifier",
    "TruncationWarning",
    "classification_head_linear",
    "default_model_path",
    "torch_divergences",
]
