"""Sphinx configuration of the allsh_sklearn documentation.

Build it (warnings are errors, as in CI) from the repository root::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are reStructuredText or Markdown (MyST). The API reference is generated
by autosummary from each module's ``__all__`` (templates in ``_templates/``),
docstrings are numpydoc, and ``examples/`` becomes a gallery whose scripts are
shown but never run (they are long experiments).
"""

import importlib
import inspect
import pkgutil
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# The package is installed editable; this also lets a plain checkout build.
sys.path.insert(0, str(ROOT))

from sphinx.errors import PycodeError  # noqa: E402
from sphinx.pycode import ModuleAnalyzer  # noqa: E402

import allsh_sklearn  # noqa: E402

# autosummary writes one page per public name into generated/ but never
# removes the page of a name that left an ``__all__``; start from scratch so
# that a renamed or removed name cannot break a later build.
shutil.rmtree(DOCS / "generated", ignore_errors=True)

# -- Project -------------------------------------------------------------------

project = "allsh_sklearn"
author = "the allsh_sklearn developers"
copyright = "the allsh_sklearn developers, BSD-3-Clause"
version = allsh_sklearn.__version__
release = allsh_sklearn.__version__

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery writes these beside the pages it generates.
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.json",
    "auto_examples/*.md5",
]
# Unresolved references to other projects (scikit-learn, torch, skorch) stay
# plain text: there is no network for intersphinx, and nitpicky mode would
# turn each of them into an error.
nitpicky = False
default_role = "literal"
pygments_style = "sphinx"

# -- MyST (Markdown pages) -----------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath", "fieldlist"]
# Anchors for headings, so that [text](page.md#a-heading) links resolve.
myst_heading_anchors = 3

# -- autodoc, autosummary and numpydoc -----------------------------------------

autosummary_generate = True
# Public names are those of each module's __all__.
autosummary_ignore_module_all = False
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# Classes subclass scikit-learn, skorch and torch classes: their members are
# documented there, and their docstrings do not all parse as numpydoc.
autodoc_inherit_docstrings = False

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True
# Validation of docstrings is the job of the test suite, not of the build.
numpydoc_validation_checks = set()

# -- API reference: what the module template cannot find by itself -------------


def _attribute_comments(module):
    """``#:`` comments of module-level names, in the module and its submodules."""
    names = [module.__name__]
    if hasattr(module, "__path__"):
        names += [
            f"{module.__name__}.{info.name}"
            for info in pkgutil.iter_modules(module.__path__)
        ]
    comments = {}
    for name in names:
        try:
            found = ModuleAnalyzer.for_module(name).find_attr_docs()
        except PycodeError:
            continue
        for (namespace, attribute), lines in found.items():
            if not namespace:
                comments.setdefault(attribute, [line for line in lines if line.strip()])
    return comments


def _describe_value(obj):
    """A short ``= value`` for a constant or a ready-made instance."""
    text = repr(obj)
    if len(text) <= 100:
        return text
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{key!r}: ..." for key in obj) + "}"
    return f"<{type(obj).__name__}>"


def _public_members(modname):
    """Describe the names of a module's ``__all__`` that autosummary does not.

    Classes, functions and exceptions are found by autosummary itself. The
    rest (ready-made strategy instances, constants) gets a value and the
    ``#:`` comment of its definition, or a line naming its class: autodoc
    would show the docstring of the instance's class instead. Modules in
    ``__all__`` are listed as submodules.
    """
    module = importlib.import_module(modname)
    comments = None
    data, submodules = [], []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            submodules.append(obj.__name__)
            continue
        if inspect.isclass(obj) or inspect.isroutine(obj):
            continue
        if comments is None:
            comments = _attribute_comments(module)
        doc = list(comments.get(name, []))
        cls = type(obj)
        if not doc and cls.__module__.startswith("allsh_sklearn"):
            public = next(
                (n for n in module.__all__ if getattr(module, n, None) is cls), None
            )
            target = f"{modname}.{public}" if public else cls.__name__
            doc = [f"A ready-made instance of :class:`~{target}`."]
        data.append({"name": name, "value": _describe_value(obj), "doc": doc})
    return {"data": data, "submodules": submodules}


#: The modules of the API reference (``api.rst`` lists the same).
API_MODULES = [
    "allsh_sklearn.strategies",
    "allsh_sklearn.presets",
    "allsh_sklearn.divergences",
    "allsh_sklearn.augment",
    "allsh_sklearn.datasets",
    "allsh_sklearn.models",
    "allsh_sklearn.prompts",
    "allsh_sklearn.loop",
    "allsh_sklearn.experiments",
    "allsh_sklearn.exceptions",
]
autosummary_context = {
    "public_members": {name: _public_members(name) for name in API_MODULES}
}

# -- sphinx-gallery ------------------------------------------------------------


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Never execute the scripts: they run long experiments.
    "plot_gallery": "False",
    "filename_pattern": r"^$",
    "ignore_pattern": r"(^|/)_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "show_memory": False,
    "line_numbers": False,
    "remove_config_comments": True,
    "min_reported_time": 1e9,
    # Nothing runs, so there are no computation times to report.
    "write_computation_times": False,
}

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"allsh_sklearn {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 5,
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without sub-pages need no section navigation.
html_sidebars = {
    page: [] for page in ("index", "installation", "results", "results_prompts")
}


# -- Hooks ---------------------------------------------------------------------


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Leave out class members defined outside allsh_sklearn.

    Classes list their inherited members, so that a strategy page shows the
    ``__call__`` of :class:`~allsh_sklearn.strategies.BaseQueryStrategy`; the
    methods that come from scikit-learn, skorch or torch (``get_params``,
    ``set_output``, ``set_fit_request``, ``forward``, ...) are documented
    there, and their docstrings refer to labels of those projects' sites.
    """
    if what != "class":
        return None
    function = obj.fget if isinstance(obj, property) else obj
    function = getattr(function, "__func__", function)
    if inspect.isroutine(function) or isinstance(obj, property):
        module = getattr(function, "__module__", None) or ""
        if not module.startswith("allsh_sklearn"):
            return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
