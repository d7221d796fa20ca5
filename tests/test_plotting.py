"""Tests of allsh_sklearn.plotting: learning curves with a std band."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from allsh_sklearn.plotting import learning_curves_png, plot_learning_curves  # noqa: E402


def test_one_line_per_label_at_the_mean_in_percent():
    curves = {
        "random": ([10, 60, 110], [[0.5, 0.6, 0.7], [0.7, 0.8, 0.9]]),
        "ALLSH": ([10, 60, 110], [[0.5, 0.5, 0.5]]),
    }
    ax = plot_learning_curves(curves, title="SST-2")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["random (n=2)", "ALLSH (n=1)"]
    np.testing.assert_allclose(lines[0].get_ydata(), [60, 70, 80])
    np.testing.assert_allclose(lines[0].get_xdata(), [10, 60, 110])
    # the band spans mean ± std across runs: 60 ± 10 at the first size
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(50) and band[:, 1].max() == pytest.approx(
        90
    )
    assert ax.get_title() == "SST-2"
    plt.close(ax.figure)


def test_draws_on_given_axes_and_distinct_colours_beyond_ten():
    figure, ax = plt.subplots()
    curves = {f"s{i}": ([1, 2], [[0.1 * (i % 10), 0.2]]) for i in range(12)}
    assert plot_learning_curves(curves, ax=ax) is ax
    colours = [line.get_color() for line in ax.get_lines()]
    assert len(set(colours)) == 12
    plt.close(figure)


def test_scores_must_match_sizes():
    with pytest.raises(ValueError, match=r"curves\['random'\].*shape \(n_runs, 3\)"):
        plot_learning_curves({"random": ([1, 2, 3], [[0.5, 0.6]])})
    plt.close("all")


def test_png_bytes():
    png = learning_curves_png({"random": ([10, 60], [[0.5, 0.7]])}, title="t")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
