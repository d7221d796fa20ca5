"""Loading the scripts of ``tools/`` (not a package) in tests."""

import functools
import importlib.util
import pathlib

TOOLS = pathlib.Path(__file__).parents[1] / "tools"


@functools.cache
def load_tool(name):
    """The module of ``tools/<name>.py``, loaded from its file once per run.

    Parameters
    ----------
    name : str
        The script's name without ``.py``, e.g. ``"architecture_metrics"``.

    Returns
    -------
    module : module
    """
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
