"""Tests of allsh_sklearn.evaluation: paired differences, tables, plots, CLI."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from allsh_sklearn.evaluation import (  # noqa: E402
    DESIGN_KEYS,
    PairedDifference,
    compare_strategies,
    minimum_detectable_effect,
    paired_difference,
    paired_differences_png,
    plot_paired_differences,
    read_runs,
)
from allsh_sklearn.evaluation.__main__ import main  # noqa: E402

# Fixed scores of two strategies over 6 seeds (accuracies).
A = [0.812, 0.774, 0.801, 0.765, 0.790, 0.821]
B = [0.790, 0.781, 0.772, 0.760, 0.771, 0.800]


@pytest.mark.parametrize("confidence", [0.95, 0.9, 0.99])
def test_t_interval_and_p_value_are_those_of_ttest_rel(confidence):
    result = paired_difference(A, B, confidence=confidence)
    reference = stats.ttest_rel(A, B)
    interval = reference.confidence_interval(confidence_level=confidence)
    assert result.ci_low == pytest.approx(interval.low, rel=1e-12)
    assert result.ci_high == pytest.approx(interval.high, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-12)
    assert result.mean == pytest.approx(np.mean(np.subtract(A, B)))
    assert result.std == pytest.approx(np.std(np.subtract(A, B), ddof=1))
    assert result.n == 6 and result.seeds == tuple(range(6))
    assert result.method == "t" and result.confidence == confidence


def test_mappings_pair_on_the_seeds_both_have():
    a = {seed: score for seed, score in enumerate(A)}
    b = {seed: score for seed, score in enumerate(B)} | {9: 0.5}
    del a[2]
    result = paired_difference(a, b)
    kept = [0, 1, 3, 4, 5]
    reference = stats.ttest_rel(np.take(A, kept), np.take(B, kept))
    assert result.seeds == tuple(kept) and result.n == 5
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.ci_low == pytest.approx(reference.confidence_interval().low)
    # pandas Series indexed by seed pair the same way, whatever their order
    series = paired_difference(pd.Series(a).iloc[::-1], pd.Series(b))
    assert series == result


def test_sign_count_ties_and_zero_spread():
    result = paired_difference([0.7, 0.8, 0.6, 0.5], [0.6, 0.8, 0.7, 0.4])
    assert (result.wins, result.ties, result.losses) == (2, 1, 1)
    # every pair the same difference: no spread for a t-test; the sign test
    # decides. Two such pairs (p = 0.5) cannot tell: no interval, no win.
    same = paired_difference([0.75, 0.85], [0.70, 0.80])
    assert np.isnan(same.ci_low) and np.isnan(same.ci_high)
    assert same.p_value == 0.5 and same.wins == 2
    assert same.verdict.startswith("no difference detected (2 pairs differ")
    for method in ("t", "bootstrap"):
        # six pairs of one sign: p = 2 / 64 < 0.05, a degenerate interval
        six = paired_difference([0.75] * 6, [0.70] * 6, method=method, random_state=0)
        assert six.ci_low == six.ci_high == pytest.approx(0.05)
        assert six.p_value == pytest.approx(2 / 64) and six.verdict == "win"
        five = paired_difference([0.70] * 5, [0.75] * 5, method=method)
        assert np.isnan(five.ci_low) and five.p_value == pytest.approx(2 / 32)
        assert five.verdict.startswith("no difference detected")
    ties = paired_difference([0.7, 0.8], [0.7, 0.8])
    assert ties.p_value == 1.0 and ties.ties == 2
    assert ties.verdict == "no difference detected (resolves ±0.00)"


def test_verdict_needs_the_interval_to_exclude_zero():
    win = paired_difference(A, B)
    assert win.ci_low > 0 and win.verdict == "win"
    loss = paired_difference(B, A)
    assert loss.ci_high < 0 and loss.verdict == "loss"
    unclear = paired_difference([0.70, 0.74, 0.72], [0.72, 0.71, 0.72])
    assert unclear.ci_low < 0 < unclear.ci_high
    assert unclear.verdict == (
        f"no difference detected (resolves ±{unclear.resolution:.3g})"
    )
    points = unclear.scaled(100)
    assert points.mean == pytest.approx(100 * unclear.mean)
    assert points.resolution == pytest.approx(100 * unclear.resolution)
    assert points.p_value == unclear.p_value and points.n == unclear.n
    assert points.half_width == pytest.approx(100 * unclear.half_width)
    assert points.summary().startswith(
        "+0.33 [-5.92, +6.58], n=3, 1/1/1 wins/ties/losses, p=0.84: no difference"
    )
    with pytest.raises(ValueError, match="'factor' parameter"):
        unclear.scaled(0)


def test_resolution_is_the_effect_detected_with_the_stated_power():
    n = 10
    expected = (stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) / np.sqrt(n)
    assert minimum_detectable_effect(1.0, n) == pytest.approx(expected)
    differences = np.random.RandomState(0).normal(size=n)
    result = paired_difference(differences, np.zeros(n))
    assert result.resolution == pytest.approx(expected * differences.std(ddof=1))
    # A true difference of the resolution (spread 1) is detected about 80% of
    # the time (the formula approximates the noncentral t; 0.817 measured).
    rng = np.random.RandomState(1)
    effect = minimum_detectable_effect(1.0, n)
    detected = np.mean(
        [
            paired_difference(rng.normal(effect, 1.0, n), np.zeros(n)).verdict == "win"
            for _ in range(1000)
        ]
    )
    assert 0.75 <= detected <= 0.86


def test_bootstrap_is_reproducible_and_close_to_t_on_normal_data():
    rng = np.random.RandomState(0)
    seed_effect = rng.normal(0.8, 0.05, size=200)
    a = seed_effect + rng.normal(0.01, 0.02, size=200)
    b = seed_effect + rng.normal(0.0, 0.02, size=200)
    first = paired_difference(a, b, method="bootstrap", random_state=3)
    again = paired_difference(a, b, method="bootstrap", random_state=3)
    other = paired_difference(a, b, method="bootstrap", random_state=4)
    assert first == again and first.ci_low != other.ci_low
    assert first.method == "bootstrap"
    t = paired_difference(a, b)
    assert first.mean == t.mean and first.p_value == t.p_value
    # endpoints within 10% of the t interval's half-width
    assert first.ci_low == pytest.approx(t.ci_low, abs=0.1 * t.half_width)
    assert first.ci_high == pytest.approx(t.ci_high, abs=0.1 * t.half_width)
    narrow = paired_difference(a, b, method="bootstrap", n_resamples=50, random_state=3)
    assert narrow.ci_low != first.ci_low  # resamples are a parameter


def _null_rate(draws, seed, n=5):
    """How often the same strategy twice gets "no difference detected".

    Each draw simulates n seeds: a seed effect shared by both arms (the
    initial labeled set; its spread, 4 points, is larger than the noise of
    a run, 1.5 points) plus each run's own noise from the same distribution.
    """
    rng = np.random.RandomState(seed)
    kept = 0
    for _ in range(draws):
        seed_effect = rng.normal(0.75, 0.04, size=n)
        a = seed_effect + rng.normal(0, 0.015, size=n)
        b = seed_effect + rng.normal(0, 0.015, size=n)
        kept += paired_difference(a, b).verdict.startswith("no difference")
    return kept / draws


def test_a_simulated_null_is_called_no_difference_95_percent_of_the_time():
    # With a 95% t interval the expected rate is exactly 0.95. Over 1000
    # draws (binomial sd 0.007) the rate measured with this seed is 0.957;
    # the bounds also catch an interval that is too wide.
    assert 0.94 <= _null_rate(1000, seed=0) <= 0.97
    # The check, 200 draws of 5 seeds: 0.955 with this seed (the
    # binomial sd of the rate is 0.015, hence the slack).
    assert _null_rate(200, seed=0) >= 0.93


def test_errors_name_the_parameter_and_what_was_received():
    with pytest.raises(ValueError, match="at least 2 paired seeds.*n=1"):
        paired_difference({0: 0.7, 1: 0.8}, {1: 0.7, 2: 0.6})
    with pytest.raises(ValueError, match="share no seed"):
        paired_difference({0: 0.7}, {1: 0.7})
    with pytest.raises(ValueError, match="Got 3 and 2 scores"):
        paired_difference([0.7, 0.8, 0.9], [0.7, 0.8])
    with pytest.raises(TypeError, match="both be mappings"):
        paired_difference({0: 0.7, 1: 0.8}, [0.7, 0.8])
    with pytest.raises(TypeError, match="'a' parameter"):
        paired_difference(0.7, [0.7])
    with pytest.raises(ValueError, match="finite scores. Got nan for seed 1"):
        paired_difference([0.7, np.nan], [0.7, 0.8])
    with pytest.raises(ValueError, match="'b' parameter .* real numbers"):
        paired_difference([0.7, 0.8], ["x", "y"])
    with pytest.raises(ValueError, match="'confidence' parameter .* Got 95"):
        paired_difference(A, B, confidence=95)
    with pytest.raises(ValueError, match="'method' parameter .* Got 'z'"):
        paired_difference(A, B, method="z")
    with pytest.raises(ValueError, match="'n_resamples' parameter"):
        paired_difference(A, B, method="bootstrap", n_resamples=0)
    with pytest.raises(ValueError, match="'random_state' parameter"):
        paired_difference(A, B, random_state="seed")
    with pytest.raises(ValueError, match="'power' parameter"):
        paired_difference(A, B, power=1.0)
    assert issubclass(PairedDifference, object)


def _record(task, strategy, seed, scores, budgets=("1%", "5%"), **config):
    """A run record as the runner writes it (the fields read here)."""
    labels = {"1%": 100, "2%": 200, "5%": 500}
    return {
        "run_id": f"{task}|{strategy}|seed={seed}|{'-'.join(budgets)}|{config}",
        "config": {
            "task": task,
            "classifier": "minilm-fast",
            "strategy": strategy,
            "seed": seed,
            "pool_size": 10000,
            "test_size": 2000,
            "initial_size": 0.001,
            "batch_size": 50,
            "budgets": [float(b.rstrip("%")) / 100 for b in budgets],
            "n_queries": None,
            "minilm_train_steps": 200,
            **config,
        },
        "at_budget": {b: {"test": s} for b, s in zip(budgets, scores, strict=True)},
        "checkpoints": {b: labels[b] for b in budgets},
        "curve": [
            [labels[b], {"test": s}] for b, s in zip(budgets, scores, strict=True)
        ],
    }


def _records():
    rng = np.random.RandomState(0)
    records = []
    for task in ("sst2", "trec"):
        for seed in range(5):
            base = 0.7 + rng.normal(0, 0.03)
            records.append(_record(task, "random", seed, [base, base + 0.05]))
            records.append(
                _record(task, "allsh", seed, [base + 0.03 + rng.normal(0, 0.005), 0.8])
            )
            if seed < 3:
                records.append(
                    _record(task, "entropy", seed, [base - 0.01 * seed, base])
                )
    return records


def test_compare_strategies_on_run_records():
    records = _records()
    table = compare_strategies(records, scale=100)
    assert list(table.columns[: len(DESIGN_KEYS) + 2]) == [
        *DESIGN_KEYS,
        "budget",
        "n_labels",
    ]
    assert len(table) == 2 * 2 * 2  # tasks x budgets x (allsh, entropy)
    assert list(table["task"].unique()) == ["sst2", "trec"]
    assert list(table["budget"][:4]) == ["1%", "1%", "5%", "5%"]
    assert table["pool_size"].iloc[0] == 10000  # kept an int
    row = table[(table.task == "sst2") & (table.budget == "1%")].iloc[0]
    assert row.strategy == "allsh" and row.baseline == "random" and row.n == 5
    sst2 = [r for r in records if r["config"]["task"] == "sst2"]
    allsh = [r["at_budget"]["1%"]["test"] for r in sst2 if "allsh" in r["run_id"]]
    random = [r["at_budget"]["1%"]["test"] for r in sst2 if "random" in r["run_id"]]
    expected = paired_difference(allsh, random).scaled(100)
    assert row.difference == pytest.approx(expected.mean)
    assert row.ci_low == pytest.approx(expected.ci_low)
    assert row.p_value == pytest.approx(expected.p_value)
    assert row.verdict == "win" and row.wins == 5
    assert row.baseline_mean == pytest.approx(100 * np.mean(random))
    entropy = table[(table.strategy == "entropy")]
    assert set(entropy["n"]) == {3}  # paired on the 3 seeds entropy has
    # the same runs given as the path of a runs.jsonl
    assert_frame = pd.testing.assert_frame_equal
    path = _write_jsonl(records)
    assert_frame(compare_strategies(str(path), scale=100), table)
    assert len(read_runs(path)) == len(records)


def _write_jsonl(records, path=None):
    import tempfile
    from pathlib import Path

    path = Path(path or tempfile.mkdtemp()) / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_compare_strategies_picks_one_run_per_seed_and_keeps_options_apart():
    records = _records()
    # A shorter run of the same strategy and seed (another budget list): the
    # longer run's score counts at the budget both reach.
    records.insert(0, _record("sst2", "allsh", 0, [0.0], budgets=("1%",)))
    table = compare_strategies(records, scale=100)
    reference = compare_strategies(_records(), scale=100)
    pd.testing.assert_frame_equal(table, reference)
    # The same strategy run with another option (a config key outside the
    # design): two rows, never mixed.
    records = _records() + [
        _record("sst2", "allsh", seed, [0.6, 0.7], augmenter="uda") for seed in range(5)
    ]
    table = compare_strategies(records)
    names = set(table.loc[table.task == "sst2", "strategy"])
    assert names == {"allsh (augmenter=None)", "allsh (augmenter=uda)", "entropy"}
    # a strategy with one seed in common: a row that says so
    records = _records() + [_record("sst2", "badge", 0, [0.7, 0.8])]
    row = compare_strategies(records).query("strategy == 'badge'").iloc[0]
    assert row.n == 1 and np.isnan(row.difference)
    assert row.verdict == "too few paired seeds (n=1)"


def test_compare_strategies_on_a_dataframe_and_a_dict():
    rng = np.random.RandomState(1)
    rows = []
    for budget in (100, 500):
        for seed in range(4):
            base = rng.normal(0.7, 0.03)
            for strategy, shift in (("random", 0.0), ("mine", 0.02)):
                score = base + shift + rng.normal(0, 0.01)
                rows.append(
                    {"budget": budget, "strategy": strategy, "seed": seed, "acc": score}
                )
    frame = pd.DataFrame(rows)
    table = compare_strategies(frame, metric="acc")
    assert list(table["budget"]) == [100, 500]
    assert list(table.columns[:2]) == ["budget", "strategy"]
    at_100 = frame[frame.budget == 100]
    scores = {
        name: dict(zip(group.seed, group.acc, strict=True))
        for name, group in at_100.groupby("strategy")
    }
    from_dict = compare_strategies(scores)
    assert from_dict["difference"].iloc[0] == pytest.approx(table["difference"].iloc[0])
    assert from_dict["ci_high"].iloc[0] == pytest.approx(table["ci_high"].iloc[0])
    # bootstrap tables are reproducible
    first = compare_strategies(frame, metric="acc", method="bootstrap", random_state=0)
    again = compare_strategies(frame, metric="acc", method="bootstrap", random_state=0)
    pd.testing.assert_frame_equal(first, again)
    # sequences pair by position
    listed = compare_strategies({k: list(v.values()) for k, v in scores.items()})
    assert listed["difference"].iloc[0] == pytest.approx(
        from_dict["difference"].iloc[0]
    )


def test_compare_strategies_errors():
    records = _records()
    with pytest.raises(ValueError, match="'baseline' parameter .* Got 'badge'"):
        compare_strategies(records, baseline="badge")
    with pytest.raises(ValueError, match="'metric' parameter .* Got 'ood'.*'test'"):
        compare_strategies(records, metric="ood")
    with pytest.raises(ValueError, match="a strategy besides the baseline"):
        compare_strategies({"random": [0.7, 0.8]})
    with pytest.raises(ValueError, match="no strategy that shares at least 2 seeds"):
        compare_strategies({"random": {0: 0.7}, "allsh": {0: 0.8, 1: 0.7}})
    with pytest.raises(TypeError, match="'data' parameter"):
        compare_strategies(42)
    with pytest.raises(TypeError, match="run records .* position 0"):
        compare_strategies([{"strategy": "random"}])
    frame = pd.DataFrame(
        {"strategy": ["random", "random", "a"], "seed": [0, 0, 0], "test": [1, 2, 3]}
    )
    with pytest.raises(ValueError, match="two scores for strategy 'random'"):
        compare_strategies(frame)
    with pytest.raises(ValueError, match="columns 'strategy', 'seed' and 'acc'"):
        compare_strategies(frame, metric="acc")
    with pytest.raises(ValueError, match="'by' parameter .* \\['task'\\]"):
        compare_strategies(frame, by=["task"])
    with pytest.raises(ValueError, match="'scale' parameter"):
        compare_strategies(records, scale=-1)


def test_plot_paired_differences_draws_intervals_and_a_zero_line():
    table = compare_strategies(_records(), scale=100)
    sst2 = table[table.task == "sst2"]
    ax = plot_paired_differences(sst2, title="SST-2")
    handles, labels = ax.get_legend_handles_labels()
    assert labels == ["allsh (n=5)", "entropy (n=3)"]
    # one error bar per budget and strategy, from ci_low to ci_high
    segments = ax.containers[0].lines[2][0].get_segments()
    allsh = sst2[sst2.strategy == "allsh"]
    assert [s[0][1] for s in segments] == pytest.approx(list(allsh.ci_low))
    assert [s[1][1] for s in segments] == pytest.approx(list(allsh.ci_high))
    assert any(list(line.get_ydata()) == [0, 0] for line in ax.get_lines())
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "1%\n100 labels",
        "5%\n500 labels",
    ]
    assert ax.get_ylabel() == "difference from random"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="one group. Got 2 values of 'task'"):
        plot_paired_differences(table)
    with pytest.raises(ValueError, match="columns of compare_strategies"):
        plot_paired_differences(sst2[["strategy", "difference"]])
    png = paired_differences_png(sst2)
    assert png.startswith(b"\x89PNG")


def test_command_line(tmp_path, capsys):
    path = _write_jsonl(_records(), tmp_path)
    assert main([str(path), "--where", "task=sst2", "--where", "budget=1%"]) == 0
    out = capsys.readouterr().out
    assert "Paired difference (strategy - random) x 100" in out
    assert "classifier=minilm-fast" in out and "trec" not in out
    assert out.count("\n") == 4  # the note, the header, allsh and entropy
    assert " win" in out.splitlines()[2]
    png = tmp_path / "sst2.png"
    code = main(
        [str(path), "--where", "task=sst2", "--plot", str(png), "--format", "csv"]
    )
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")
    csv = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert len(csv) == 4 and "ci_low" in csv.columns
    assert main([str(path), "--format", "markdown", "--where", "task=trec"]) == 0
    assert "| task |" not in capsys.readouterr().out  # constant columns go up
    query = "(task == 'sst2' and budget == '5%') or (task == 'trec' and n < 5)"
    assert main([str(path), "--query", query]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()[2:]  # sst2 at 5%, and trec's entropy (3 seeds)
    assert [line.split()[:4] for line in lines] == [
        ["sst2", "5%", "500", "allsh"],
        ["sst2", "5%", "500", "entropy"],
        ["trec", "1%", "100", "entropy"],
        ["trec", "5%", "500", "entropy"],
    ]
    assert main([str(path), "--query", "nothing > 1"]) == 2
    assert "--query 'nothing > 1' cannot be evaluated" in capsys.readouterr().err
    assert main([str(path), "--where", "nothing=1"]) == 2
    assert "--where must be COLUMN=VALUE" in capsys.readouterr().err
    assert main([str(path), "--baseline", "badge"]) == 2
    # a CSV long table of one's own
    table = tmp_path / "mine.csv"
    pd.DataFrame(
        {
            "strategy": ["random"] * 3 + ["mine"] * 3,
            "seed": [0, 1, 2] * 2,
            "accuracy": [70.1, 72.3, 69.0, 71.0, 74.1, 70.2],
        }
    ).to_csv(table, index=False)
    assert main([str(table), "--metric", "accuracy"]) == 0
    out = capsys.readouterr().out
    assert "x 1," in out and "+1.30" in out


@pytest.mark.parametrize(
    "name",
    [
        "PairedDifference",
        "compare_strategies",
        "minimum_detectable_effect",
        "paired_difference",
        "paired_differences_png",
        "plot_paired_differences",
        "read_runs",
    ],
)
def test_docstrings_document_every_parameter(name):
    import inspect

    from allsh_sklearn import evaluation

    assert name in evaluation.__all__
    obj = getattr(evaluation, name)
    documented = set()
    for line in inspect.getdoc(obj).splitlines():
        names, sep, _ = line.partition(" :")
        if sep and not line.startswith(" "):  # "a, b : float" documents both
            documented.update(names.split(", "))
        elif line.startswith("**"):
            documented.add(line[2:])  # "**kwargs"
    for parameter in inspect.signature(obj).parameters:
        assert parameter in documented, f"{name} does not document {parameter!r}"
