"""Run identity: what a run's id hashes, and records of earlier versions.

:class:`RunConfig` is everything that determines the result of one run; its
``run_id`` names the run in ``runs.jsonl``, ``iterations.jsonl`` and
``requests.jsonl``, and the runner resumes by it, so the id of a run already
recorded must never change. :func:`migrate_record` reads a record written by
an earlier version as this one writes it, with the procedure of its copies
(:func:`copies_procedure`), keeping its id. The runner
(:mod:`._runner`) writes these records, the reports (:mod:`._reporting`)
read them; both import this module, neither the other.

Run identity holds the procedure of the copies (issue 29): the record of a
run whose strategy augments has ``augmentation`` (the augmenter and every
parameter that changes its copies, tokenisation included) and ``copies``
(when they are drawn: ``per_pool``, ``per_seed``, ``per_query`` or
``per_seed_and_query``) in its configuration, so tables can group by them.
The run id hashes them where they differ from the procedure the spec meant
when runs were first recorded, so the ids of earlier runs are unchanged;
records written before (without the two keys) are given the procedure they
used when read: UDA's TF-IDF copies, or, for the 428 ALLSH runs of
2026-11-25, the whitespace copies of the procedure before UDA's, whose ids a
UDA run of the same configuration no longer takes.

Strategy specs are written canonically
(:func:`~allsh_sklearn.presets.canonical_strategy`), with the short option
names of the ids recorded so far (``allsh:K=4``).
"""

import functools
import json
from dataclasses import asdict, dataclass

from ..presets import build_strategy, canonical_strategy, parse_strategy
from ..utils import text_key
from ._settings import TASKS

__all__ = ["RunConfig", "copies_procedure", "migrate_record"]


# The procedure of the copies, in run identity (issue 29) ---------------------

#: Augmenter parameters that change where or how fast copies are made, not
#: which (the seed is the run's: see ``copies``).
_NOT_PROCEDURE = ("random_state", "cache_dir", "device", "verbose")

#: The parameters each augmenter of a spec had when the procedure entered run
#: identity. A run whose augmenter has them (with the spec's own options)
#: hashes without its procedure, as every run did before; one whose augmenter
#: differs (a default changed since) hashes with it and never takes an
#: earlier run's id. Pinned on purpose: never update them with a default.
_REFERENCE_AUGMENTERS = {
    "tfidf": {
        "joint_pairs": True,
        "p": 0.3,
        "replace_punctuation": True,
        "tokenizer": "bert-basic",
    },
    "synonym": {
        "min_replacements": 1,
        "n_neighbors": 5,
        "p": 0.1,
        "source": "wordnet",
        "stop_words": "english",
        "vocabulary_size": 50000,
    },
    "backtranslation": {
        "backend": "apertium",
        "backward": None,
        "batch_size": None,
        "forward": None,
        "max_length": 256,
        "max_length_diff": 0.5,
        "min_chars": 10,
        "num_beams": 4,
        "sampling": True,
        "temperature": 0.9,
        "top_k": None,
    },
}

#: The TF-IDF procedure before UDA's became the default (commit de0a0c3,
#: 2026-12-01): words split at whitespace, punctuation kept, the two texts of
#: a pair augmented apart.
_WHITESPACE_TFIDF = {
    "joint_pairs": False,
    "replace_punctuation": False,
    "tokenizer": "whitespace",
}

#: When copies are drawn, from ``(ALLSH's draw_copies, copies_per_seed)``.
_COPIES = {
    ("once", False): "per_pool",
    ("once", True): "per_seed",
    ("per_query", False): "per_query",
    ("per_query", True): "per_seed_and_query",
}


def _describe_augmenter(name, params):
    """``"tfidf(joint_pairs=True,p=0.3,...)"``: an augmenter and its procedure."""
    listed = ",".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in _NOT_PROCEDURE
    )
    return f"{name}({listed})"


@dataclass(frozen=True)
class _SpecProcedure:
    augmentation: str  # what this code draws
    reference: str  # what the spec meant when runs were first recorded
    whitespace: str  # the same with the TF-IDF procedure before UDA's
    draw: str  # the built strategy's draw_copies
    reference_draw: str  # the spec's own draw_copies, else "once"


@functools.lru_cache(maxsize=512)
def _spec_procedure(spec):
    """The copies' procedure of a canonical spec; None if it draws no copies."""
    built = build_strategy(spec)
    if "augmenter" not in built.get_params(deep=False):
        return None
    options = parse_strategy(spec)[1]
    name = options.get("augmenter", "tfidf")
    explicit = {
        key.split("__", 1)[1]: value
        for key, value in options.items()
        if key.startswith("augmenter__")
    }
    reference = {**_REFERENCE_AUGMENTERS[name], **explicit}
    whitespace = {**reference, **_WHITESPACE_TFIDF, **explicit}
    return _SpecProcedure(
        augmentation=_describe_augmenter(name, built.augmenter.get_params(deep=False)),
        reference=_describe_augmenter(name, reference),
        whitespace=_describe_augmenter(
            name, whitespace if name == "tfidf" else reference
        ),
        draw=built.draw_copies,
        reference_draw=options.get("draw_copies", "once"),
    )


def copies_procedure(strategy, copies_per_seed=False):
    """How a strategy spec's augmented copies are made and when they are drawn.

    Parameters
    ----------
    strategy : str
        A strategy spec.
    copies_per_seed : bool, default=False
        The runner's option: each seed draws its own copies.

    Returns
    -------
    procedure : dict or None
        ``{"augmentation": ..., "copies": ...}`` (see :class:`RunConfig`), or
        None for a strategy without copies.

    Examples
    --------
    >>> copies_procedure("allsh:p=0.5")["augmentation"]
    'tfidf(joint_pairs=True,p=0.5,replace_punctuation=True,tokenizer=bert-basic)'
    >>> copies_procedure("allsh-per-query", copies_per_seed=True)["copies"]
    'per_seed_and_query'
    >>> copies_procedure("badge") is None
    True
    """
    spec = _spec_procedure(canonical_strategy(strategy))
    if spec is None:
        return None
    return {
        "augmentation": spec.augmentation,
        "copies": _COPIES[(spec.draw, bool(copies_per_seed))],
    }


def migrate_record(record):
    """A run record with the procedure of its copies in its configuration.

    Records written before issue 29 have no ``augmentation`` and ``copies``
    in their configuration; they are given the procedure they used: copies
    drawn once per pool (or per seed, with ``copies_per_seed``), made by the
    spec's augmenter with UDA's TF-IDF procedure, except for the ALLSH runs
    of 2026-11-25 (listed by id), made with the whitespace procedure before
    it. Records that have them, and runs without copies, are returned as
    they are. Their run id is never changed:
    ``RunConfig.from_record(record).run_id == record["run_id"]``.

    Parameters
    ----------
    record : dict
        A line of ``runs.jsonl`` (or of ``requests.jsonl``).

    Returns
    -------
    record : dict
        A new dict where something was filled in, else ``record`` itself.
    """
    config = record["config"]
    if "augmentation" in config or "copies" in config:
        return record
    try:
        spec = _spec_procedure(canonical_strategy(config["strategy"]))
    except (TypeError, ValueError):
        return record  # a spec this version cannot read: left as written
    if spec is None:
        return record
    legacy = record["run_id"].rsplit("|", 1)[-1] in _WHITESPACE_RUNS
    copies = _COPIES[(spec.reference_draw, bool(config.get("copies_per_seed")))]
    config = {
        **config,
        "augmentation": spec.whitespace if legacy else spec.reference,
        "copies": copies,
    }
    return {**record, "config": config}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines the result of one run.

    Parameters
    ----------
    task : str
    classifier : str
    strategy : str
        A canonical strategy spec.
    seed : int
    pool_size : int or None
    test_size : int or None
    initial_size : int or float
    batch_size : int
    budgets : tuple
        Fractions (float) or counts (int), sorted.
    n_queries : int or None
        When set, the run makes this many queries and ignores ``budgets``.
    minilm_train_steps : int or None
        Training steps of the fine-tuned classifier (``"minilm"`` only).
    copies_per_seed : bool, default=False
        Each seed draws its own augmented copies (False: one draw per pool).
        Left out of :meth:`as_dict` when False, so the ids of runs made
        before it existed are unchanged.
    augmentation : str or None, default=None
        For a strategy with augmented copies, the augmenter and every
        parameter that changes its copies (tokenisation included), e.g.
        ``"tfidf(joint_pairs=True,p=0.3,replace_punctuation=True,tokenizer=bert-basic)"``;
        None: the one this version of the code builds for ``strategy``.
    copies : str or None, default=None
        When the copies are drawn: ``"per_pool"``, ``"per_seed"``,
        ``"per_query"`` or ``"per_seed_and_query"``; None: from
        ``copies_per_seed`` and the strategy's ``draw_copies``.

    Notes
    -----
    The run id hashes :meth:`identity`: :meth:`as_dict` without
    ``augmentation`` and ``copies`` where they are the procedure the spec
    meant when runs were first recorded (UDA's TF-IDF copies drawn once per
    pool or seed; the whitespace copies for the ALLSH runs of 2026-11-25),
    so the ids of runs recorded before are unchanged and two procedures
    never share an id.
    """

    task: str
    classifier: str
    strategy: str
    seed: int
    pool_size: int | None
    test_size: int | None
    initial_size: float | int
    batch_size: int
    budgets: tuple
    n_queries: int | None = None
    minilm_train_steps: int | None = None
    copies_per_seed: bool = False
    augmentation: str | None = None
    copies: str | None = None

    @classmethod
    def from_record(cls, record):
        """The configuration of a ``runs.jsonl`` record (see :func:`migrate_record`).

        Parameters
        ----------
        record : dict

        Returns
        -------
        config : RunConfig
        """
        config = dict(migrate_record(record)["config"])
        config["budgets"] = tuple(config["budgets"])
        return cls(**config)

    def procedure(self):
        """The copies' ``{"augmentation": ..., "copies": ...}``, None without copies."""
        resolved = copies_procedure(self.strategy, self.copies_per_seed)
        if resolved is None:
            if self.augmentation is None and self.copies is None:
                return None
            resolved = {"augmentation": None, "copies": None}
        if self.augmentation is not None:
            resolved["augmentation"] = self.augmentation
        if self.copies is not None:
            resolved["copies"] = self.copies
        return resolved

    def as_dict(self):
        """The configuration as a JSON-ready dict, with the copies' procedure."""
        data = asdict(self)
        data["budgets"] = list(self.budgets)
        if not self.copies_per_seed:
            del data["copies_per_seed"]  # the default: run ids stay as before
        del data["augmentation"], data["copies"]
        procedure = self.procedure()
        if procedure is not None:  # strategies without copies: as before
            data.update(procedure)
        return data

    def identity(self):
        """What the run id hashes: :meth:`as_dict` less the reference procedure."""
        data = self.as_dict()
        augmentation = data.pop("augmentation", None)
        copies = data.pop("copies", None)
        spec = _spec_procedure(canonical_strategy(self.strategy))
        if spec is None:
            neutral = (None, None)
        else:
            legacy = _digest(data) in _WHITESPACE_RUNS
            neutral = (
                spec.whitespace if legacy else spec.reference,
                _COPIES[(spec.reference_draw, self.copies_per_seed)],
            )
        if augmentation != neutral[0]:
            data["augmentation"] = augmentation
        if copies != neutral[1]:
            data["copies"] = copies
        return data

    @property
    def digest(self):
        """A short hash of the configuration (:meth:`identity`)."""
        return _digest(self.identity())

    @property
    def run_id(self):
        """A readable unique name of the run."""
        return (
            f"{self.task}|{self.classifier}|{self.strategy}|seed={self.seed}|"
            f"{self.digest}"
        )

    @property
    def pool_key(self):
        """What the initial labeled set depends on (not the strategy)."""
        pool = TASKS[self.task].pool if self.task in TASKS else self.task
        return f"{pool}|pool={self.pool_size}|initial={self.initial_size}"


def _digest(data):
    payload = json.dumps(data, sort_keys=True)
    return text_key(payload, length=12)


#: The digests (the last part of the run id) of the ALLSH runs made with the
#: whitespace TF-IDF copies, before UDA's procedure became the default
#: (commit de0a0c3, 2026-12-01 00:32): every run of results/runs.jsonl
#: written before that commit whose strategy draws TF-IDF copies (428 runs,
#: all of 2026-11-25; found with ``git log -p -- results/runs.jsonl``). No
#: run recorded after it has one of these digests.
_WHITESPACE_RUNS = frozenset(
    """
00da782cf525 01f93c8ba28e 0211e4f161a5 0252afe49d1e 0374f04be1b0 03b6950e6ad1
0484ee672d0e 05975d1ed0b5 0645c8619056 069f7a4aef0d 06b2cd5e45a1 06c59b2977ef
07aeb12b4cca 08f1dd8d616b 0a38ffffe93a 0a68d673e452 0a8ea0f055b6 0b2ccf10a3c0
0c70c202698f 0cb4dd33a86b 0cbc0e3f9d03 0ceff743d118 0db9d991b5e7 0e19335b5a82
0e52f0de6d3f 0ed61991977f 0ef712a9f504 0f71ce634402 102e9cdd6b44 10a3470392cf
1183cf0910a4 1291a5b5a025 13008bffc134 132d05dd796e 13669ba4cb60 13d244c2de15
140c4a60eeda 14288672cf33 143ae591cec4 14e5538af224 155f8cee3021 161a3445839a
183e6466deee 189e2770cb15 194e060aca2f 1a0866ab20f1 1a3e64f151c8 1aedde411f0f
1c1949addc1d 1c9de76326ec 1d0fcbad9bd8 1e17c7826f2b 1ee392bfec82 1ef5af63a5fe
1f5f7c2fe95b 1fe7fda779d2 21223a366e9f 2253854ea021 22a70c150936 22f12c6e24cd
22f2caf9e8c4 2451451cef7b 24552a87a518 24e15533ed22 24f7241a47eb 259f7c706200
25ad8c9a929d 27dbeaccf53a 287034d1d47e 28ec24b942df 29dfa0521c28 29e4ac7f5f40
2a0b1bde3268 2b80f85cb6e3 2ed7d3100264 2f506e61af86 310382517b7c 31220cbe6224
32ed41397c67 33256f63381f 33286c7d5409 3386fff6034a 33a7b39e5fd0 33f710d5752a
34ad0b6545c7 34ae5cee1cda 35039d5b1971 35db09a9b607 36629306c52d 378605b05689
379e6be16e7f 395cf1180a4e 3a348e214bb6 3a37fe91e614 3a7764b7f22d 3ada833995c1
3b938a069fe8 3c19c5d596d2 3d694ef1eefd 3eefb41c5660 3f545f0d9d56 404765115384
418c35a0e630 41bc0b0b2df8 4292a69e2380 43547e4ab79c 4366d20d6662 466173858132
469bf8b52677 46c6690f0170 473e69537801 47bf520dfda6 47c83fff9ee9 48e78e9e31a9
48ff9bcee06e 494e4e8a0506 4975741979c0 4a3396bf7691 4aeb26473c67 4cb0a92594ca
4eba17088a04 4fd6abefea28 50c80d5f8ad5 52576ba3619a 535dd4d7c526 536ebd7f103f
53cfafd09e8c 542632bbc911 54516a23ca9d 549942befd66 55191d327b79 554476a35a80
5587bbd118c7 5656dd6778e8 56d48be0d2ec 574d749a316f 575843e3ff33 58741a7cf929
58f477e1525a 5913f1685825 59526c23ab3b 5abfdbe8beae 5ba6c7115d20 5c06d683cef6
5dd77be7eed4 5de80a95033b 5e604e132266 5eb3752211ba 5f50f54e41ff 5f62eb9b2021
5ff94509f5c5 603b8a655ae1 605fed937edd 60a36adfaf26 60e897ae1d91 611d3d361893
6228e0de3031 6256316742d2 6256b061615f 63ac6c754cd4 63ba2140ec7d 64494831b78f
64779ad3fb4c 64b97ab380f1 65e734a9b985 6672c1ecf2f8 66ccae8ab947 6732ba237b1b
6749dbd91e1a 674e216a5ec6 677346d1242c 68394c969fdd 693d0f1ca62d 69de6762a3f6
6ba3941e1197 6bcb63f6f9fe 6bcf72e59062 6c759ba4b2b3 6c91c9f993f4 6de26f0a3d69
6e6e55378c00 6e82eb5cd1fa 6f5f8704eb12 70770308c20e 70d5a88817ad 70ee7d5949bd
711cae9f0a8d 712f5fd32185 724e6b580fca 72912eacd661 729c2e260c26 733f13b4d8c1
747f18329987 766369a946fc 7702794c3c74 78f395dbb846 79634c331fa8 7af2b79d8f97
7b80af913bcc 7bd504c9e710 7c4f1dff44ff 7d5c4626e182 7df5411b37f2 7e19214e2c1b
7e369e098c37 7e907d9e821d 7ecae542b522 80eaf6da7a2c 819469f5d37a 8294d7ddf2c1
82e9a22811c4 835ba2257456 840ffd4868bc 843594bdf043 85219667b929 853fa07cbe09
882cdd3b0cb5 88520398704f 8904502e13e9 89a31eb79ff4 8a952aaa534c 8ab1b4b7a039
8aee30d71abe 8b894b711e5e 8cb47e082de3 8cbdc36e39cf 8cc3e0c03a98 8d6231b23b83
8ed211004939 8f713007a9bf 8f71acf6967d 9051b926a3a8 90de0d04c07f 92304db9e358
9283badfbd46 92befda74a90 92bff6e7ced9 9312b24cfd5b 9316c7d712d6 93a60259db0f
9424226b8fe5 95e3c6b55807 9704ff43c5b3 9731442f3100 97acd548daf2 97f03ee9904d
9810151703d1 982e92a25ca5 989823e459de 99456f2ca950 9a0d60070027 9a1eaafbacb2
9bd616158101 9c5fd7ac2a2f 9d42aa6d37d7 9e035f306448 9e526faa5f78 a00556825702
a059c425fcab a0cf826343e8 a1a3c45cb02d a1ad0766228a a29159be7ac6 a315ea2f32a5
a3823bcc8207 a3b0f0f11c54 a3d70ace22c4 a4fd8557cc4e a5a012af2ae5 a66fcd3b993c
a773a42b42e7 a7c3542f36ea a8b8f7e2a8d6 a92f2f621efa a94dec291a88 a954af0d1c6a
ab095a8248bd ab7176e77316 ab9d7b2787dc aba1e6c3c669 abf11e773096 ac1949cbafd2
ac4671c9b80a ac7fbaf6a28f ae93e15ed856 aea994e9861e aebcaafab9bd af473598f39d
afcbb768f645 b0cadb9df243 b0dc6403790c b0f244474729 b1306d34e26b b1ab23703c4c
b1f4872e7d2b b327b0a6cf69 b420b128109e b45a80e4d02c b484bef2d10e b51af3797800
b54ae84e6a9f b803a9e0e182 b91a8d23542b b986b95d3294 bae956f93d03 bb1da61ec701
bb6755ad55cb bb834705df09 bbd31767bf0b bced335d348f bd1b0588c6eb bd7f1b28650b
bd89b1beffed be0f47b659aa be127c67ff84 be64370d49c9 bf17f10dd817 bf6d4c6d101d
c017f9a6b4e0 c038d5ffe6a1 c0b62e32ddfe c0d9cb214b2a c129e13e6404 c133fed4a48a
c1a4fd804511 c1a5eabe9c14 c2449f47c506 c3c133933bb9 c3f33e665031 c5250b812a47
c6c04ebf5dfe cafc232c9e8f cc2c640c31f2 cc637c6fa554 cc990b53358f cca82c729982
cd4be0174b7d ce2730ead179 ce8e1e4b485d cf161cfe91e8 cf8b237b01a8 cfb526cb87a8
d022bfd64145 d0bc1b68e660 d14dd8670eaa d30a001be50b d30a9f9043a3 d30b890b926a
d3595dbc2008 d363598b73c3 d49166875b9a d56f5c9a01cf d597cc777618 d786e3db9e3e
d7f447e27ff1 d81626ea1f0c d8598024706e d8bfb197ce90 d903fa9deb3b d938caacf98c
d9d36c50f26d dacb79a88527 db2ed8d37999 db934fbd8d21 db96e3d40ff1 dc8c3ddddc18
dd0ebdf051da dd325388b1af dd92b96d854f dd9eacd4f522 df6264c243dc dfac8ddeeee2
e159b47c67b8 e166a1d09b38 e19066f4d6ef e1caf78ebaee e1f172bc0286 e1fea5aba175
e21d741eed01 e26e022cd92e e4fd174953ba e5114471c1ce e52d2b0d99f6 e67362d0ff23
e6d390e41c22 eabca7bf7b27 eb6bedded068 ebe574aee12a ec47d710dc36 ec4c744b0151
ecacdf82bd5b ed4a04934977 ed63da125c2a edc5109a696f ee12c94615e9 ee992f76c4b5
ef57ad48306c efa6af4d6159 f037ccf1d1d6 f21c9d3a74f3 f24eef634637 f32089e95f11
f356770301ed f396f77136d2 f40bbd93096b f5043e8ad7f8 f519321519d7 f56e82180e33
f5ce3e6c4d82 f5db7c118ec5 f5e1e836bb0b f745b446d7c3 f7abb6fedae1 f7e6c2858223
f8ae3c369419 f8c8a8d25146 f98f7626bd5e fa9b5662dedc fb70468f6034 fb9c95510d60
fc04bb1c576f fc60229e58ab fc8e735ff18a fe5ce53967bc ff55e7dc447c ff90c97af0f2
ffb96f0f7eb5 ffbabc16230c
""".split()
)
