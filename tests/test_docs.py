"""The documentation site builds, with warnings as errors, as in CI."""

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.slow
def test_documentation_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is not installed")
    out_dir = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
            "-b", "html", str(DOCS), str(out_dir),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        f"sphinx-build failed (exit code {result.returncode}):\n"
        f"{result.stderr[-6000:]}\n{result.stdout[-2000:]}"
    )
    for page in (
        "index.html",
        "installation.html",
        "user_guide/index.html",
        "api.html",
        "generated/allsh_sklearn.strategies.ALLSH.html",
        "auto_examples/index.html",
        "results.html",
        "results_prompts.html",
    ):
        assert (out_dir / page).is_file(), f"{page} is missing from the build"
