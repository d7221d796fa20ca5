"""Per-iteration acquisition time of each strategy, next to the paper's Table 13.

One classifier is fitted on a small labeled set, then each strategy queries
the same pool once; its ``last_query_time_`` gives the seconds spent in model
passes (``inference``), augmentation (ALLSH, WCA) and scoring or clustering
(``selection``). The table shows the ratio of each total to entropy's, next to
the ratios of the paper's Table 13 (average over SST-2, IMDB and AG News, on
a V100 GPU with BERT-base: Ours 541 s, WCA 636 s, CAL 755 s, BADGE 10303 s,
entropy 227 s per iteration).

The ALLSH/WCA time is that of a first query: the augmentation cache is cold.
Later iterations reuse the cached copies of the texts still in the pool, so
their augmentation time shrinks (see ``--repeats``).

Classifiers:

- ``minilm`` (default): :class:`allsh_sklearn.models.TransformerClassifier`
  with the bundled all-MiniLM-L6-v2; CAL uses the pooler output, BADGE the
  penultimate vector (the input of the classification layer).
- ``tfidf-lr``: TF-IDF + logistic regression; CAL and BADGE use the TF-IDF
  vectors (``embedding="tfidfvectorizer"``).

Run::

    python benchmarks/bench_query_time.py                       # MiniLM, 1000 texts
    python benchmarks/bench_query_time.py --classifier tfidf-lr --n-pool 20000
"""

import argparse
import time

from _common import default_data_home

from allsh_sklearn.datasets import load_dataset
from allsh_sklearn.strategies import (
    ALLSH,
    BADGE,
    CAL,
    EntropySampling,
    RandomSampling,
)

# Table 13 of the paper, seconds per iteration, AVG column.
PAPER_SECONDS = {
    "random": 0.0,
    "entropy": 227.0,
    "ALLSH": 541.0,
    "WCA": 636.0,
    "CAL": 755.0,
    "BADGE": 10303.0,
}


def make_classifier(name, seed, train_steps):
    if name == "minilm":
        from allsh_sklearn.models import TransformerClassifier

        return TransformerClassifier(train_steps=train_steps, random_state=seed)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))


def make_strategies(classifier_name, seed, wca_augmentations):
    embedding = "tfidfvectorizer" if classifier_name == "tfidf-lr" else None
    return {
        "random": RandomSampling(random_state=seed),
        "entropy": EntropySampling(random_state=seed),
        "ALLSH": ALLSH(random_state=seed),
        "WCA": ALLSH(
            n_augmentations=wca_augmentations, worst_case=True, random_state=seed
        ),
        "CAL": CAL(embedding=embedding, random_state=seed),
        "BADGE": BADGE(embedding=embedding, random_state=seed),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--classifier", choices=["minilm", "tfidf-lr"], default="minilm"
    )
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--data-home", default=default_data_home())
    parser.add_argument("--n-pool", type=int, default=1000)
    parser.add_argument("--n-labeled", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--train-steps", type=int, default=20, help="MiniLM fine-tuning steps"
    )
    parser.add_argument("--wca-augmentations", type=int, default=4)
    parser.add_argument(
        "--repeats", type=int, default=1, help="queries per strategy (first is cold)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    texts, labels = load_dataset(
        args.dataset,
        split="train",
        data_home=args.data_home,
        return_X_y=True,
        n_samples=args.n_pool + args.n_labeled,
        random_state=args.seed,
    )
    X_labeled, y_labeled = texts[: args.n_labeled], labels[: args.n_labeled]
    X_pool = texts[args.n_labeled :]

    classifier = make_classifier(args.classifier, args.seed, args.train_steps)
    start = time.perf_counter()
    classifier.fit(X_labeled, y_labeled)
    fit_seconds = time.perf_counter() - start
    print(
        f"{args.classifier} on {args.dataset}: {args.n_labeled} labeled (fit "
        f"{fit_seconds:.1f} s), pool {len(X_pool)}, batch {args.batch}, "
        f"{args.repeats} quer{'y' if args.repeats == 1 else 'ies'} per strategy\n"
    )

    rows = {}
    for name, strategy in make_strategies(
        args.classifier, args.seed, args.wca_augmentations
    ).items():
        extra = {"X_labeled": X_labeled} if name == "CAL" else {}
        times = []
        for _ in range(args.repeats):
            strategy(classifier, X_pool, args.batch, **extra)
            times.append(dict(strategy.last_query_time_))
        rows[name] = times
        first = times[0]
        print(
            f"  {name}: " + ", ".join(f"{k} {v:.3f} s" for k, v in first.items()),
            flush=True,
        )

    entropy_total = rows["entropy"][0]["total"]
    print(
        "\n| strategy | inference (s) | augmentation (s) | selection (s) | total (s) "
        "| / entropy | paper / entropy |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, times in rows.items():
        first = times[0]
        paper = PAPER_SECONDS[name] / PAPER_SECONDS["entropy"]
        augmentation = first.get("augmentation", 0.0)
        print(
            f"| {name} | {first['inference']:.2f} | {augmentation:.2f} "
            f"| {first['selection']:.3f} | {first['total']:.2f} "
            f"| {first['total'] / entropy_total:.2f}x | {paper:.1f}x |"
        )
    if args.repeats > 1:
        print("\nLater queries (warm augmentation cache), total seconds:")
        for name, times in rows.items():
            later = ", ".join(f"{t['total']:.2f}" for t in times[1:])
            print(f"  {name}: {later}")


if __name__ == "__main__":
    main()
