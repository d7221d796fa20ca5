"""Declared parameter constraints (``allsh_sklearn.utils``) and their messages."""

import numbers
import os

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from allsh_sklearn.augment import (
    BackTranslationAugmenter,
    SynonymAugmenter,
    TfidfAugmenter,
)
from allsh_sklearn.learner import ActiveLearner
from allsh_sklearn.stopping import (
    DivergencePlateau,
    LabelBudget,
    OverallUncertainty,
    StabilizingPredictions,
)
from allsh_sklearn.utils import (
    Boolean,
    Callable,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    ParameterConstraintsMixin,
    RandomStateLike,
    validate_parameter,
    validate_params,
)


def _message(value, constraints, owner="Owner"):
    with pytest.raises((TypeError, ValueError)) as caught:
        validate_parameter(value, "x", constraints, owner=owner)
    return caught.type, str(caught.value)


# Constraints ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "constraint, text",
    [
        (Interval(numbers.Integral, 1, None), "an int >= 1"),
        (Interval(numbers.Integral, 0, None, closed="neither"), "an int > 0"),
        (Interval(numbers.Integral, None, 5, closed="right"), "an int <= 5"),
        (Interval(numbers.Integral, 1, 10, closed="both"), "an int in [1, 10]"),
        (Interval(numbers.Real, 0, None, closed="neither"), "a float > 0"),
        (Interval(numbers.Real, -1, 1, closed="right"), "a float in (-1, 1]"),
        (Interval(numbers.Real, 0, 1, closed="neither"), "a float in (0, 1)"),
        (Interval(numbers.Real, None, None), "a float"),
        (Options(("mean", "cls")), "one of ['mean', 'cls']"),
        (Options(("auto",)), "'auto'"),
        (Boolean(), "a bool"),
        (Callable(), "a callable"),
        (HasMethods("fit"), "an object with the methods ['fit']"),
        (InstanceOf(str), "an instance of str"),
        (InstanceOf(str, description="a path"), "a path"),
    ],
)
def test_descriptions(constraint, text):
    assert str(constraint) == text


@pytest.mark.parametrize(
    "value, accepted",
    [(1, True), (np.int64(3), True), (0, False), (True, False), (1.0, False),
     ("1", False), (None, False)],
)  # fmt: skip
def test_int_interval(value, accepted):
    assert Interval(numbers.Integral, 1, None).is_satisfied_by(value) is accepted


@pytest.mark.parametrize(
    "value, accepted",
    [(0.5, True), (1, True), (np.float32(0.25), True), (0.0, False),
     (float("nan"), False), (False, False), ("0.5", False)],
)  # fmt: skip
def test_real_interval(value, accepted):
    constraint = Interval(numbers.Real, 0, 1, closed="right")
    assert constraint.is_satisfied_by(value) is accepted


def test_nan_fails_an_unbounded_interval():
    assert not Interval(numbers.Real, None, None).is_satisfied_by(float("nan"))


def test_options():
    strings = Options(("mean", "cls"))
    assert strings.is_satisfied_by("mean")
    assert strings.is_satisfied_by(np.str_("cls"))
    assert not strings.is_satisfied_by(np.array(["mean"]))
    assert not strings.is_satisfied_by(["mean"])
    mixed = Options(("auto", True, False))
    assert mixed.is_satisfied_by(False)
    assert not mixed.is_satisfied_by("yes")
    assert not mixed.is_satisfied_by(np.array([True, False]))


def test_other_constraints():
    assert Boolean().is_satisfied_by(np.bool_(True))
    assert not Boolean().is_satisfied_by(0)
    assert HasMethods(["fit", "augment"]).is_satisfied_by(TfidfAugmenter())
    assert not HasMethods("augment").is_satisfied_by(object())
    assert InstanceOf((str, os.PathLike)).is_satisfied_by("dir")
    assert RandomStateLike().is_satisfied_by(np.random.RandomState(0))
    assert RandomStateLike().is_satisfied_by(2**32 - 1)
    assert not RandomStateLike().is_satisfied_by(-1)
    assert not RandomStateLike().is_satisfied_by(True)


def test_interval_refuses_bad_arguments():
    with pytest.raises(ValueError, match="'type' parameter of Interval"):
        Interval(int, 0, None)
    with pytest.raises(ValueError, match="'closed' parameter of Interval"):
        Interval(numbers.Real, 0, 1, closed="open")


# Messages ---------------------------------------------------------------------


def test_message_names_owner_parameter_expected_and_received():
    kind, message = _message(0, [Interval(numbers.Integral, 1, None), None])
    assert kind is ValueError
    assert message == (
        "The 'x' parameter of Owner must be an int >= 1 or None. Got 0 instead."
    )


def test_three_constraints_are_listed_with_commas():
    _, message = _message(-1, [Options(("auto",)), Interval(numbers.Integral, 1, None),
                               None])  # fmt: skip
    assert "must be 'auto', an int >= 1 or None. Got -1 instead." in message


def test_the_first_constraint_that_is_not_none_gives_the_error_type():
    constraint = Interval(numbers.Integral, 1, None, type_error=True)
    assert _message("3", [None, constraint])[0] is TypeError
    assert _message(0, [None, constraint])[0] is ValueError
    assert _message(1, [Boolean()])[0] is TypeError
    assert _message("max", [Options(("mean",))])[0] is ValueError


def test_callables_and_methods_show_the_type_received():
    _, message = _message(3, [Callable()])
    assert message.endswith("must be a callable. Got int instead.")
    _, message = _message([], [HasMethods("augment"), None])
    assert "Got list instead." in message


def test_long_values_are_cut_in_the_message():
    _, message = _message("x" * 200, [Boolean()], owner=None)
    assert message.startswith("The 'x' parameter must be a bool. Got 'xxx")
    assert "..." in message and len(message) < 120


def test_a_bad_declaration_is_refused():
    with pytest.raises(TypeError, match="constraint must be a Constraint"):
        validate_parameter(1, "x", ["an int"])


def test_validate_params_reads_the_declaration_in_order():
    class Thing:
        _parameter_constraints = {
            "a": [Interval(numbers.Integral, 0, None)],
            "b": [Boolean()],
        }

        def __init__(self, a=0, b=True):
            self.a, self.b = a, b

    assert validate_params(Thing()) is not None
    with pytest.raises(TypeError, match="'b' parameter of Thing must be a bool"):
        validate_params(Thing(b="yes"))
    with pytest.raises(ValueError, match="'a' parameter of Thing"):
        validate_params(Thing(a=-1, b="yes"))
    with pytest.raises(ValueError, match="'a' parameter of Other"):
        validate_params(Thing(a=-1), owner="Other")
    validate_params(Thing(a=-1), {"b": [Boolean()]})  # only what is asked


def test_mixin_replaces_sklearns_validate_params():
    class Budget(ParameterConstraintsMixin, BaseEstimator):
        _parameter_constraints = {"budget": [Interval(numbers.Integral, 1, None)]}

        def __init__(self, budget=1):
            self.budget = budget

    Budget()._validate_params()
    with pytest.raises(ValueError, match="'budget' parameter of Budget must be"):
        Budget(budget=0)._validate_params()


# The classes that declare their constraints ---------------------------------------


def _strategy(classifier, X_pool, n_instances, random_state=None):
    return np.arange(n_instances), np.zeros(n_instances)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: LabelBudget(0), ValueError,
         "The 'budget' parameter of LabelBudget must be an int >= 1. Got 0 instead."),
        (lambda: StabilizingPredictions(threshold=-1), ValueError,
         "The 'threshold' parameter of StabilizingPredictions must be a float in "
         "(-1, 1]. Got -1 instead."),
        (lambda: OverallUncertainty(measure="margin"), ValueError,
         "The 'measure' parameter of OverallUncertainty must be one of ['entropy', "
         "'least_confidence']. Got 'margin' instead."),
        (lambda: DivergencePlateau(tolerance=-0.1), ValueError,
         "The 'tolerance' parameter of DivergencePlateau must be a float >= 0. Got "
         "-0.1 instead."),
    ],
)  # fmt: skip
def test_stopping_rules(make, error, message):
    with pytest.raises(error) as caught:
        make().evaluate([])
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "augmenter, error, message",
    [
        (TfidfAugmenter(tokenizer="spacy"), ValueError,
         "The 'tokenizer' parameter of TfidfAugmenter must be one of ['bert-basic', "
         "'whitespace']. Got 'spacy' instead."),
        (TfidfAugmenter(joint_pairs=1), TypeError,
         "The 'joint_pairs' parameter of TfidfAugmenter must be a bool. Got 1 "
         "instead."),
        (SynonymAugmenter(source="ppdb"), ValueError,
         "The 'source' parameter of SynonymAugmenter must be 'wordnet' or 'glove'. "
         "Got 'ppdb' instead."),
        (SynonymAugmenter(vocabulary_size=1), ValueError,
         "The 'vocabulary_size' parameter of SynonymAugmenter must be an int >= 2. "
         "Got 1 instead."),
        (BackTranslationAugmenter(forward=3), TypeError,
         "The 'forward' parameter of BackTranslationAugmenter must be None, a model "
         "name or directory, an Apertium direction or a callable. Got int 3 instead."),
        (BackTranslationAugmenter(max_length_diff=-1.0), ValueError,
         "The 'max_length_diff' parameter of BackTranslationAugmenter must be a "
         "float >= 0 or None. Got -1.0 instead."),
        (BackTranslationAugmenter(cache_dir=3), TypeError,
         "The 'cache_dir' parameter of BackTranslationAugmenter must be a folder "
         "path or None. Got int 3 instead."),
    ],
)  # fmt: skip
def test_augmenters(augmenter, error, message):
    with pytest.raises(error) as caught:
        augmenter.fit(["a good film", "a bad film"])
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"query_strategy": 3}, TypeError,
         "The 'query_strategy' parameter of ActiveLearner must be a callable "
         "strategy(classifier, X_pool, n_instances, random_state=...). Got int "
         "instead."),
        ({"feed_unlabeled": "yes"}, ValueError,
         "The 'feed_unlabeled' parameter of ActiveLearner must be 'auto', True or "
         "False. Got 'yes' instead."),
        ({"random_state": -1}, ValueError,
         "The 'random_state' parameter of ActiveLearner must be None, an int in "
         "[0, 2**32 - 1] or a numpy RandomState instance. Got -1 instead."),
    ],
)  # fmt: skip
def test_active_learner(params, error, message):
    from sklearn.linear_model import LogisticRegression

    params = {"query_strategy": _strategy, **params}
    learner = ActiveLearner(LogisticRegression(), **params)
    with pytest.raises(error) as caught:
        learner._validate_params()
    assert str(caught.value) == message


def _declaring_classes():
    from allsh_sklearn.models import CrossValidatedLogisticRegression, SentenceEncoder
    from allsh_sklearn.prompts import PromptSelector

    return [
        ActiveLearner,
        BackTranslationAugmenter,
        CrossValidatedLogisticRegression,
        DivergencePlateau,
        LabelBudget,
        OverallUncertainty,
        PromptSelector,
        SentenceEncoder,
        StabilizingPredictions,
        SynonymAugmenter,
        TfidfAugmenter,
    ]


def test_declared_names_are_parameters():
    import inspect

    for cls in _declaring_classes():
        declared = set(cls._parameter_constraints)
        assert declared, cls.__name__
        parameters = set(inspect.signature(cls.__init__).parameters)
        assert declared <= parameters, (cls.__name__, declared - parameters)
        assert issubclass(cls, ParameterConstraintsMixin), cls.__name__
