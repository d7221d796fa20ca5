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
