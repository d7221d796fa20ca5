"""Time TfidfAugmenter on a whole training pool (SST-2 train by default).

Two procedures side by side, in one run: UDA's (the default: BERT's basic
tokenizer, punctuation replaceable, a pair one document) and the previous
one (``tokenizer="whitespace", replace_punctuation=False,
joint_pairs=False``), with the ratio of their times.

Usage, from the repository root::

    python benchmarks/bench_tfidf_augmenter.py
    python benchmarks/bench_tfidf_augmenter.py --dataset imdb --n-copies 4
    python benchmarks/bench_tfidf_augmenter.py --dataset rte --repeat 1

The data directory holds ``<dataset>/<split>.jsonl.gz`` files of
``{"text", "label"}`` (or ``{"text", "text_pair", "label"}``) rows. It
defaults to ``$ALLSH_SKLEARN_DATA``, or else ``../shared/data`` relative to
the repository root.
"""

import argparse

import numpy as np
from _common import best_time, default_data_home, read_rows

from allsh_sklearn.augment import TFIDF_REPLACEMENT_RATE, TfidfAugmenter


def load_texts(data_home, dataset, split):
    """Return the texts (or text pairs) of ``<data_home>/<dataset>/<split>``."""
    return [
        (row["text"], row["text_pair"]) if "text_pair" in row else row["text"]
        for row in read_rows(data_home, dataset, split)
    ]


#: The procedures compared: name and TfidfAugmenter options.
PROCEDURES = (
    ("UDA (default)", {}),
    (
        "previous",
        {"tokenizer": "whitespace", "replace_punctuation": False, "joint_pairs": False},
    ),
)


def changed_fraction(originals, copies, tokenize):
    """Fraction of words (the augmenter's own) that differ in the copies."""
    changed = total = 0
    for original, copy in zip(originals, copies, strict=True):
        if isinstance(original, tuple):
            pairs = zip(original, copy, strict=True)
        else:
            pairs = [(original, copy)]
        for before, after in pairs:
            before, after = tokenize(before), tokenize(after)
            changed += sum(u != v for u, v in zip(before, after, strict=True))
            total += len(before)
    return changed / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--split", default="train")
    parser.add_argument("--p", type=float, default=TFIDF_REPLACEMENT_RATE)
    parser.add_argument("--n-copies", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    texts = load_texts(args.data_home, args.dataset, args.split)
    n = len(texts)
    print(
        f"{args.dataset}/{args.split}: {n} texts, p = {args.p}, best of {args.repeat}"
    )

    k = args.n_copies
    times = {}
    for name, options in PROCEDURES:
        augmenter = TfidfAugmenter(p=args.p, random_state=args.random_state, **options)
        _, fit_time = best_time(lambda a=augmenter: a.fit(texts), args.repeat)
        tokenize = augmenter.build_tokenizer()
        n_words = sum(
            len(tokenize(part))
            for item in texts
            for part in (item if isinstance(item, tuple) else (item,))
        )
        copies, transform_time = best_time(
            lambda a=augmenter: a.transform(texts), args.repeat
        )
        many, augment_time = best_time(
            lambda a=augmenter: a.augment(texts, n_copies=k), args.repeat
        )
        assert many[0] == copies
        fractions = [changed_fraction(texts, copy, tokenize) for copy in many]
        times[name] = (fit_time, transform_time, augment_time)
        print(
            f"\n{name}: {n_words:,} words, vocabulary "
            f"{len(augmenter.vocabulary_):,}, changed words "
            f"{np.mean(fractions):.3f} per copy"
        )
        print(f"  fit:          {fit_time:7.3f} s  {n / fit_time:12,.0f} texts/s")
        print(
            f"  transform:    {transform_time:7.3f} s  "
            f"{n / transform_time:12,.0f} texts/s"
        )
        print(
            f"  augment K={k}:  {augment_time:7.3f} s  "
            f"{n * k / augment_time:12,.0f} copies/s"
        )
    (uda, uda_times), (old, old_times) = times.items()
    ratios = ", ".join(
        f"{step} {a / b:.2f}x"
        for step, a, b in zip(
            ("fit", "transform", "augment"), uda_times, old_times, strict=True
        )
    )
    print(f"\ntime of {uda} / time of {old}: {ratios}")


if __name__ == "__main__":
    main()
