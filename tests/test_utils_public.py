"""The shared helpers of ``allsh_sklearn.utils``: public, and stable.

The keys and seeds are pinned: caches on disk, golden records and restarted
loops depend on them, so a changed value is a broken format, not a detail.
"""

import hashlib

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from allsh_sklearn import divergences, utils
from allsh_sklearn.augment import stable_seed
from allsh_sklearn.loop import derive_seed as loop_derive_seed
from allsh_sklearn.utils import check_fitted, derive_seed, describe, is_pair, text_key
from allsh_sklearn.utils._selection import text_digests


def test_the_helpers_are_exported():
    for name in ("describe", "is_pair", "check_fitted", "text_key", "derive_seed"):
        assert name in utils.__all__
        assert callable(getattr(utils, name))
    for name in (
        "check_alpha",
        "alpha_divergence_rows",
        "divergence_registry",
        "lookup_divergence",
    ):
        assert name in divergences.__all__


def test_describe_cuts_long_values():
    assert describe("film") == "'film'"
    assert describe(list(range(100)), limit=20) == "[0, 1, 2, 3, 4, 5..."
    assert len(describe("x" * 500)) == 60


@pytest.mark.parametrize(
    "item, expected",
    [
        (("a", "b"), True),
        (["a", "b"], True),
        ("ab", False),
        (("a", 1), False),
        (("a", "b", "c"), False),
    ],
)
def test_is_pair(item, expected):
    assert is_pair(item) is expected


def test_check_fitted():
    with pytest.raises(
        TypeError, match="'model' parameter must have a 'predict_proba'"
    ):
        check_fitted(object(), "model")
    with pytest.raises(NotFittedError, match="'model' parameter must be a fitted"):
        check_fitted(LogisticRegression(), "model")
    fitted = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    check_fitted(fitted, "model")


# Text keys, one pinned value per stored format --------------------------------


@pytest.mark.parametrize(
    "parts, options, expected",
    [
        # the session's text ids (16 digits of SHA-1), of a text and of a pair
        (("a good film",), {"algorithm": "sha1", "length": 16}, "295b920af5a35f53"),
        (
            ('["a premise", "a hypothesis"]',),
            {"algorithm": "sha1", "length": 16},
            "44e639d6f16571e1",
        ),
        # the session's digest of its training set (whole SHA-1)
        (
            ("a good film",),
            {"algorithm": "sha1"},
            "295b920af5a35f532a49200eed01cd1d3a0c65d8",
        ),
        # augmenter fingerprints (32 digits of SHA-256), model fingerprints
        # (16), run ids and translator tokens (12)
        (("a good film",), {"length": 32}, "5392fa171ed975d79176ae8f285d0cfb"),
        (("a good film",), {"length": 16}, "5392fa171ed975d7"),
        (("a good film",), {"length": 12}, "5392fa171ed9"),
        ((b"\x00\x01",), {"length": 12}, "b413f47d13ee"),
        # the sentence encoder's embedding cache (16-byte BLAKE2b of ns + text)
        (
            ("namespace", "a good film"),
            {"algorithm": "blake2b", "digest_size": 16},
            "9cc4aa8b27ba81419d5cc0315de2fbfb",
        ),
    ],
)
def test_text_key_is_pinned(parts, options, expected):
    assert text_key(*parts, **options) == expected


def test_duplicate_digests_are_pinned():
    # the digests that group duplicates of a pool (8-byte BLAKE2b, unsigned)
    digests = text_digests(["a film", ("a premise", "a hypothesis")])
    assert digests.tolist() == [17737899656421379116, 40558975247955360]


def test_text_key_is_the_plain_digest():
    text = "un bon film, très"
    assert text_key(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert (
        text_key("ns", text, algorithm="blake2b", digest_size=16)
        == hashlib.blake2b(
            ("ns\x1f" + text).encode("utf-8"), digest_size=16
        ).hexdigest()
    )


def test_text_key_refuses_unknown_options():
    with pytest.raises(ValueError, match="'algorithm' parameter must be one of"):
        text_key("a", algorithm="md5")
    with pytest.raises(ValueError, match="'digest_size' parameter is for"):
        text_key("a", algorithm="sha1", digest_size=16)


# Seeds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts, expected",
    [((0, "query", 3), 138957617), ((42, "classifier"), 1452989402),
     (("pool", 100, "augmenter", 0), 1881643010)],
)  # fmt: skip
def test_derive_seed_is_the_loops_seed(parts, expected):
    assert derive_seed(*parts) == expected
    assert loop_derive_seed(*parts) == expected


@pytest.mark.parametrize(
    "parts, expected",
    [((0, 1, "a film"), 2591941935038338694),
     ((123, 0, "direction", "text"), 1291099011834446862)],
)  # fmt: skip
def test_derive_seed_without_modulus_is_the_augmenters_seed(parts, expected):
    assert derive_seed(*parts, modulus=None) == expected
    assert stable_seed(*parts) == expected


@pytest.mark.parametrize(
    "parts, expected",
    [((7, 0, 1), 2028854884), ((0, 2, 5), 1460747720),
     ((2**31, 1, 0), 1471654631)],
)  # fmt: skip
def test_derive_seed_with_a_seed_sequence_is_the_sessions_seed(parts, expected):
    assert derive_seed(*parts, mixer="seed_sequence") == expected
    sequence = np.random.SeedSequence(list(parts))
    assert expected == int(sequence.generate_state(1)[0]) % (2**31 - 1)


def test_derive_seed_refuses_an_unknown_mixer():
    with pytest.raises(ValueError, match="'mixer' parameter must be one of"):
        derive_seed(0, mixer="python")
