"""The opening table's tool (``tools/paper_counts_table.py``, issue 29 item 9)."""

import json

import numpy as np
import pytest
from _tools import load_tool
from scipy import stats


@pytest.fixture(scope="module")
def tool():
    return load_tool("paper_counts_table")


def _record(task, strategy, seed, accuracy, labels):
    return {
        "config": {
            "task": task,
            "classifier": "minilm-fast",
            "pool_size": 10000,
            "test_size": 872,
            "initial_size": 0.001,
            "batch_size": 50,
            "minilm_train_steps": 200,
            "strategy": strategy,
            "seed": seed,
            "budgets": [labels],
        },
        "at_budget": {str(labels): {"test": accuracy}},
        "checkpoints": {str(labels): labels},
        "curve": [[labels, {"test": accuracy}]],
        "run_id": f"{task}|{strategy}|{seed}",
    }


def _write(tmp_path, records):
    path = tmp_path / "runs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def _row_by_header(lines, dataset):
    """The cells of a dataset's row of the table, by their column's heading."""
    row = next(line for line in lines if line.startswith(f"| {dataset} "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    headers = [c.strip() for c in lines[0].strip("|").split("|")]
    return dict(zip(headers, cells, strict=True))


def test_rows_pair_seeds_and_match_ttest_rel(tool, tmp_path):
    random = [0.70, 0.72, 0.75, 0.71, 0.73]
    allsh = [0.74, 0.75, 0.77, 0.74, 0.78]  # a clear win
    badge = [0.71, 0.71, 0.76, 0.70, 0.74]  # no difference
    records = [
        _record("sst2", name, seed, score, 606)
        for name, scores in (("random", random), ("allsh", allsh), ("badge", badge))
        for seed, score in enumerate(scores)
    ]
    by_header = _row_by_header(tool.opening_table(_write(tmp_path, records)), "SST-2")
    assert by_header["random"] == f"{100 * np.mean(random):.2f} (5 seeds)"
    assert by_header["pool"] == "10,000"

    low, high = stats.ttest_rel(allsh, random).confidence_interval()
    difference = 100 * (np.mean(allsh) - np.mean(random))
    assert by_header["ALLSH"] == (
        f"**{difference:+.2f} [{100 * low:+.2f}, {100 * high:+.2f}]**"
    )
    assert by_header["BADGE"].startswith("+")  # not bold: the interval has 0
    assert by_header["entropy"] == ""
    assert by_header["paper: ALLSH, + CL"] == "+1.86, +2.26"


def test_datasets_without_runs_say_so_and_few_seeds_are_marked(tool, tmp_path):
    random = [0.8, 0.82, 0.81, 0.9]  # a fourth seed that allsh lacks
    records = [
        _record("ag_news", name, seed, score, 114)
        for name, scores in (("random", random), ("allsh", [0.78, 0.8, 0.8]))
        for seed, score in enumerate(scores)
    ]
    lines = tool.opening_table(_write(tmp_path, records))
    ag_news = next(line for line in lines if line.startswith("| AG News "))
    assert "(n=3)" in ag_news
    # random's accuracy is over all its seeds; the difference over the shared
    assert f"| {100 * np.mean(random):.2f} (4 seeds) |" in ag_news
    for name in ("SST-2", "IMDB", "QNLI", "QQP"):
        row = next(line for line in lines if line.startswith(f"| {name} "))
        assert "not run yet" in row
        assert row.count("|") == lines[0].count("|")


def test_figure_draws_each_interval_filled_only_where_it_excludes_zero(tool, tmp_path):
    random = [0.70, 0.72, 0.75, 0.71, 0.73]
    records = [
        _record(task, name, seed, score, labels)
        for task, labels in (("sst2", 606), ("imdb", 225))
        for name, scores in (
            ("random", random),
            ("allsh", [0.74, 0.75, 0.77, 0.74, 0.78]),  # a clear win
            ("badge", [0.71, 0.71, 0.76, 0.70, 0.74]),  # no difference
        )
        for seed, score in enumerate(scores)
    ]
    figure = tool.opening_figure(_write(tmp_path, records), ["badge", "allsh"])
    assert [ax.get_title() for ax in figure.axes] == [
        "SST-2, 606 labels",
        "IMDB, 225 labels",
    ]
    sst2 = figure.axes[0]
    markers = {
        int(round(c.lines[0].get_ydata()[0])): c.lines[0] for c in sst2.containers
    }
    # rows in the order asked for: BADGE on row 0, ALLSH on row 1
    assert markers[0].get_markerfacecolor() == "white"
    assert markers[1].get_markerfacecolor() != "white"
    assert markers[1].get_xdata()[0] == pytest.approx(
        100 * (np.mean([0.74, 0.75, 0.77, 0.74, 0.78]) - np.mean(random))
    )
    diamonds = [line for line in sst2.lines if line.get_marker() == "D"]
    assert [line.get_xdata()[0] for line in diamonds] == [1.86]


def test_figure_refuses_runs_without_a_comparison(tool, tmp_path):
    records = [_record("sst2", "random", seed, 0.7, 606) for seed in range(3)]
    with pytest.raises(ValueError, match="random and another strategy"):
        tool.opening_figure(_write(tmp_path, records))


#: random and ALLSH on SST-2, seeds 0 and 1: a comparison with an interval.
_TWO_SEEDS_OF_SST2 = (
    _record("sst2", "random", 0, 0.79, 606),
    _record("sst2", "random", 1, 0.80, 606),
    _record("sst2", "allsh", 0, 0.81, 606),
    _record("sst2", "allsh", 1, 0.83, 606),
)


def test_one_shared_seed_is_shown_without_an_interval(tool, tmp_path):
    # QNLI's first seed: random and ALLSH once each, nothing to pair twice
    records = [
        _record("qnli", "random", 0, 0.6523, 995),
        _record("qnli", "allsh", 0, 0.6404, 995),
        *_TWO_SEEDS_OF_SST2,
    ]
    path = _write(tmp_path, records)
    lines = tool.opening_table(path)
    qnli = next(line for line in lines if line.startswith("| QNLI "))
    assert "65.23 (1 seed)" in qnli
    assert "-1.19 (n=1, no interval)" in qnli
    figure = tool.opening_figure(path)
    assert len(figure.axes) == 2  # SST-2 and QNLI, both drawn


def test_one_shared_seed_beside_a_paired_strategy_keeps_its_difference(tool, tmp_path):
    # ALLSH on 2 seeds gets an interval; CAL, run on seed 0 only, its one pair
    records = [
        *_TWO_SEEDS_OF_SST2,
        _record("sst2", "cal", 0, 0.78, 606),
    ]
    by_header = _row_by_header(tool.opening_table(_write(tmp_path, records)), "SST-2")
    assert by_header["CAL"] == "-1.00 (n=1, no interval)"
    assert by_header["ALLSH"].endswith("(n=2)")


def test_run_times_sum_the_iterations_of_finished_runs(tool, tmp_path):
    records = [_record("sst2", "random", seed, 0.8, 606) for seed in (0, 1)]
    path = _write(tmp_path, records)
    iterations = [
        {"run_id": "sst2|random|0", "time": {"training": 10.0, "query": 2.0}},
        {"run_id": "sst2|random|0", "time": {"training": 11.0}},
        {"run_id": "sst2|random|1", "time": {"training": 30.0, "query": 4.0}},
        {"run_id": "sst2|allsh|0", "time": {"training": 99.0}},  # not finished
    ]
    path.with_name("iterations.jsonl").write_text(
        "\n".join(json.dumps(r) for r in iterations) + "\n"
    )
    lines = tool.run_times(path)
    assert lines[2:] == ["| sst2 | random | 2 | 23 | 28 | 34 |"]
