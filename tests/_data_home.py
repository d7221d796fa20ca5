"""A synthetic data home for the tests that run the experiment runner.

Import what a module needs::

    from _data_home import write_data_home
"""

import gzip
import json

from _toy_models import synthetic_texts


def write_data_home(home, splits, *, noise=0.25):
    """Write a synthetic binary ``sst2`` into ``home``, in the data format.

    Parameters
    ----------
    home : pathlib.Path
        The folder; ``home / "sst2"`` is created in it (and ``home`` too,
        if need be).
    splits : dict of {str: (int, int)}
        ``{split name: (number of texts, seed)}``, e.g. ``{"train": (200, 0),
        "test": (60, 1)}``; the texts are ``synthetic_texts(n, seed=seed,
        noise=noise)``.
    noise : float, default=0.25
        As in ``synthetic_texts``.

    Returns
    -------
    home : pathlib.Path
        ``home`` itself.
    """
    folder = home / "sst2"
    folder.mkdir(parents=True)
    for split, (n, seed) in splits.items():
        X, y = synthetic_texts(n, seed=seed, noise=noise)
        with gzip.open(folder / f"{split}.jsonl.gz", "wt", encoding="utf-8") as f:
            for text, label in zip(X, y, strict=True):
                f.write(json.dumps({"text": text, "label": int(label)}) + "\n")
    meta = {
        "name": "sst2",
        "label_names": ["negative", "positive"],
        "splits": {split: n for split, (n, _) in splits.items()},
        "source": "synthetic",
        "license": "CC0",
        "notes": "test data",
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return home
