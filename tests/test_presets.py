"""Tests of the one catalogue of strategy names (allsh_sklearn.presets)."""

import pytest
from _data_home import write_data_home

from allsh_sklearn.experiments import (
    SETTINGS,
    ExperimentRunner,
    RunConfig,
    accuracy_table,
    load_runs,
    strategy_label,
)
from allsh_sklearn.presets import (
    PRESETS,
    STRATEGIES,
    Preset,
    build_strategy,
    canonical_strategy,
    parse_strategy,
    preset_display_name,
    preset_label,
    spec_aliases,
)
from allsh_sklearn.strategies import ALLSH, CAL, EntropySampling
from allsh_sklearn.web._backend import strategy_display_name

#: The row labels of the experiment tables before the catalogue (the table in
#: experiments/_settings.py): the spec of every preset's label.
ROW_LABEL_OF = {
    "random": "Random",
    "entropy": "Entropy",
    "margin": "Margin",
    "least-confidence": "Least confidence",
    "badge": "BADGE",
    "cal": "CAL",
    "allsh": "Ours",
    "allsh-wca": "+ WCA",
    "allsh-cl": "+ CL",
    "allsh-balanced": "Ours (class-balanced)",
    "allsh-scaled-badge": "Ours (scaled BADGE)",
    "allsh-copy-gradient": "Ours (copy gradient)",
    "allsh-kmeans": "Ours (k-means++)",
    "allsh-product": "Ours (× entropy)",
    "allsh-rank-mean": "Ours (rank mean)",
    "allsh-per-change": "Ours (per change)",
    "allsh-per-query": "Ours (copies per query)",
    "allsh-mean-kl": "Ours (KL to mean)",
    "allsh-mi": "Ours (MI)",
    "allsh-var": "Ours (variance)",
    "allsh-stochastic": "Ours (stochastic)",
}

#: How the labeling page named strategies before the catalogue (the table in
#: web/_backend.py); any other name was shown as it is.
PAGE_NAME_OF = {
    "allsh": "ALLSH",
    "allsh-wca": "ALLSH (worst case over copies, WCA)",
    "allsh-cl": "ALLSH + CL",
    "allsh-balanced": "ALLSH (class-balanced)",
    "entropy": "Entropy sampling",
    "margin": "Margin sampling",
    "least-confidence": "Least-confidence sampling",
    "random": "Random sampling",
    "cal": "CAL",
    "badge": "BADGE",
    "python": "The session's strategy",
    "allsh-rank-mean": "ALLSH ranked with entropy",  # the session default
}


def test_every_preset_keeps_its_label_and_page_name():
    assert set(ROW_LABEL_OF) == set(PRESETS)
    for name in PRESETS:
        assert preset_label(name) == ROW_LABEL_OF[name]
        assert strategy_label(name) == ROW_LABEL_OF[name]
        assert strategy_display_name(name) == PAGE_NAME_OF.get(name, name)
        assert preset_display_name(name) == PAGE_NAME_OF.get(name, name)
    # a strategy object given by the user, and a name the catalogue lacks
    assert strategy_display_name("python") == "The session's strategy"
    assert strategy_display_name("mine") == "mine"
    with pytest.raises(ValueError, match="'name' parameter of preset_label"):
        preset_label("alsh")


def test_labels_and_page_names_default_to_the_name(monkeypatch):
    monkeypatch.setitem(PRESETS, "least-toy", Preset(EntropySampling))
    assert preset_label("least-toy") == "Least toy"
    assert preset_display_name("least-toy") == "least-toy"
    assert strategy_display_name("least-toy") == "least-toy"


def test_a_preset_added_in_one_place_is_named_in_tables_and_on_the_page(
    tmp_path, monkeypatch
):
    toy = Preset(
        EntropySampling,
        description="entropy, under another name",
        label="Toy rows",
        display_name="Toy sampling",
    )
    monkeypatch.setitem(PRESETS, "toy", toy)
    assert strategy_display_name("toy") == "Toy sampling"
    output = tmp_path / "out"
    ExperimentRunner(
        output,
        data_home=write_data_home(
            tmp_path / "data", {"train": (200, 0), "test": (60, 1)}, noise=0.2
        ),
        verbose=0,
    ).run(
        "in-domain",
        tasks=["sst2"],
        strategies=["random", "toy"],
        seeds=[0],
        budgets=[30],
        initial_size=10,
        batch_size=10,
        classifier="tfidf-lr",
    )
    runs = load_runs(output, "in-domain")
    assert {run["config"]["strategy"] for run in runs} == {"random", "toy"}
    table = accuracy_table(runs, "in-domain")
    assert "| Toy rows |" in table and "| Random |" in table


def test_spec_options_are_set_params_names_with_the_classes_short_names():
    assert spec_aliases(CAL) == {"k": "n_neighbors"}
    assert spec_aliases(ALLSH)["K"] == "n_augmentations"
    assert spec_aliases(EntropySampling) == {}
    assert "n_augmentations" in STRATEGIES["allsh"]
    assert "augmenter__p" in STRATEGIES["allsh-wca"]
    assert STRATEGIES["cal"] == ("embedding_kind", "n_neighbors")
    assert STRATEGIES["entropy"] == ()  # random_state is the runner's
    # long and short names read the same; specs are written with the short
    long = "allsh-wca:n_augmentations=2,augmenter__p=0.5,balance=uniform"
    short = "allsh-wca:K=2,p=0.5,balanced=uniform"
    assert parse_strategy(long) == parse_strategy(short)
    assert parse_strategy(short)[1] == {
        "n_augmentations": 2,
        "augmenter__p": 0.5,
        "balance": "uniform",
    }
    assert canonical_strategy(long) == canonical_strategy(short)
    assert canonical_strategy(long) == "allsh-wca:K=2,balanced=uniform,p=0.5"
    assert canonical_strategy("cal:n_neighbors=5") == "cal:k=5"
    assert strategy_label("allsh:n_augmentations=4") == "Ours (K=4)"
    built = build_strategy(long, seed=1)
    assert (built.n_augmentations, built.augmenter.p, built.balance) == (
        2,
        0.5,
        "uniform",
    )
    assert build_strategy("cal:n_neighbors=5", embedding="tfidf").n_neighbors == 5
    # errors name the option as the spec wrote it, or its short name
    with pytest.raises(ValueError, match="has no option 'n_neighbours'"):
        parse_strategy("cal:n_neighbours=5")
    with pytest.raises(ValueError, match="has no option 'random_state'"):
        parse_strategy("allsh:random_state=3")
    with pytest.raises(ValueError, match="Option 'p' is for the TF-IDF"):
        build_strategy("allsh:augmenter=synonym,augmenter__p=0.2")
    with pytest.raises(ValueError, match="'balanced' option"):
        build_strategy("allsh:balance=half")


def test_long_names_take_the_ids_of_runs_recorded_with_short_ones():
    setting = SETTINGS["sensitivity"]
    common = dict(
        task="sst2",
        classifier="tfidf-lr",
        seed=0,
        pool_size=None,
        test_size=None,
        initial_size=0.001,
        batch_size=50,
        budgets=(0.01,),
    )
    for short, long in [
        ("allsh:K=4", "allsh:n_augmentations=4"),
        ("allsh:p=0.1", "allsh:augmenter__p=0.1"),
        ("allsh:balanced=pool", "allsh:balance=pool"),
    ]:
        assert short in setting.strategies
        ids = {
            RunConfig(strategy=canonical_strategy(spec), **common).run_id
            for spec in (short, long)
        }
        assert len(ids) == 1 and f"|{short}|" in ids.pop()
