"""Every import the project makes is declared, and installed by tools/setup.sh.

A green test run must not hide a missing install step: the tests that need
an optional package skip themselves when it is missing, so these tests check
that nothing they would skip for is missing from the environment that
``tools/setup.sh`` builds (CI runs them in a fresh virtual environment).
"""

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import allsh_sklearn

ROOT = Path(__file__).resolve().parents[1]

#: Modules that some tests import with ``pytest.importorskip`` (the module,
#: then the extra of pyproject.toml that declares it).
OPTIONAL_MODULES = {
    "torch": "transformers",
    "transformers": "transformers",
    "skorch": "transformers",
    "sentencepiece": "transformers",
    "tokenizers": "test",
    "wn": "augment",
    "pyarrow": "augment",
    "gguf": "prompts",
    "starlette": "web",
    "uvicorn": "web",
    "jinja2": "web",
    "python_multipart": "web",
    "itsdangerous": "web",
    "httpx": "test",
    "selenium": "test",
    "pexpect": "test",
    "hypothesis": "test",
    "modAL": "tools/setup.sh (--no-deps)",
}

#: Programs that tests skip without, installed from Debian by tools/setup.sh.
PROGRAMS = ("apertium", "chromium", "chromedriver")


def _package_modules():
    prefix = allsh_sklearn.__name__ + "."
    for info in pkgutil.walk_packages(allsh_sklearn.__path__, prefix):
        if ".tests" not in info.name:
            yield info.name


@pytest.mark.parametrize("name", sorted(_package_modules()))
def test_every_module_of_the_package_imports(name):
    """An undeclared import (e.g. Starlette's session middleware needing
    itsdangerous) fails here by name instead of skipping the tests."""
    importlib.import_module(name)


@pytest.mark.parametrize("module", sorted(OPTIONAL_MODULES))
def test_modules_the_tests_would_skip_without_are_installed(module):
    try:
        importlib.import_module(module)
    except ImportError as error:
        pytest.fail(
            f"{module!r} is missing ({error}); it comes with "
            f"{OPTIONAL_MODULES[module]!r}: run `bash tools/setup.sh`"
        )


@pytest.mark.parametrize("program", PROGRAMS)
def test_programs_the_tests_would_skip_without_are_installed(program):
    if shutil.which(program) is None:
        message = f"{program!r} is not on PATH; `bash tools/setup.sh` installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + " (required when CI is set)")


def test_declared_dependencies_match_the_imports():
    """deptry: nothing imported without being declared in pyproject.toml."""
    result = subprocess.run(
        [sys.executable, "-m", "deptry", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_environment_does_not_see_the_system_site_packages():
    """CI builds a virtual environment of its own (.ci/run): packages that the
    machine's image has globally must not stand in for declared ones."""
    if not os.environ.get("CI"):
        pytest.skip("checked in CI only, where .ci/run builds the environment")
    assert sys.prefix != sys.base_prefix, "not running in a virtual environment"
    config = Path(sys.prefix, "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
