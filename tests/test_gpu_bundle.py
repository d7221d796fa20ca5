"""The GPU run's weight bundle (``tools/gpu_bundle.py``, issue 29 item 8)."""

import pytest
from _tools import load_tool

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tool():
    return load_tool("gpu_bundle")


def test_int8_copy_is_within_half_a_step_of_every_weight(tool):
    generator = torch.Generator().manual_seed(0)
    weights = {
        "embeddings.word_embeddings.weight": torch.randn(50, 8, generator=generator),
        "encoder.dense.weight": 3 * torch.randn(8, 8, generator=generator),
        "encoder.dense.bias": torch.randn(8, generator=generator),
    }
    weights["encoder.dense.weight"][2] = 0.0  # an all-zero row
    packed = tool.quantize(weights)
    assert packed["embeddings.word_embeddings.weight"].dtype == torch.int8
    assert packed["encoder.dense.bias"].dtype == torch.float16
    restored = tool.dequantize(packed)
    assert set(restored) == set(weights)
    for name, original in weights.items():
        copy = restored[name]
        assert copy.dtype == torch.float32 and copy.shape == original.shape
        if original.ndim == 2:
            step = original.abs().amax(dim=1, keepdim=True) / 127
            assert torch.all((copy - original).abs() <= step / 2 + 1e-6)
        else:
            torch.testing.assert_close(copy, original, atol=1e-2, rtol=1e-3)
    assert torch.all(restored["encoder.dense.weight"][2] == 0)


def _bench_al_minilm():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "benchmarks" / "bench_al_minilm.py"
    spec = importlib.util.spec_from_file_location("bench_al_minilm", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_run_summary_survives_a_time_limit_that_let_one_seed_finish():
    from scipy import stats

    bench = _bench_al_minilm()

    def rows(scores):
        return [
            {"n_labeled": 606, "strategy": name, "seed": seed, "accuracy": accuracy}
            for name, by_seed in scores.items()
            for seed, accuracy in enumerate(by_seed)
        ]

    assert bench.paired_summary(rows({"random": [0.79], "allsh": [0.81]})) == {}
    random, allsh = [0.79, 0.80, 0.78], [0.81, 0.81, 0.80]
    summary = bench.paired_summary(rows({"random": random, "allsh": allsh}))
    low, high = stats.ttest_rel(allsh, random).confidence_interval()
    assert summary["allsh"]["n"] == 3
    assert summary["allsh"]["ci_low"] == pytest.approx(100 * low)
    assert summary["allsh"]["ci_high"] == pytest.approx(100 * high)
