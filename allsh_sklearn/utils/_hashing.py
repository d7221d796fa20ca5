"""Stable keys and seeds derived from texts and values by hashing.

Python's ``hash`` of a string changes between processes; these do not, so
caches on disk, golden records and restarted loops can rely on them. Every
key or seed of the package is computed here, with parameters that say which
digest a stored format uses: changing any default changes stored keys.
"""

import hashlib

import numpy as np

#: The separator put between the parts of a key or seed.
_SEPARATOR = "\x1f"
_ALGORITHMS = ("sha256", "sha1", "blake2b")


def _digest(parts, algorithm, digest_size):
    """The hash object of ``parts`` (one bytes, or values joined as text)."""
    if len(parts) == 1 and isinstance(parts[0], bytes | bytearray | memoryview):
        data = bytes(parts[0])
    else:
        data = _SEPARATOR.join(str(part) for part in parts).encode("utf-8")
    if algorithm not in _ALGORITHMS:
        raise ValueError(
            f"The 'algorithm' parameter must be one of {list(_ALGORITHMS)}. Got "
            f"{algorithm!r} instead."
        )
    if algorithm == "blake2b":
        return hashlib.blake2b(data, **({} if digest_size is None else
                                         {"digest_size": digest_size}))  # fmt: skip
    if digest_size is not None:
        raise ValueError(
            f"The 'digest_size' parameter is for algorithm='blake2b' only. Got "
            f"digest_size={digest_size!r} with algorithm={algorithm!r}."
        )
    return hashlib.new(algorithm, data)


def text_key(*parts, algorithm="sha256", digest_size=None, length=None):
    """Return a stable hexadecimal key of a text (or of several parts).

    Parameters
    ----------
    *parts : str or object, or one bytes
        What the key identifies. Several parts are joined with the unit
        separator ``"\\x1f"`` (each turned into text with ``str``); a single
        ``bytes`` value is hashed as is.
    algorithm : {"sha256", "sha1", "blake2b"}, default="sha256"
        The hash function.
    digest_size : int, default=None
        The digest size in bytes, for ``"blake2b"`` only (a parameter of the
        hash, not a truncation: ``digest_size=16`` is not the first 32 digits
        of the 64-byte digest). None keeps the function's own size.
    length : int, default=None
        Keep only the first ``length`` hexadecimal digits; None keeps all.

    Returns
    -------
    key : str

    Raises
    ------
    ValueError
        If ``algorithm`` is unknown, or ``digest_size`` is given for another
        algorithm than ``"blake2b"``.

    Examples
    --------
    >>> text_key("a good film", algorithm="sha1", length=16)
    '295b920af5a35f53'
    >>> text_key("model", "a good film", algorithm="blake2b", digest_size=8)
    'b267e0e89aae465f'
    """
    digest = _digest(parts, algorithm, digest_size).hexdigest()
    return digest if length is None else digest[:length]


def derive_seed(*parts, modulus=2**31 - 1, mixer="blake2b"):
    """Return an integer seed derived from ``parts``, the same in every run.

    Parameters
    ----------
    *parts : object
        What the seed depends on: a base seed and names or numbers, e.g.
        ``derive_seed(seed, "query", round_number)``.
    modulus : int or None, default=2**31 - 1
        The seed is taken modulo ``modulus``, so that it lies in
        ``[0, modulus)``; None keeps the mixer's whole value.
    mixer : {"blake2b", "seed_sequence"}, default="blake2b"
        How the parts are mixed:

        - ``"blake2b"``: the 8-byte BLAKE2b digest of the parts joined as text
          (see :func:`text_key`), read little-endian and shifted right by one
          bit, a 63-bit int. Any parts.
        - ``"seed_sequence"``: the first 32-bit word of
          :class:`numpy.random.SeedSequence` over the parts, which must be
          integers (the session's batches are drawn with it).

    Returns
    -------
    seed : int

    Raises
    ------
    ValueError
        If ``mixer`` is unknown.

    Examples
    --------
    >>> derive_seed(0, "query", 3) == derive_seed(0, "query", 3)
    True
    >>> derive_seed(0, "query", 3)
    138957617
    >>> derive_seed(0, 1, "a film", modulus=None)
    2591941935038338694
    >>> derive_seed(7, 0, 1, mixer="seed_sequence")
    2028854884
    """
    if mixer == "blake2b":
        digest = _digest(parts, "blake2b", 8).digest()
        seed = int.from_bytes(digest, "little") >> 1
    elif mixer == "seed_sequence":
        sequence = np.random.SeedSequence([int(part) for part in parts])
        seed = int(sequence.generate_state(1)[0])
    else:
        raise ValueError(
            "The 'mixer' parameter must be one of ['blake2b', 'seed_sequence']. "
            f"Got {mixer!r} instead."
        )
    return seed if modulus is None else seed % modulus
