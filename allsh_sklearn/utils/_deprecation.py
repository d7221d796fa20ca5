"""Old names kept for one release after they moved, with a warning."""

import importlib
import warnings

__all__ = ["moved_names"]


def moved_names(module, table):
    """A module ``__getattr__`` (PEP 562) serving names that moved elsewhere.

    Parameters
    ----------
    module : str
        The module whose old names these are (``__name__``).
    table : dict of {str: str}
        Old name -> ``"new.module"`` (same name) or ``"new.module:new_name"``.

    Returns
    -------
    __getattr__ : callable
        Returns the new object and emits a ``DeprecationWarning`` naming the
        new place; raises ``AttributeError`` for other names.

    Examples
    --------
    >>> import warnings
    >>> getter = moved_names("old", {"take": "allsh_sklearn.utils"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     getter("take").__name__, caught[0].category.__name__
    ('take', 'DeprecationWarning')
    """

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target, _, new = table[name].partition(":")
        new = new or name
        warnings.warn(
            f"{module}.{name} moved to {target}.{new}; the old name will be "
            "removed in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(target), new)

    return __getattr__
