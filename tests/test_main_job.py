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
