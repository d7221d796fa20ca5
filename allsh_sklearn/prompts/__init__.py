"""Prompt selection: choosing in-context examples for a causal language model.

:class:`PromptSelector` is a scikit-learn classifier that picks ``n_shots``
demonstrations from its training data (random, contextual calibration,
uncertainty or ALLSH, as in Section 3.2 and Table 4 of the paper) and
classifies texts from the next-token probabilities of the label words.

Importing this module does not import torch or transformers; they are loaded
when a model is first needed.
"""

from ._calibration import (
    CONTENT_FREE_INPUTS,
    apply_contextual_calibration,
    content_free_distribution,
)
from ._language_model import (
    CausalLMScorer,
    LabelWordError,
    convert_smollm2,
    get_cache_dir,
    load_causal_lm,
)
from ._selector import STRATEGIES, PromptSelector
from ._templates import TEMPLATES, PromptTemplate, get_template

__all__ = [
    "CONTENT_FREE_INPUTS",
    "STRATEGIES",
    "TEMPLATES",
    "CausalLMScorer",
    "LabelWordError",
    "PromptSelector",
    "PromptTemplate",
    "apply_contextual_calibration",
    "content_free_distribution",
    "convert_smollm2",
    "get_cache_dir",
    "get_template",
    "load_causal_lm",
]
