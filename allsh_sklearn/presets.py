"""Named query strategies: a class and its parameter values, in one table.

A preset is plain data: a strategy class and the ``set_params`` values that
make it the named variant (``"allsh-wca"`` is
``ALLSH().set_params(n_augmentations=4, worst_case=True)``). The experiment
runner, its command-line help, the example scripts and the labeling session
build strategies from :data:`PRESETS`; a new variant is one entry here.

Defaults are never repeated: the TF-IDF replacement rate is
:class:`~allsh_sklearn.augment.TfidfAugmenter`'s own default (``p=0.3``),
used whenever ALLSH has no augmenter; WCA's number of copies is
:data:`WCA_COPIES`.

Examples
--------
>>> from allsh_sklearn.presets import make_strategy
>>> wca = make_strategy("allsh-wca", random_state=0)
>>> wca.n_augmentations, wca.worst_case
(4, True)
>>> make_strategy("cal", n_neighbors=5).n_neighbors
5
"""

from dataclasses import dataclass, field

from .augment import TfidfAugmenter
from .strategies import (
    ALLSH,
    BADGE,
    CAL,
    EntropySampling,
    MarginSampling,
    RandomSampling,
    UncertaintySampling,
)
from .utils._validation import check_one_of

__all__ = ["PRESETS", "WCA_COPIES", "Preset", "describe_presets", "make_strategy"]

#: Augmented copies per text of worst-case augmentation (WCA, the paper's K).
WCA_COPIES = 4


@dataclass(frozen=True)
class Preset:
    """A strategy class and the parameter values of one named variant.

    Parameters
    ----------
    cls : type
        The strategy class (built with its defaults, then ``set_params``).
    params : dict, default={}
        The ``set_params`` values that make the variant.
    description : str, default=""
        One line for the command-line help and the docs.
    consistency : bool, default=False
        The variant also trains the classifier with the consistency loss
        (ALLSH + CL): the classifier's business, not the strategy's.
    """

    cls: type
    params: dict = field(default_factory=dict)
    description: str = ""
    consistency: bool = False

    def build(self, **params):
        """A new strategy: ``cls()`` with the preset's values, then ``params``.

        Parameters
        ----------
        **params : dict
            ``set_params`` values that override the preset's.

        Returns
        -------
        strategy : BaseQueryStrategy
        """
        return self.cls().set_params(**{**self.params, **params})


#: Strategy names and what they build. The experiment runner's specs
#: (``"allsh-wca:p=0.5"``) start from these.
PRESETS = {
    "random": Preset(RandomSampling, description="uniformly at random"),
    "entropy": Preset(EntropySampling, description="highest predictive entropy"),
    "margin": Preset(MarginSampling, description="smallest top-two margin"),
    "least-confidence": Preset(
        UncertaintySampling, description="lowest top-class probability"
    ),
    "badge": Preset(BADGE, description="k-means++ on gradient embeddings (BADGE)"),
    "cal": Preset(
        CAL,
        description=f"contrastive active learning (CAL), k={CAL().n_neighbors}",
    ),
    "allsh": Preset(
        ALLSH,
        description=f"ALLSH: KL to one TF-IDF copy (p={TfidfAugmenter().p}), the "
        "paper's",
    ),
    "allsh-wca": Preset(
        ALLSH,
        {"n_augmentations": WCA_COPIES, "worst_case": True},
        f"ALLSH, worst case over K={WCA_COPIES} copies (WCA)",
    ),
    "allsh-cl": Preset(
        ALLSH,
        description="ALLSH + consistency loss (needs the fine-tuned classifier)",
        consistency=True,
    ),
    "allsh-balanced": Preset(
        ALLSH,
        {"balance": "pool"},
        "ALLSH with class-balanced top-b (balance='pool')",
    ),
}


def make_strategy(name, **params):
    """Build the named strategy, with parameter values of your own.

    Parameters
    ----------
    name : str
        A name of :data:`PRESETS`.
    **params : dict
        ``set_params`` values that override the preset's (for example
        ``random_state=0`` or ``augmenter=SynonymAugmenter()``).

    Returns
    -------
    strategy : BaseQueryStrategy
    """
    check_one_of(name, "name", PRESETS, owner="make_strategy")
    return PRESETS[name].build(**params)


def describe_presets(width=16):
    """One line per preset: its name and description (for help texts).

    Parameters
    ----------
    width : int, default=16
        Width of the name column.

    Returns
    -------
    lines : list of str
    """
    return [f"{name:<{width}} {p.description}" for name, p in PRESETS.items()]
