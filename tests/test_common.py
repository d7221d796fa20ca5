"""Checks run over every public estimator, strategy and module of the package."""

import inspect
import pickle
import subprocess
import sys

import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

import allsh_sklearn
from allsh_sklearn import augment, strategies
from allsh_sklearn.augment import BaseAugmenter


def _public_classes(module, base):
    return sorted(
        (
            obj
            for name in module.__all__
            if inspect.isclass(obj := getattr(module, name))
            and issubclass(obj, base)
            and not name.startswith("Base")
        ),
        key=lambda cls: cls.__name__,
    )


AUGMENTERS = _public_classes(augment, BaseAugmenter)
STRATEGIES = _public_classes(strategies, BaseEstimator)

# scikit-learn's common checks feed numeric 2-d arrays. An augmenter takes
# texts (its tags say so: two_d_array=False, string=True), and on these tags
# scikit-learn skips its whole suite with a SkipTestWarning; the API checks
# that need no data are run one by one in the next test. A check that fails
# must be listed here with its reason, as imbalanced-learn does; none does.
EXPECTED_FAILED_CHECKS = {}


def _instances():
    instances = []
    for cls in AUGMENTERS:
        params = (
            {"random_state": 0}
            if "random_state" in inspect.signature(cls).parameters
            else {}
        )
        instances.append(cls(**params))
    return instances


@parametrize_with_checks(
    _instances(),
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(
        type(est).__name__, {}
    ),
)
def test_sklearn_compatible_augmenter(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cls", AUGMENTERS + STRATEGIES, ids=lambda cls: cls.__name__)
def test_clone_and_params_round_trip(cls):
    estimator = cls()
    params = estimator.get_params()
    cloned = clone(estimator)
    assert cloned.get_params().keys() == params.keys()
    estimator.set_params(**params)
    for key, value in params.items():
        assert estimator.get_params()[key] is value


@pytest.mark.parametrize(
    "cls",
    AUGMENTERS + STRATEGIES + [allsh_sklearn.ActiveLearner],
    ids=lambda cls: cls.__name__,
)
def test_docstring_documents_every_parameter(cls):
    doc = inspect.getdoc(cls) or ""
    assert "Parameters\n----------" in doc, f"{cls.__name__} has no Parameters section"
    section = doc.split("Parameters\n----------", 1)[1]
    for name in inspect.signature(cls).parameters:
        assert f"\n{name} :" in "\n" + section or f", {name} :" in section, (
            f"{cls.__name__} does not document its parameter {name!r}"
        )


API_CHECKS = [
    estimator_checks.check_no_attributes_set_in_init,
    estimator_checks.check_parameters_default_constructible,
    estimator_checks.check_get_params_invariance,
    estimator_checks.check_set_params,
    estimator_checks.check_estimator_repr,
    estimator_checks.check_estimator_cloneable,
    estimator_checks.check_estimator_tags_renamed,
    estimator_checks.check_valid_tag_types,
    estimator_checks.check_do_not_raise_errors_in_init_or_set_params,
]


@pytest.mark.parametrize("check", API_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("cls", AUGMENTERS + STRATEGIES, ids=lambda cls: cls.__name__)
def test_sklearn_api_checks_that_need_no_numeric_data(cls, check):
    """scikit-learn skips the whole suite above for string-input estimators.

    These checks of scikit-learn's suite use no numeric data, so they run on
    every augmenter and strategy (which are estimators without numeric input).
    """
    check(cls.__name__, cls())


def test_augmenters_fit_transform_keeps_row_count():
    corpus = ["a good film", "a bad film with a dull plot", "great acting"]
    for estimator in _instances():
        out = estimator.fit_transform(corpus)
        assert len(out) == len(corpus)
        assert all(isinstance(text, str) and text for text in out)
        pickled = pickle.loads(pickle.dumps(estimator))
        assert pickled.transform(corpus) == estimator.transform(corpus)


def heavy_modules_imported_by(code):
    """Run ``code`` in a fresh interpreter: which of torch, transformers it imports."""
    heavy = ("torch", "transformers")
    code += f"\nimport sys; print(*[name in sys.modules for name in {heavy!r}])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return [name for name, flag in zip(heavy, out, strict=True) if flag == "True"]


def test_import_does_not_import_torch():
    code = "import allsh_sklearn, allsh_sklearn.strategies, allsh_sklearn.augment"
    assert heavy_modules_imported_by(code) == []


def test_all_names_exist():
    for module in (allsh_sklearn, strategies, augment, allsh_sklearn.divergences):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)


@pytest.mark.parametrize("cls", STRATEGIES, ids=lambda cls: cls.__name__)
def test_declared_constraints_name_parameters_their_defaults_satisfy(cls):
    strategy = cls()
    declared = cls._parameter_constraints
    assert set(declared) <= set(strategy.get_params(deep=False)), (
        f"{cls.__name__} declares constraints of parameters it does not have"
    )
    strategy._validate_params()
