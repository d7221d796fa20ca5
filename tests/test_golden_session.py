"""The labeling session's batches against a golden file.

:data:`GOLDEN` holds, for a fixed pool and seed, every batch a session
opened (ids in the order served, with the model's guess and its
probability) over three labeled rounds, for each strategy below. Layout
changes (issue 28) must leave it byte-identical. Regenerate only for an
intended change of picks: ``python tests/test_golden_session.py``.
"""

import json
from pathlib import Path

import pytest
from _session_data import create_session, label_open_batch, make_pool

GOLDEN = Path(__file__).parent / "golden" / "session_batches.jsonl"
STRATEGIES = ["random", "entropy", "badge", "cal", "allsh", "allsh-wca"]
N_ROUNDS = 3


def _batches(folder, strategy):
    """One JSON line per batch a session served with ``strategy``."""
    table, truth = make_pool(n=120, n_classes=2, seed=3)
    session = create_session(folder, table, strategy=strategy, random_state=7)
    lines = []
    try:
        for round_number in range(N_ROUNDS):
            session.next_batch(progress=False)
            batch = session.current_batch()
            lines.append(
                json.dumps(
                    {
                        "strategy": strategy,
                        "round": round_number,
                        "kind": batch.kind,
                        "ids": [item.item_id for item in batch.items],
                        "guesses": [item.guess for item in batch.items],
                        "proba": [
                            None
                            if item.proba is None
                            else {k: round(float(v), 10) for k, v in item.proba.items()}
                            for item in batch.items
                        ],
                        "scores": [
                            None if item.score is None else round(float(item.score), 10)
                            for item in batch.items
                        ],
                    },
                    sort_keys=True,
                )
            )
            label_open_batch(session, truth)
    finally:
        session.close()
    return lines


def _all_lines(folder):
    return [
        line
        for strategy in STRATEGIES
        for line in _batches(Path(folder) / strategy, strategy)
    ]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_session_batches_match_the_golden_file(tmp_path, strategy):
    expected = [
        line
        for line in GOLDEN.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["strategy"] == strategy
    ]
    assert len(expected) == N_ROUNDS
    assert _batches(tmp_path, strategy) == expected


if __name__ == "__main__":  # regenerate the golden file
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        GOLDEN.write_text("\n".join(_all_lines(folder)) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
