"""Query strategies: ALLSH and the baselines it is compared against.

Every strategy is callable as ``strategy(classifier, X_pool, n_instances=1,
*, random_state=None) -> (indices, scores)``. Lower-case names are ready-made
instances, so that ``ActiveLearner(query_strategy=allsh)`` reads as in modAL.
Strategies receive what one call needs in a :class:`QueryContext`;
:class:`ClassBalanced` balances the batch of any strategy between the
predicted classes.
"""

from ._allsh import ALLSH, WCA_COPIES, allsh_scores
from ._badge import BADGE, badge_gradient_norms, badge_kmeans_plusplus
from ._balance import ClassBalanced
from ._base import BaseQueryStrategy
from ._cal import CAL, cal_scores
from ._context import QueryContext
from ._uncertainty import (
    EntropySampling,
    MarginSampling,
    RandomSampling,
    UncertaintySampling,
    classifier_entropy,
    classifier_least_confidence,
    classifier_margin,
)

random_sampling = RandomSampling()
entropy_sampling = EntropySampling()
margin_sampling = MarginSampling()
uncertainty_sampling = UncertaintySampling()
allsh = ALLSH()
wca = ALLSH(n_augmentations=WCA_COPIES, worst_case=True)
cal = CAL()
badge = BADGE()
balanced_allsh = ClassBalanced()

__all__ = [
    "ALLSH",
    "BADGE",
    "CAL",
    "BaseQueryStrategy",
    "ClassBalanced",
    "EntropySampling",
    "MarginSampling",
    "QueryContext",
    "RandomSampling",
    "UncertaintySampling",
    "WCA_COPIES",
    "allsh",
    "allsh_scores",
    "badge",
    "badge_gradient_norms",
    "badge_kmeans_plusplus",
    "balanced_allsh",
    "cal",
    "cal_scores",
    "classifier_entropy",
    "classifier_least_confidence",
    "classifier_margin",
    "entropy_sampling",
    "margin_sampling",
    "random_sampling",
    "uncertainty_sampling",
    "wca",
]
