"""Throughput of every augmenter on SST-2 texts, and of the SQLite cache.

Usage, from the repository root::

    python benchmarks/bench_augmenters.py
    python benchmarks/bench_augmenters.py --data-home /path/to/data --n-texts 2000

Times ``fit`` and one augmented copy of ``--n-texts`` SST-2 training texts
(a seeded sample) for TfidfAugmenter, SynonymAugmenter (WordNet and GloVe)
and BackTranslationAugmenter with Debian's Apertium (skipped, with the reason,
if it is not installed). The back-translation is then read back twice from
its SQLite cache: by the same augmenter, and by a new augmenter as a later
run would. Throughput is wall time, best of ``--repeat`` runs for the cheap
augmenters, one run for back-translation (its second run would be a cache
hit).

The data directory holds ``<dataset>/<split>.jsonl.gz`` files of
``{"text", "label"}`` rows. It defaults to ``$ALLSH_SKLEARN_DATA``, or else
``../shared/data`` relative to the repository root.
"""

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from _common import best_time, default_data_home, read_rows

from allsh_sklearn.augment import (
    TFIDF_REPLACEMENT_RATE,
    BackTranslationAugmenter,
    SQLiteAugmentationCache,
    SynonymAugmenter,
    TfidfAugmenter,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_texts(data_home, dataset, split, n_texts, random_state):
    """Return ``n_texts`` texts of ``<data_home>/<dataset>/<split>``, sampled."""
    texts = [row["text"] for row in read_rows(data_home, dataset, split)]
    rng = np.random.default_rng(random_state)
    chosen = rng.choice(len(texts), size=min(n_texts, len(texts)), replace=False)
    return [texts[i] for i in chosen]


def changed(originals, copies):
    """Fraction of texts whose copy differs from the original."""
    return float(np.mean([a != b for a, b in zip(originals, copies, strict=True)]))


def report(name, n, fit_time, augment_time, note=""):
    fit = f"{fit_time:7.2f} s" if fit_time is not None else "      -  "
    print(
        f"{name:<34} fit {fit}   augment {augment_time:8.3f} s "
        f"{n / augment_time:11,.0f} texts/s  {note}"
    )


def bench_lexical(texts, repeat, random_state):
    cheap = [
        (f"TfidfAugmenter(p={TFIDF_REPLACEMENT_RATE})",
         TfidfAugmenter(p=TFIDF_REPLACEMENT_RATE, random_state=random_state)),
        ("SynonymAugmenter(wordnet, p=0.1)",
         SynonymAugmenter(source="wordnet", p=0.1, random_state=random_state)),
        ("SynonymAugmenter(glove, p=0.1)",
         SynonymAugmenter(source="glove", p=0.1, random_state=random_state)),
    ]
    for name, augmenter in cheap:
        # The first fit loads WordNet / GloVe; later fits reuse them.
        _, first_fit = best_time(lambda a=augmenter: a.fit(texts))
        copies, augment_time = best_time(lambda a=augmenter: a.transform(texts), repeat)
        report(name, len(texts), first_fit, augment_time,
               f"(changed {changed(texts, copies):.0%} of texts)")


def bench_apertium(texts, cache_dir, random_state):
    if shutil.which("apertium") is None:
        print("BackTranslationAugmenter(apertium)  skipped: Debian's Apertium is "
              "not installed (apt-get install apertium-eng-spa)")
        return
    params = {"backend": "apertium", "cache_dir": cache_dir,
              "random_state": random_state}
    augmenter = BackTranslationAugmenter(**params)
    _, fit_time = best_time(lambda: augmenter.fit(texts))
    copies, first = best_time(lambda: augmenter.transform(texts))
    report("BackTranslation(apertium) miss", len(texts), fit_time, first,
           f"(changed {changed(texts, copies):.0%}, length-filter fallbacks "
           f"{augmenter.n_fallbacks_}/{augmenter.n_translated_})")

    again, same = best_time(lambda: augmenter.transform(texts))
    assert again == copies
    report("  same augmenter, SQLite hit", len(texts), None, same)

    def new_run():
        return BackTranslationAugmenter(**params).fit(texts).transform(texts)

    again, fresh = best_time(new_run)
    assert again == copies
    report("  new augmenter, SQLite hit", len(texts), None, fresh,
           "(includes fit and opening the file)")

    path = os.path.join(cache_dir, "augmentations.sqlite3")
    keys = [(augmenter.fingerprint(), 0, text) for text in texts]
    cache = SQLiteAugmentationCache(path)
    values, lookup = best_time(lambda: cache.get_many(keys), 3)
    assert values == copies
    report("  SQLiteAugmentationCache.get_many", len(texts), None, lookup)
    cache.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--split", default="train")
    parser.add_argument("--n-texts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--cache-dir", default=None,
        help="folder of the back-translation cache (default: a fresh temporary "
        "folder, so that the first pass misses)",
    )
    args = parser.parse_args(argv)

    texts = load_texts(args.data_home, args.dataset, args.split, args.n_texts,
                       args.random_state)
    n_chars = sum(len(text) for text in texts)
    print(f"{args.dataset}/{args.split}: {len(texts)} texts, "
          f"{n_chars / len(texts):.0f} characters on average")
    bench_lexical(texts, args.repeat, args.random_state)
    if args.cache_dir is not None:
        bench_apertium(texts, args.cache_dir, args.random_state)
    else:
        with tempfile.TemporaryDirectory() as cache_dir:
            bench_apertium(texts, cache_dir, args.random_state)


if __name__ == "__main__":
    main()
