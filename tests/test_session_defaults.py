"""The classifier and strategy a session gets unless told otherwise: one place
(``DEFAULT_CLASSIFIER``, ``DEFAULT_STRATEGY``) for ``LabelingSession.create``
and ``allsh-label init`` alike, and ALLSH one flag away (issue 30, item 1)."""

import inspect

import pytest
from _session_data import label_open_batch, make_pool

from allsh_sklearn.models import TIERS
from allsh_sklearn.presets import PRESETS
from allsh_sklearn.session import (
    DEFAULT_CLASSIFIER,
    DEFAULT_STRATEGY,
    LabelingSession,
)
from allsh_sklearn.session._cli import main
from allsh_sklearn.strategies import ALLSH

LABELS = ["negative", "positive"]


def _init(capsys, tmp_path, *options):
    """``allsh-label init`` on a small pool with ``options``; the project."""
    table, truth = make_pool(n=40)
    data = tmp_path / "pool.csv"
    table.to_csv(data, index=False)
    project = tmp_path / "project"
    arguments = ["init", str(project), "--data", str(data), "--id-column", "id"]
    arguments += ["--labels", ",".join(LABELS), "--batch-size", "6", *options]
    assert main(arguments) == 0
    capsys.readouterr()
    return project, truth


def _queried_why(session, truth):
    """Label the first (random) batch, query the next: why its first text."""
    session.next_batch(progress=False)
    label_open_batch(session, truth)
    batch = session.next_batch(progress=False)
    assert batch.kind == "query"
    return session.why(batch.items[0].item_id)["kind"]


def test_the_defaults_name_a_tier_and_a_strategy():
    assert DEFAULT_CLASSIFIER in TIERS
    assert DEFAULT_STRATEGY in PRESETS


def test_create_signature_and_docstring_show_the_defaults():
    parameters = inspect.signature(LabelingSession.create).parameters
    assert parameters["classifier"].default == DEFAULT_CLASSIFIER
    assert parameters["strategy"].default == DEFAULT_STRATEGY
    doc = LabelingSession.create.__doc__
    assert f'classifier : str or estimator, default="{DEFAULT_CLASSIFIER}"' in doc
    assert f'strategy : str or callable, default="{DEFAULT_STRATEGY}"' in doc
    assert "session defaults benchmark" in doc


def test_create_without_classifier_or_strategy_uses_the_defaults(tmp_path):
    table, truth = make_pool(n=40)
    folder = tmp_path / "project"
    session = LabelingSession.create(
        folder, table, labels=LABELS, id_column="id", batch_size=6, progress=False
    )
    assert session.config["classifier"] == DEFAULT_CLASSIFIER
    assert session.strategy_name == DEFAULT_STRATEGY
    # the default is an ALLSH variant: its picks come with ALLSH's explanation
    expected = "allsh" if PRESETS[DEFAULT_STRATEGY].cls is ALLSH else "strategy"
    assert _queried_why(session, truth) == expected
    session.close()
    reopened = LabelingSession.open(folder, progress=False)
    try:
        assert reopened.config["classifier"] == DEFAULT_CLASSIFIER
        assert reopened.config["strategy"] == DEFAULT_STRATEGY
    finally:
        reopened.close()


def test_cli_init_without_options_uses_the_defaults(tmp_path, capsys):
    project, _ = _init(capsys, tmp_path)
    session = LabelingSession.open(project, progress=False)
    try:
        assert session.config["classifier"] == DEFAULT_CLASSIFIER
        assert session.strategy_name == DEFAULT_STRATEGY
    finally:
        session.close()
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"default: {DEFAULT_CLASSIFIER}." in help_text
    assert f"default: {DEFAULT_STRATEGY}." in help_text


def test_cli_init_strategy_allsh_still_gives_allsh(tmp_path, capsys):
    project, truth = _init(capsys, tmp_path, "--strategy", "allsh")
    session = LabelingSession.open(project, progress=False)
    try:
        assert session.strategy_name == "allsh"
        assert session.config["classifier"] == DEFAULT_CLASSIFIER
        assert _queried_why(session, truth) == "allsh"
    finally:
        session.close()
