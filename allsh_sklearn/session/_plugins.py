"""The commands that other packages add to ``allsh-label``: entry points.

A plugin is an entry point of the group :data:`PLUGIN_GROUP`, declared in
the ``pyproject.toml`` of the package that provides it (this package
declares ``serve``, the labeling web page of :mod:`allsh_sklearn.web`, and
``labelstudio``, the Label Studio backend of :mod:`allsh_sklearn.labelstudio`).
Plugins are found by :func:`command_plugins` and imported by
:func:`load_plugins` when ``allsh-label`` builds its parser, never when the
session is imported: the session never names the layers above it.

When the installed metadata is older than the entry points (a source
checkout where ``pip install -e .`` was not rerun since they were added),
the commands it lacks are read from the ``pyproject.toml`` of the source
tree, so ``serve`` and ``labelstudio`` keep working.
"""

import importlib.metadata
import warnings
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: no fallback to the source tree's plugins
    tomllib = None


__all__ = ["COMMAND_PLUGINS", "PLUGIN_GROUP", "command_plugins", "load_plugins"]

#: The entry point group of ``allsh-label``'s commands. An entry point's name
#: is the command; its value names a module (or an object) that defines
#: ``HELP`` (one line), ``DESCRIPTION``, ``add_arguments(parser)`` (the parser
#: has ``project`` already) and ``run(args, out) -> exit code``. In a
#: package's ``pyproject.toml``::
#:
#:     [project.entry-points."allsh_sklearn.cli"]
#:     serve = "allsh_sklearn.web._cli"
PLUGIN_GROUP = "allsh_sklearn.cli"

#: Commands added in this process, ``{command: module name}`` (tests, a
#: program that embeds ``allsh-label``): they come before the entry points.
COMMAND_PLUGINS = {}

#: The distribution whose source tree's ``pyproject.toml`` declares this
#: package's own plugins (see :func:`command_plugins`).
_DISTRIBUTION = "allsh-sklearn"

#: What a plugin defines.
_PLUGIN_INTERFACE = ("HELP", "DESCRIPTION", "add_arguments", "run")


def _source_tree_plugins():
    """The plugins the ``pyproject.toml`` of this package's source tree
    declares, ``{command: module name}``: empty for an installed wheel (no
    ``pyproject.toml`` beside the package) and on Python 3.10."""
    path = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if tomllib is None or not path.is_file():
        return {}
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    if project.get("name") != _DISTRIBUTION:
        return {}
    declared = project.get("entry-points", {}).get(PLUGIN_GROUP, {})
    return {str(name): str(value) for name, value in declared.items()}


def command_plugins(*, reserved=()):
    """The command plugins of ``allsh-label``, not loaded: ``{command: entry point}``.

    :data:`COMMAND_PLUGINS` (added in this process) come first, then the
    installed entry points of :data:`PLUGIN_GROUP` (the first one of a name,
    when two packages declare it), then, for a command still missing, the
    entry points that the ``pyproject.toml`` of this package's source tree
    declares: ``serve`` and ``labelstudio`` work from a source checkout
    whose installed metadata is older than its entry points (``pip install
    -e .`` not rerun since). A plugin named as a command of the session
    itself (``reserved``) is left out with a warning. Sorted by command.

    Parameters
    ----------
    reserved : collection of str, default=()
        The commands of ``allsh-label`` itself (``init``, ``next``...).

    Returns
    -------
    plugins : dict of {str: importlib.metadata.EntryPoint}
    """

    def entry_point(name, value):
        return importlib.metadata.EntryPoint(name=name, value=value, group=PLUGIN_GROUP)

    installed = {}
    for found in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        first = installed.setdefault(found.name, found)
        if first.value != found.value:
            warnings.warn(
                f"Two allsh-label command plugins are named {found.name!r} "
                f"({first.value} and {found.value}); the first one is used.",
                RuntimeWarning,
                stacklevel=2,
            )
    plugins = {n: entry_point(n, v) for n, v in _source_tree_plugins().items()}
    plugins.update(installed)
    plugins.update({n: entry_point(n, v) for n, v in COMMAND_PLUGINS.items()})
    for name in sorted(plugins):
        if name in reserved:
            warnings.warn(
                f"The allsh-label command plugin {name!r} ({plugins[name].value}) "
                "has the name of a built-in command; it is left out.",
                RuntimeWarning,
                stacklevel=2,
            )
    return {name: plugins[name] for name in sorted(plugins) if name not in reserved}


def load_plugins(*, reserved=()):
    """Import the command plugins: ``{command: plugin}``.

    A plugin that cannot be imported, or lacks part of the interface of
    :data:`PLUGIN_GROUP`, is left out with a warning: a broken add-on does
    not break the other commands.

    Parameters
    ----------
    reserved : collection of str, default=()
        The commands of ``allsh-label`` itself.

    Returns
    -------
    plugins : dict of {str: module or object}
        Each with ``HELP``, ``DESCRIPTION``, ``add_arguments`` and ``run``.
    """
    loaded = {}
    for name, entry in command_plugins(reserved=reserved).items():
        try:
            plugin = entry.load()
        except Exception as error:
            warnings.warn(
                f"The allsh-label command plugin {name!r} ({entry.value}) could "
                f"not be loaded and is left out: {type(error).__name__}: {error}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        missing = [a for a in _PLUGIN_INTERFACE if not hasattr(plugin, a)]
        if missing:
            warnings.warn(
                f"The allsh-label command plugin {name!r} ({entry.value}) lacks "
                f"{', '.join(missing)} and is left out.",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        loaded[name] = plugin
    return loaded
