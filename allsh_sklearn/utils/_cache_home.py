"""The one folder where the package keeps its caches."""

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "get_cache_home"]

#: The environment variable that overrides the cache folder.
CACHE_ENV = "ALLSH_SKLEARN_CACHE"


def get_cache_home(cache_home=None):
    """Return the folder of the package's caches (not created).

    Embeddings, augmented copies, back-translations and downloaded language
    models are kept there, each in its own file or subfolder.

    Parameters
    ----------
    cache_home : str, path-like or None, default=None
        An explicit folder; None is ``$ALLSH_SKLEARN_CACHE`` when set, else
        ``$XDG_CACHE_HOME/allsh_sklearn`` when ``XDG_CACHE_HOME`` is set, else
        ``~/.cache/allsh_sklearn``.

    Returns
    -------
    path : pathlib.Path
        With ``~`` expanded.

    Examples
    --------
    >>> get_cache_home("/tmp/cache").as_posix()
    '/tmp/cache'
    """
    if cache_home is not None:
        if not isinstance(cache_home, str | os.PathLike):
            raise TypeError(
                "The 'cache_home' parameter must be a folder (str or path) or "
                f"None. Got {type(cache_home).__name__} instead."
            )
        return Path(cache_home).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "allsh_sklearn"
