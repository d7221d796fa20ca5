"""The README's main job (examples/run_sst2_active_learning.py) on small pools."""

import importlib.util
import pathlib

import pytest

EXAMPLE = (
    pathlib.Path(__file__).resolve().parents[1]
    / "examples"
    / "run_sst2_active_learning.py"
)


@pytest.fixture(scope="module")
def main_job():
    spec = importlib.util.spec_from_file_location("main_job", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.mark.parametrize("classifier", ["tfidf-lr", "minilm-fast"])
def test_main_job_runs_each_strategy_to_the_budget(main_job, data_home, classifier):
    # the fine-tuned tier with 4 steps per fit: the wiring, not its accuracy
    results = main_job(
        [
            "--data-home", str(data_home), "--pool-size", "400",
            "--initial", "0.05", "--budget", "0.1", "--batch-size", "20",
            "--strategies", "random", "allsh", "--seeds", "0",
            "--classifier", classifier, "--train-steps", "4", "--quiet",
        ]
    )  # fmt: skip
    assert set(results) == {"random", "allsh"}
    for runs in results.values():
        ((curve, seconds),) = runs
        assert [n for n, _ in curve] == [20, 40]
        assert all(0.0 <= accuracy <= 1.0 for _, accuracy in curve)
        assert len(seconds) == 1


def test_main_job_prints_the_paired_difference_at_a_label_count(
    main_job, data_home, capsys
):
    results = main_job(
        [
            "--data-home", str(data_home), "--pool-size", "400",
            "--initial", "10", "--budget", "50", "--batch-size", "20",
            "--strategies", "random", "allsh", "--seeds", "0", "1", "2",
            "--classifier", "tfidf-lr", "--quiet",
        ]
    )  # fmt: skip
    for runs in results.values():
        assert [curve[-1][0] for curve, _ in runs] == [50, 50, 50]
    out = capsys.readouterr().out
    assert "10 labels -> 50 labels" in out
    line = next(line for line in out.splitlines() if "allsh - random:" in line)
    final = {
        name: [100 * curve[-1][1] for curve, _ in runs]
        for name, runs in results.items()
    }
    pairs = zip(final["allsh"], final["random"], strict=True)
    mean = sum(a - r for a, r in pairs) / 3
    assert f"{mean:+.2f} [" in line
    assert "n=3" in line


def test_main_job_rejects_a_budget_that_is_not_a_size(main_job):
    with pytest.raises(SystemExit):
        main_job(["--budget", "many"])
