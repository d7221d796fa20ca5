"""Each row of our tables sits beside the paper's row of the same configuration.

Section 5 of the paper (Tables 5, 7 and 8) reports ALLSH + CL as "Ours"
(footnote 3, Appendix A.2); Tables 2, 3 and 6 report plain ALLSH as "Ours".
"""

import pytest

from allsh_sklearn.experiments._reporting import accuracy_table
from allsh_sklearn.experiments._settings import SETTINGS, paper_row


def _run(task, strategy, seed, accuracy, budget="1%"):
    """A run record with the fields accuracy_table reads."""
    return {
        "config": {"task": task, "strategy": strategy, "seed": seed},
        "at_budget": {budget: {"test": accuracy}},
        "curve": [[600, {"test": accuracy}]],
        "sizes": {"pool": 60000, "test": 872},
        "classes": [0, 1],
        "pool_class_counts": [30000, 30000],
        "acquired_class_counts": [300, 300],
        "acquired_mean_words": 10.0,
        "pool_mean_words": 9.0,
    }


def _rows(markdown):
    """``{row label: cells}`` of the first Markdown table."""
    rows = {}
    for line in markdown.splitlines():
        if rows and not line.startswith("|"):
            break  # the end of the first table (the verdicts follow)
        if line.startswith("| ") and not line.startswith("| Strategy"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize(
    "setting, task, budget, index",
    [
        ("imbalanced", "sst2-imbalanced", "1%", 0),
        ("small-budget", "imdb", "0.8%", 1),
    ],
)
def test_cl_row_gets_the_papers_ours_and_plain_allsh_gets_none(
    setting, task, budget, index
):
    paper = SETTINGS[setting].paper[task]
    runs = [
        _run(task, strategy, seed, 0.5 + 0.01 * seed, budget)
        for strategy in ("random", "allsh", "allsh-cl")
        for seed in (0, 1)
    ]
    rows = _rows(accuracy_table(runs, setting))
    # Columns: ours, paper (one budget in the runs).
    assert rows["+ CL"][1] == f"{paper['Ours'][index]:.2f}"
    assert rows["Ours"][1] == "–"
    assert rows["Random"][1] == f"{paper['Random'][index]:.2f}"
    # Paper rows no run pairs with are listed under our label of that row.
    assert rows["Entropy (not run)"][1] == f"{paper['Entropy'][index]:.2f}"
    assert "Ours (not run)" not in rows


def test_unrun_cl_row_is_named_after_our_configuration():
    # A tfidf-lr run cannot train with the consistency loss: the paper's
    # "Ours" is then listed as the + CL row that was not run, not beside
    # plain ALLSH.
    runs = [_run("sst2-imbalanced", s, 0, 0.8) for s in ("random", "allsh")]
    rows = _rows(accuracy_table(runs, "imbalanced"))
    paper = SETTINGS["imbalanced"].paper["sst2-imbalanced"]
    assert rows["Ours"] == ["**80.00**", "–"]  # the best mean, in bold
    assert rows["+ CL (not run)"] == ["–", f"{paper['Ours'][0]:.2f}"]


def test_divergence_table_pairs_each_divergence_with_its_cl_row():
    setting = SETTINGS["divergence"]
    paper = setting.paper["sst2"]
    strategies = [
        "allsh",
        "allsh:divergence=jsd",
        "allsh-cl",
        "allsh-cl:divergence=jsd",
        "allsh-cl:alpha=-0.5,divergence=alpha",
    ]
    runs = [_run("sst2", s, 0, 0.7) for s in strategies]
    rows = _rows(accuracy_table(runs, "divergence"))
    assert rows["KL"][1] == rows["JSD"][1] == "–"
    assert rows["KL + CL"][1] == f"{paper['KL'][0]:.2f}"
    assert rows["JSD + CL"][1] == f"{paper['JSD'][0]:.2f}"
    assert rows["α = -0.5 + CL"][1] == f"{paper['α = -0.5'][0]:.2f}"
    assert rows["α = 0.5 + CL (not run)"][1] == f"{paper['α = 0.5'][0]:.2f}"
    # Each paper number appears exactly once in the table.
    numbers = [cells[1] for cells in rows.values()]
    for values in paper.values():
        assert numbers.count(f"{values[0]:.2f}") == 1


@pytest.mark.parametrize("name", ["in-domain", "out-of-domain", "augmentation"])
def test_tables_of_plain_allsh_keep_their_pairing(name):
    setting = SETTINGS[name]
    assert not setting.paper_rows
    ours = "TF-IDF" if name == "augmentation" else "Ours"
    assert paper_row("allsh", setting) == ours
    if "allsh-cl" in setting.strategies:
        assert paper_row("allsh-cl", setting) == "+ CL"


def test_every_paper_row_pairs_with_one_default_strategy():
    for setting in SETTINGS.values():
        if not setting.paper:
            continue
        paired = [paper_row(spec, setting) for spec in setting.strategies]
        named = [label for label in paired if label is not None]
        assert len(named) == len(set(named)), setting.name
        for rows in setting.paper.values():
            assert set(rows) <= set(named), (setting.name, set(rows) - set(named))
