"""Tests of the experiment runner: storage, resume after SIGKILL, CLI, reports."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _data_home import write_data_home
from _toy_models import synthetic_texts

from allsh_sklearn.experiments import (
    SETTINGS,
    ExperimentRunner,
    build_strategy,
    canonical_strategy,
    load_runs,
    parse_strategy,
    strategy_label,
    write_report,
)
from allsh_sklearn.experiments.__main__ import build_parser, main
from allsh_sklearn.experiments._runner import KILL_ENV, budget_label
from allsh_sklearn.utils._storage import JsonlLog, atomic_write_text

# A tiny run: 400 texts, 10 initial labels, 10 per query, 50 labels.
RUN_ARGS = [
    "--setting",
    "in-domain",
    "--tasks",
    "sst2",
    "--strategies",
    "random",
    "allsh",
    "--seeds",
    "0",
    "1",
    "--budgets",
    "50",
    "--initial-size",
    "10",
    "--batch-size",
    "10",
    "--classifier",
    "tfidf-lr",
    "-q",
]


#: The synthetic data of the golden run: ``{split: (number of texts, seed)}``.
SPLITS = {"train": (400, 0), "test": (100, 1)}


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    """A synthetic 'sst2' in the data format: train 400, test 100."""
    home = tmp_path_factory.mktemp("data")
    return write_data_home(home, SPLITS)


#: Results of a fixed-seed run written by the runner before the loop was
#: refactored into :mod:`allsh_sklearn.loop` (timings removed). Regenerate
#: only for an intended change of results: ``python tests/test_runner.py``.
GOLDEN = Path(__file__).parent / "golden" / "runner_tfidf_lr.jsonl"
_TIME_KEYS = ("time", "query_time", "first_query_time")


def _golden_run(output, data_home):
    """The run behind :data:`GOLDEN`: 3 strategies x 2 seeds on synthetic SST-2."""
    ExperimentRunner(output, data_home=data_home, verbose=0).run(
        "in-domain",
        tasks=["sst2"],
        strategies=["random", "entropy", "badge"],
        seeds=[0, 1],
        budgets=[50],
        initial_size=10,
        batch_size=10,
        classifier="tfidf-lr",
    )


def _round_floats(value, digits=10):
    """``value`` with every float rounded to ``digits`` significant digits.

    Scores and accuracies computed through BLAS may differ in their last
    bit between machines and library builds (1 ulp in a KL value); the
    golden comparison is exact in everything else: indices, labels, counts,
    configurations and every float to 10 significant digits.
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {key: _round_floats(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [_round_floats(item, digits) for item in value]
    return value


def _canonical_line(record):
    return json.dumps(_round_floats(record), sort_keys=True, separators=(",", ":"))


def _result_lines(output):
    """Every record the runner wrote, in file order, timings removed."""
    lines = []
    for name in ("requests.jsonl", "iterations.jsonl", "runs.jsonl"):
        for record in JsonlLog(Path(output) / name).read():
            kept = {k: v for k, v in record.items() if k not in _TIME_KEYS}
            lines.append(_canonical_line({"file": name, "record": kept}))
    return lines


def test_round_floats_keeps_ten_digits_and_everything_else():
    record = {"kl": [0.151307699651, 0.151307699652], "n": 3, "name": "x"}
    rounded = _round_floats(record)
    assert rounded["kl"][0] == rounded["kl"][1]
    assert rounded["n"] == 3 and rounded["name"] == "x"
    assert _round_floats(0.1513076997) != _round_floats(0.1513076996)


def test_runner_writes_the_golden_results(tmp_path, data_home):
    _golden_run(tmp_path, data_home)
    expected = [
        _canonical_line(json.loads(line))
        for line in GOLDEN.read_text(encoding="utf-8").splitlines()
    ]
    got = _result_lines(tmp_path)
    assert len(got) == len(expected) == 3 * 2 * (1 + 5 + 1)
    for number, (line, reference) in enumerate(zip(got, expected, strict=True)):
        assert line == reference, f"line {number + 1} of {GOLDEN.name} differs"


def _cli(output, data_home, extra_env=None):
    env = dict(os.environ, ALLSH_SKLEARN_DATA=str(data_home))
    env.pop(KILL_ENV, None)
    env.update(extra_env or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "allsh_sklearn.experiments",
            *RUN_ARGS,
            "--output",
            str(output),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _without_times(records):
    cleaned = []
    for record in records:
        record = {
            k: v
            for k, v in record.items()
            if k not in ("time", "query_time", "first_query_time")
        }
        cleaned.append(record)
    return sorted(cleaned, key=lambda r: (r["run_id"], r.get("iteration", -1)))


def test_killed_runner_resumes_to_identical_results(tmp_path, data_home):
    reference = tmp_path / "uninterrupted"
    result = _cli(reference, data_home)
    assert result.returncode == 0, result.stderr

    resumed = tmp_path / "killed"
    killed = _cli(resumed, data_home, {KILL_ENV: "7"})
    assert killed.returncode == -signal.SIGKILL
    iterations = JsonlLog(resumed / "iterations.jsonl").read()
    assert len(iterations) == 7  # run 1 complete (5 lines), run 2 started
    assert len(JsonlLog(resumed / "runs.jsonl").read()) == 1
    # simulate a kill in the middle of a write as well: a torn last line
    with open(resumed / "iterations.jsonl", "ab") as f:
        f.write(b'{"run_id": "sst2|tfidf')
    again = _cli(resumed, data_home)
    assert again.returncode == 0, again.stderr

    for name in ("runs.jsonl", "iterations.jsonl"):
        expected = _without_times(JsonlLog(reference / name).read())
        got = _without_times(JsonlLog(resumed / name).read())
        assert got == expected, name
    runs = JsonlLog(resumed / "runs.jsonl").read()
    assert len(runs) == 4
    assert all(run["curve"][-1][0] == 50 for run in runs)
    assert (resumed / "tables" / "in-domain__tfidf-lr-init10-batch10.md").exists()
    assert (resumed / "plots" / "in-domain__tfidf-lr-init10-batch10__sst2.png").exists()

    # a third start has nothing left to do
    runner = ExperimentRunner(resumed, data_home=data_home, verbose=0)
    before = (resumed / "iterations.jsonl").read_bytes()
    runner.run(
        "in-domain",
        tasks=["sst2"],
        strategies=["random", "allsh"],
        seeds=[0, 1],
        budgets=[50],
        initial_size=10,
        batch_size=10,
    )
    assert (resumed / "iterations.jsonl").read_bytes() == before


def test_runner_api_tables_and_query_time(tmp_path, data_home):
    runner = ExperimentRunner(tmp_path, data_home=data_home, verbose=0)
    # the setting's own budget: 1% of 400 = 4 labels, from 2, in one query
    records = runner.run(
        "divergence", tasks=["sst2"], seeds=[0], initial_size=2, batch_size=2
    )
    assert len(records) == 4
    # The + CL rows need the fine-tuned classifier: tfidf-lr skips them.
    assert {r["config"]["strategy"] for r in records} == {
        canonical_strategy(s)
        for s in SETTINGS["divergence"].strategies
        if not s.startswith("allsh-cl")
    }
    assert all(list(r["at_budget"]) == ["1%"] for r in records)
    # several checkpoints, as fractions and counts
    (record,) = runner.run(
        "in-domain",
        tasks=["sst2"],
        strategies=["entropy"],
        seeds=[0],
        budgets=[40, 0.05],
        initial_size=10,
        batch_size=15,
    )
    assert record["checkpoints"] == {"5%": 20, "40": 40}
    assert [point[0] for point in record["curve"]] == [10, 20, 35, 40]
    assert sum(record["acquired_class_counts"]) == 30
    with pytest.raises(ValueError, match="smaller than the initial"):
        runner.run(
            "in-domain",
            tasks=["sst2"],
            strategies=["entropy"],
            seeds=[0],
            budgets=[5],
            initial_size=10,
        )
    runner.run(
        "query-time",
        tasks=["sst2"],
        strategies=["entropy", "allsh"],
        seeds=[0],
        initial_size=10,
        batch_size=20,
        n_queries=2,
    )
    paths = write_report(tmp_path)
    names = sorted(p.name for p in paths)
    assert "query-time__tfidf-lr-init10-batch20.md" in names
    table = (tmp_path / "tables" / "divergence__tfidf-lr-init2-batch2.md").read_text()
    for label in ("KL", "JSD", "α = -0.5", "α = 0.5"):
        assert f"| {label} |" in table
    assert "| 1% (ours) | 1% (paper) |" in table
    assert "86.37" in table  # the paper's KL on SST-2, next to ours
    # the source is named relative to the table (tmp_path is absolute)
    assert "from ../runs.jsonl." in table and str(tmp_path) not in table
    # each task's table is followed by its learning curves, linked from the
    # table's folder to an image that exists
    image = "../plots/divergence__tfidf-lr-init2-batch2__sst2.png"
    assert f"]({image})" in table
    assert (tmp_path / "tables" / image).resolve().exists()
    # and by the paired differences from the setting's first strategy (KL:
    # the divergence table has no Random); one seed pairs nothing, so there
    # is no interval and no plot of them
    assert "Paired differences from KL, in points" in table
    assert "| JSD | – (fewer than 2 paired seeds) |" in table
    assert "__paired.png" not in table
    # without plots, a table links only the images already on disk
    (tmp_path / "plots" / "divergence__tfidf-lr-init2-batch2__sst2.png").unlink()
    write_report(tmp_path, settings=["divergence"], plots=False)
    table = (tmp_path / "tables" / "divergence__tfidf-lr-init2-batch2.md").read_text()
    assert "](../plots/" not in table
    timing = (
        tmp_path / "tables" / "query-time__tfidf-lr-init10-batch20.md"
    ).read_text()
    assert "Ratio to entropy" in timing and "| Ours |" in timing and "2.4x" in timing
    assert "](../plots/" not in timing  # Table 13 has no learning curves
    assert len(load_runs(tmp_path, "query-time")) == 2


def test_verdicts_are_paired_and_need_the_ci_to_exclude_zero():
    from scipy import stats

    from allsh_sklearn.experiments._reporting import verdict, verdict_table

    # seed by seed: a win or a loss only where the 95% t CI excludes 0
    assert verdict({0: 0.80, 1: 0.82, 2: 0.79}, {0: 0.70, 1: 0.73, 2: 0.70}) == "win"
    assert verdict([0.70, 0.72, 0.71], [0.80, 0.81, 0.82]) == "loss"
    # the old rule called this a win (+4 points against a std of 1 and 0.8);
    # the seeds disagree on the sign, so the paired CI holds 0
    assert verdict([0.80, 0.82, 0.83], [0.82, 0.75, 0.76]).startswith(
        "no difference detected (resolves ±"
    )
    assert verdict({0: 0.8}, {0: 0.7, 1: 0.6}) == "–"  # one seed pairs
    setting = SETTINGS["in-domain"]
    cells = {
        ("random", "1%"): {0: 0.70, 1: 0.72, 2: 0.71},
        ("badge", "1%"): {0: 0.75, 1: 0.77, 2: 0.78},  # the best baseline at 1%
        ("allsh", "1%"): {0: 0.60, 1: 0.62, 2: 0.61},
        ("random", "5%"): {0: 0.85, 1: 0.87, 2: 0.86},  # the best at 5%
        ("badge", "5%"): {0: 0.80, 1: 0.80, 2: 0.81},
        ("allsh", "5%"): {0: 0.84, 1: 0.88, 2: 0.85},
        ("allsh-wca", "1%"): {},
        ("allsh-wca", "5%"): {0: 0.90, 2: 0.91},  # seed 1 missing: n=2
    }
    strategies = ["random", "badge", "allsh", "allsh-wca"]
    table = verdict_table(cells, strategies, ["1%", "5%"], setting)
    rows = {line.split(" | ")[0]: line for line in table.splitlines()}
    ours = strategy_label("allsh", setting)
    low, high = stats.ttest_rel([60, 62, 61], [75, 77, 78]).confidence_interval()
    assert rows[f"| {ours}"].endswith(
        f"| -15.67 [{low:+.2f}, {high:+.2f}] vs BADGE: **loss** "
        "| -0.33 [-3.20, +2.54] vs Random: no difference detected (resolves ±3.58) |"
    )
    wca = strategy_label("allsh-wca", setting)
    # paired on seeds 0 and 2 (+5 each), not 90.5 - 86.0 over all seeds; two
    # equal differences have no spread, and 2 of 2 signs is no evidence
    assert rows[f"| {wca}"].endswith(
        "| – | +5.00 (no interval) vs Random, n=2: no difference detected "
        "(2 pairs differ by the same amount: too few to tell) |"
    )
    assert "Random, BADGE" in table.splitlines()[0]
    assert "Student t" in table.splitlines()[0]
    # from a fixed reference: every other strategy gets a row
    table = verdict_table(cells, strategies, ["1%", "5%"], setting, "random")
    assert table.startswith("Paired differences from Random, in points")
    assert [line.split(" | ")[0] for line in table.splitlines()[4:]] == [
        "| BADGE",
        f"| {ours}",
        f"| {wca}",
    ]
    # nothing to compare: no block
    assert verdict_table(cells, ["random", "badge"], ["1%"], setting) == ""
    assert verdict_table(cells, ["allsh"], ["1%"], setting) == ""


def test_paired_plot_per_task(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from allsh_sklearn.experiments._reporting import (
        accuracy_table,
        paired_frame,
        plot_paired,
    )

    def run(strategy, seed, accuracy):
        return {
            "config": {"task": "sst2", "strategy": strategy, "seed": seed},
            "at_budget": {"1%": {"test": accuracy}, "5%": {"test": accuracy + 0.1}},
            "checkpoints": {"1%": 600, "5%": 3000},
            "curve": [[600, {"test": accuracy}], [3000, {"test": accuracy + 0.1}]],
            "sizes": {"pool": 60000, "test": 872},
            "classes": [0, 1],
            "pool_class_counts": [30000, 30000],
            "acquired_class_counts": [300, 300],
            "acquired_mean_words": 10.0,
            "pool_mean_words": 9.0,
        }

    runs = [
        run(strategy, seed, 0.6 + 0.05 * seed + shift)
        for strategy, shift in (("random", 0), ("entropy", 0.01), ("allsh", 0.02))
        for seed in range(3)
    ]
    runs.append(run("allsh", 1, 0.99))  # a shorter duplicate: never counted
    runs[-1]["curve"] = runs[-1]["curve"][:1]
    frame = paired_frame(runs, "in-domain", "sst2")
    assert list(frame["strategy"]) == ["Entropy", "Ours"] * 2
    assert list(frame["n_labels"]) == [600, 600, 3000, 3000]
    assert set(frame["baseline"]) == {"Random"}
    assert frame["difference"].to_numpy() == pytest.approx([1, 2, 1, 2])
    assert plot_paired(runs, "in-domain", "sst2").startswith(b"\x89PNG")
    markdown = accuracy_table(
        runs, "in-domain", paired_plots={"sst2": "../plots/p.png"}
    )
    assert "each strategy minus Random, mean paired difference" in markdown
    assert "](../plots/p.png)" in markdown
    assert "Paired differences from Random, in points" in markdown
    # ALLSH run with another procedure of its copies: its own row, never
    # mixed with the first (the procedure that differs is named)
    for seed in range(3):
        other = run("allsh", seed, 0.5 + 0.05 * seed)
        other["config"]["copies"] = "per_query"
        runs.append(other)
    frame = paired_frame(runs, "in-domain", "sst2")
    assert list(frame["strategy"][:3]) == [
        "Entropy",
        "Ours [copies=None]",
        "Ours [copies=per_query]",
    ]
    assert frame["difference"].to_numpy()[:3] == pytest.approx([1, 2, -10])
    markdown = accuracy_table(runs, "in-domain")
    assert "| Ours [copies=per_query] | 55.00 ± 4.08 | 85.97 |" in markdown
    # a strategy alone has nothing to be compared with
    alone = [r for r in runs if r["config"]["strategy"] == "random"]
    assert paired_frame(alone, "in-domain", "sst2") is None
    assert plot_paired(alone, "in-domain", "sst2") is None


def test_settings_cover_the_papers_tables():
    tables = {setting.table for setting in SETTINGS.values()}
    assert tables == {f"Table {n}" for n in (2, 3, 5, 6, 7, 8, 13)} | {"Analysis"}
    for setting in SETTINGS.values():
        for spec in setting.strategies:
            parse_strategy(spec)
        for task, rows in setting.paper.items():
            assert task in setting.tasks
            for values in rows.values():
                assert len(values) == len(setting.budgets)


def test_strategy_specs():
    assert canonical_strategy("allsh:divergence=alpha,alpha=-0.5") == (
        "allsh:alpha=-0.5,divergence=alpha"
    )
    assert strategy_label("allsh:p=0.1") == "Ours (p=0.1)"
    assert strategy_label("allsh", SETTINGS["divergence"]) == "KL"
    wca = build_strategy("allsh-wca:p=0.5", seed=3)
    assert (wca.n_augmentations, wca.worst_case, wca.augmenter.p) == (4, True, 0.5)
    assert build_strategy("allsh:balanced=true").balance == "pool"
    assert build_strategy("allsh:balanced=uniform").balance == "uniform"
    assert build_strategy("allsh-balanced").balance == "pool"
    assert build_strategy("allsh").balance is None
    with pytest.raises(ValueError, match="'balanced' option"):
        build_strategy("allsh:balanced=half")
    assert build_strategy("cal:k=5", embedding="tfidf").n_neighbors == 5
    synonyms = build_strategy("allsh:augmenter=synonym", seed=4).augmenter
    assert (type(synonyms).__name__, synonyms.source) == ("SynonymAugmenter", "wordnet")
    with pytest.raises(ValueError, match="'augmenter' option"):
        build_strategy("allsh:augmenter=eda")
    with pytest.raises(ValueError, match="Option 'p' is for the TF-IDF"):
        build_strategy("allsh:augmenter=synonym,p=0.2")
    with pytest.raises(ValueError, match="Unknown strategy"):
        parse_strategy("alsh")
    with pytest.raises(ValueError, match="has no option 'p'"):
        parse_strategy("entropy:p=0.3")
    with pytest.raises(ValueError, match="key=value"):
        parse_strategy("allsh:p")


def test_presets_are_the_one_table_of_strategies():
    from allsh_sklearn.augment import TfidfAugmenter
    from allsh_sklearn.experiments._settings import STRATEGIES, uses_consistency
    from allsh_sklearn.presets import PRESETS, WCA_COPIES, make_strategy

    assert set(STRATEGIES) == set(PRESETS)
    for name, preset in PRESETS.items():
        built = build_strategy(name, seed=0)
        assert type(built) is preset.cls
        for key, value in preset.params.items():
            assert built.get_params()[key] == value
    # the defaults live in one place each
    wca = make_strategy("allsh-wca", random_state=1)
    assert (wca.n_augmentations, wca.worst_case) == (WCA_COPIES, True)
    assert build_strategy("allsh", seed=2).augmenter.p == TfidfAugmenter().p
    assert uses_consistency("allsh-cl") and not uses_consistency("allsh")
    # spec options are set_params values, checked by the strategy itself
    with pytest.raises(ValueError, match="'n_augmentations' parameter of ALLSH"):
        build_strategy("allsh:K=1.5")
    with pytest.raises(ValueError, match="'name' parameter of make_strategy"):
        make_strategy("alsh")


def test_plan_checks_arguments(tmp_path):
    runner = ExperimentRunner(tmp_path, verbose=0)
    with pytest.raises(ValueError, match="needs classifier='minilm'"):
        runner.plan("in-domain", strategies=["allsh-cl"], classifier="tfidf-lr")
    with pytest.raises(ValueError, match="Unknown setting"):
        runner.plan("table-2")
    with pytest.raises(ValueError, match="'classifier' parameter"):
        runner.plan("in-domain", classifier="bert")
    # allsh-cl is dropped (with a note) from a setting's defaults without minilm
    configs = runner.plan("in-domain", tasks=["sst2"], seeds=[0])
    assert {c.strategy for c in configs} == {
        "random",
        "entropy",
        "badge",
        "cal",
        "allsh",
        "allsh-wca",
    }
    assert len({c.run_id for c in configs}) == len(configs)


def test_copies_per_seed(tmp_path, data_home, capsys, monkeypatch):
    runner = ExperimentRunner(tmp_path, data_home=data_home, verbose=0)
    kwargs = dict(
        tasks=["sst2"],
        strategies=["allsh", "allsh-scaled-badge"],
        seeds=[0, 1],
        budgets=[30],
        initial_size=10,
        batch_size=10,
    )
    shared = runner.plan("in-domain", **kwargs)
    per_seed = runner.plan("in-domain", copies_per_seed=True, **kwargs)
    # the default leaves the field out: the ids of earlier runs are unchanged
    assert all("copies_per_seed" not in c.as_dict() for c in shared)
    assert all(c.as_dict()["copies_per_seed"] is True for c in per_seed)
    assert not {c.run_id for c in shared} & {c.run_id for c in per_seed}
    seeds = {(c.strategy, c.seed): runner._augmenter_seed(c) for c in shared}
    assert len(set(seeds.values())) == 1  # one draw for the pool
    seeds = {(c.strategy, c.seed): runner._augmenter_seed(c) for c in per_seed}
    assert seeds[("allsh", 0)] == seeds[("allsh-scaled-badge", 0)]
    assert seeds[("allsh", 1)] == seeds[("allsh-scaled-badge", 1)]
    assert seeds[("allsh", 0)] != seeds[("allsh", 1)]
    # the two seeds' strategies really augment differently
    X_pool = runner._task_data(per_seed[0])["X_pool"]
    copies = []
    for config in per_seed[:2]:
        strategy = build_strategy(
            config.strategy, seed=runner._augmenter_seed(config)
        ).fit(X_pool)
        copies.append(strategy.augmenter_.augment(X_pool[:50], 1)[0])
    assert copies[0] != copies[1]
    records = runner.run("in-domain", copies_per_seed=True, **kwargs)
    assert len(records) == 4
    assert all(r["config"]["copies_per_seed"] is True for r in records)
    names = {p.name for p in write_report(tmp_path, plots=False)}
    assert "in-domain__tfidf-lr-init10-batch10-copiesperseed.md" in names
    with pytest.raises(TypeError, match="'copies_per_seed' parameter must be a bool"):
        runner.plan("in-domain", copies_per_seed="yes", **kwargs)
    # the command line: --copies-per-seed plans other runs
    monkeypatch.setenv("ALLSH_SKLEARN_DATA", str(data_home))
    listed = []
    for extra in ([], ["--copies-per-seed"]):
        capsys.readouterr()
        main([*RUN_ARGS, "--output", str(tmp_path / "cli"), "--dry-run", *extra])
        lines = capsys.readouterr().out.splitlines()
        listed.append({line.split()[1] for line in lines})
    assert len(listed[0]) == len(listed[1]) == 4
    assert not listed[0] & listed[1]


# Run identity: the procedure of the copies (issue 29) -------------------------

_RESULTS = Path(__file__).parents[1] / "results"
_UDA = "tfidf(joint_pairs=True,p=0.3,replace_punctuation=True,tokenizer=bert-basic)"
_WHITESPACE = (
    "tfidf(joint_pairs=False,p=0.3,replace_punctuation=False,tokenizer=whitespace)"
)


@pytest.mark.parametrize("folder", ["", "allsh13", "paper_counts"])
def test_recorded_runs_keep_their_ids(folder):
    from allsh_sklearn.experiments._records import (
        _WHITESPACE_RUNS,
        RunConfig,
        migrate_record,
    )

    path = _RESULTS / folder / "runs.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    records = JsonlLog(path).read()
    same = [RunConfig.from_record(r).run_id == r["run_id"] for r in records]
    assert all(same), f"{same.count(False)} of {len(records)} ids changed"
    # the 428 ALLSH runs of 2026-11-25 are read with the copies before UDA's
    legacy = [r for r in records if r["run_id"][-12:] in _WHITESPACE_RUNS]
    assert len(legacy) == (428 if folder == "" else 0)
    assert all(
        "tokenizer=whitespace" in migrate_record(r)["config"]["augmentation"]
        for r in legacy
    )
    if folder == "allsh13":
        procedures = {migrate_record(r)["config"].get("augmentation") for r in records}
        assert procedures == {None, _UDA}


def test_run_identity_holds_the_procedure(tmp_path, monkeypatch):
    from dataclasses import replace

    from allsh_sklearn.experiments import _records
    from allsh_sklearn.experiments._records import (
        RunConfig,
        copies_procedure,
        migrate_record,
    )

    runner = ExperimentRunner(tmp_path, verbose=0)
    kwargs = dict(tasks=["sst2"], seeds=[0], budgets=[30], initial_size=10)
    plain, random = runner.plan("in-domain", strategies=["allsh", "random"], **kwargs)
    # the record says which procedure; strategies without copies as before
    assert (plain.as_dict()["augmentation"], plain.as_dict()["copies"]) == (
        _UDA,
        "per_pool",
    )
    assert "augmentation" not in random.as_dict() and random.procedure() is None
    # the default procedure hashes as before the fields existed
    assert "augmentation" not in plain.identity()
    before = replace(plain, augmentation=None, copies=None)
    assert before.run_id == plain.run_id
    # any other augmenter, tokenisation or draw is another run
    ids = {
        plain.run_id,
        replace(plain, augmentation=_WHITESPACE).run_id,
        replace(plain, augmentation=_UDA.replace("p=0.3", "p=0.5")).run_id,
        replace(plain, copies="per_query").run_id,
        replace(plain, copies_per_seed=True).run_id,
    }
    assert len(ids) == 5
    # Algorithm 1's draw at every query, with a base seed per pool or per seed
    per_query = runner.plan("in-domain", strategies=["allsh-per-query"], **kwargs)
    assert per_query[0].as_dict()["copies"] == "per_query"
    per_seed = runner.plan(
        "in-domain",
        strategies=["allsh:draw_copies=per_query"],
        copies_per_seed=True,
        **kwargs,
    )
    assert per_seed[0].as_dict()["copies"] == "per_seed_and_query"
    assert copies_procedure("allsh:augmenter=synonym")["augmentation"].startswith(
        "synonym(min_replacements=1"
    )
    # A run recorded with the whitespace copies keeps its id; a UDA run of
    # the same configuration now gets another one.
    stored_id = plain.run_id
    written = plain.as_dict()  # as written before the procedure was recorded
    del written["augmentation"], written["copies"]
    legacy_record = {"run_id": stored_id, "config": written}
    monkeypatch.setattr(_records, "_WHITESPACE_RUNS", frozenset({plain.digest}))
    migrated = migrate_record(legacy_record)
    assert migrated["config"]["augmentation"] == _WHITESPACE
    assert RunConfig.from_record(legacy_record).run_id == stored_id
    uda = runner.plan("in-domain", strategies=["allsh"], **kwargs)[0]
    assert uda.augmentation == _UDA and uda.run_id != stored_id
    # records that have their procedure, and runs without copies, are left
    recorded = {"run_id": uda.run_id, "config": uda.as_dict()}
    assert migrate_record(recorded) is recorded
    bare = {"run_id": random.run_id, "config": random.as_dict()}
    assert migrate_record(bare) is bare


def test_runner_refuses_a_procedure_it_does_not_draw(tmp_path, data_home):
    from dataclasses import replace

    runner = ExperimentRunner(tmp_path, data_home=data_home, verbose=0)
    (config,) = runner.plan(
        "in-domain",
        tasks=["sst2"],
        strategies=["allsh"],
        seeds=[0],
        budgets=[30],
        initial_size=10,
        batch_size=10,
    )
    with pytest.raises(ValueError, match="this version of the code draws"):
        runner._run("in-domain", [replace(config, augmentation=_WHITESPACE)])
    assert JsonlLog(tmp_path / "iterations.jsonl").read() == []


def test_issue_29_strategies_run_and_resume_by_id(tmp_path, data_home):
    runner = ExperimentRunner(tmp_path, data_home=data_home, verbose=0)
    kwargs = dict(
        tasks=["sst2"],
        strategies=["allsh-per-query", "allsh-mi:K=2", "allsh-stochastic"],
        seeds=[0],
        budgets=[30],
        initial_size=10,
        batch_size=10,
    )
    records = runner.run("in-domain", **kwargs)
    assert [r["config"]["copies"] for r in records] == [
        "per_query",
        "per_pool",
        "per_pool",
    ]
    assert all(r["config"]["augmentation"] == _UDA for r in records)
    assert all(r["curve"][-1][0] == 30 for r in records)
    before = (tmp_path / "iterations.jsonl").read_bytes()
    again = ExperimentRunner(tmp_path, data_home=data_home, verbose=0).run(
        "in-domain", **kwargs
    )
    assert (tmp_path / "iterations.jsonl").read_bytes() == before
    assert [r["run_id"] for r in again] == [r["run_id"] for r in records]
    strategy = build_strategy(
        "allsh:batch=softrank,beta=2,draw_copies=per_query,sensitivity=variance"
    )
    assert (strategy.batch, strategy.beta, strategy.draw_copies) == (
        "softrank",
        2,
        "per_query",
    )
    assert strategy.sensitivity == "variance"


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert option in text
        if action.option_strings and action.dest != "help":
            assert action.help
    for name in SETTINGS:
        assert name in text
    assert "default" in text


def test_cli_errors_and_dry_run(tmp_path, data_home, capsys, monkeypatch):
    monkeypatch.setenv("ALLSH_SKLEARN_DATA", str(data_home))
    status = main([*RUN_ARGS, "--output", str(tmp_path), "--dry-run"])
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(
        line.startswith("todo  sst2|tfidf-lr|") for line in lines
    )
    status = main(["--strategies", "allsh-cl", "--output", str(tmp_path), "-q"])
    assert status == 2
    assert "needs classifier='minilm'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--budgets", "one%"])


def test_jsonl_log_and_atomic_write(tmp_path):
    log = JsonlLog(tmp_path / "log.jsonl")
    assert log.read() == []
    log.append({"a": 1})
    log.append({"a": 2})
    with open(log.path, "ab") as f:
        f.write(b'{"a": 3, "b"')  # killed mid-write
    assert log.read() == [{"a": 1}, {"a": 2}]
    log.append({"a": 4})
    assert log.read() == [{"a": 1}, {"a": 2}, {"a": 4}]
    assert log.path.read_bytes().endswith(b'{"a":4}\n')
    target = tmp_path / "table.md"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_budget_labels():
    assert [budget_label(b) for b in (0.01, 0.05, 0.15, 0.004, 50)] == [
        "1%",
        "5%",
        "15%",
        "0.4%",
        "50",
    ]


def test_sentence_encoder_caches_and_pools(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from _tiny_models import build_tiny_bert
    from sklearn.base import clone

    from allsh_sklearn.models import SentenceEncoder

    model = build_tiny_bert(tmp_path / "bert")
    texts = [
        "a good film",
        "a truly wonderful great movie and story",
        "bad",
        "a bad film",
    ]
    encoder = SentenceEncoder(
        model=str(model), cache_dir=tmp_path / "cache", batch_size=2
    )
    embeddings = encoder.fit(texts).transform(texts)
    assert embeddings.shape == (4, 32) and encoder.embedding_dim_ == 32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    assert encoder.n_encoded_ == 4
    # one at a time (no padding) gives the same vectors as length-sorted batches
    alone = np.vstack([encoder.transform([text]) for text in texts])
    assert np.allclose(alone, embeddings, atol=1e-5)
    # a clone (as active learning makes at every iteration) reads the disk cache
    other = clone(encoder).fit()
    assert np.array_equal(other.transform(texts[::-1]), embeddings[::-1])
    assert other.n_encoded_ == 0
    pairs = [(texts[0], texts[3]), (texts[1], texts[2])]
    features = other.transform(pairs)
    assert features.shape == (2, 128) and other.n_encoded_ == 0
    u, v = embeddings[0], embeddings[3]
    assert np.allclose(features[0], np.concatenate([u, v, np.abs(u - v), u * v]))
    cls = SentenceEncoder(model=str(model), pooling="cls", normalize=False).fit()
    assert not np.allclose(cls.transform(texts[:1]), embeddings[:1])
    with pytest.raises(ValueError, match="'pooling' parameter"):
        SentenceEncoder(pooling="max").fit()
    with pytest.raises(ValueError, match="config.json"):
        SentenceEncoder(model=str(tmp_path)).fit()


@pytest.mark.parametrize(
    "name",
    [
        "ActiveLearningSimulation",
        "SentenceEncoder",
        "PairTfidfVectorizer",
        "ExperimentRunner",
    ],
)
def test_docstrings_document_every_parameter(name):
    import inspect

    import allsh_sklearn.experiments as experiments
    import allsh_sklearn.loop as loop
    import allsh_sklearn.models as models

    module = next(m for m in (models, loop, experiments) if name in m.__all__)
    cls = getattr(module, name)
    doc = inspect.getdoc(cls)
    for parameter in inspect.signature(cls).parameters:
        assert f"{parameter} :" in doc, f"{name} does not document {parameter!r}"


def test_balanced_classifiers_reweigh_an_imbalanced_labeled_set():
    from allsh_sklearn.models import CLASSIFIERS, make_tier
    from allsh_sklearn.models._tiers import base_classifier

    assert {"tfidf-lr-balanced", "minilm-frozen-balanced"} <= set(CLASSIFIERS)
    assert base_classifier("minilm-frozen-balanced") == "minilm-frozen"
    X, y = synthetic_texts(n=400, seed=3)
    X, y = np.asarray(X), np.asarray(y)
    # A labeled set with 3 negatives against 40 positives.
    labeled = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:40]]
    test = np.setdiff1d(np.arange(len(y)), labeled)
    negative_proba = {}
    for name in ("tfidf-lr", "tfidf-lr-balanced"):
        tier = make_tier(name).prepare(list(X))
        estimator = tier.build(classes=[0, 1])
        assert tier.embedding == "tfidf"
        expected = "balanced" if name.endswith("balanced") else None
        assert estimator.named_steps["lr"].class_weight == expected
        estimator.fit(list(X[labeled]), y[labeled])
        negative_proba[name] = estimator.predict_proba(list(X[test]))[:, 0].mean()
    # Class weighting moves the decision boundary towards the majority class:
    # here the minority class's mean probability rises by more than half
    # (2.4 times measured).
    assert negative_proba["tfidf-lr-balanced"] > 1.5 * negative_proba["tfidf-lr"]


if __name__ == "__main__":  # regenerate GOLDEN (see its comment)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "data"
        home.mkdir()
        write_data_home(home, SPLITS)
        _golden_run(Path(folder) / "out", home)
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text("\n".join(_result_lines(Path(folder) / "out")) + "\n")
    print(f"wrote {GOLDEN}")
