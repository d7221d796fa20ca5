"""The console scripts that ``pip install`` puts beside the interpreter work
as a user types them: ``allsh-label init``, ``next``, ``import``, ``status``,
``serve`` (briefly, on loopback) and ``allsh-experiment --help``.

These run the installed entry points (``.venv/bin/allsh-label``), not
``python -m``, so a broken entry point or an undeclared dependency of one
command fails here.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _session_data import make_pool

BIN = Path(sys.executable).parent
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def script(name):
    path = BIN / name
    if not path.exists():
        pytest.fail(
            f"the console script {name!r} is not installed beside "
            f"{sys.executable}; run `bash tools/setup.sh` (pip install -e .)"
        )
    return path


def run(name, *args, check=0):
    result = subprocess.run(
        [str(script(name)), *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert result.returncode == check, (result.stdout, result.stderr)
    return result


def test_allsh_experiment_help_lists_the_settings():
    result = run("allsh-experiment", "--help")
    assert "--setting" in result.stdout
    assert "in-domain" in result.stdout


def test_allsh_label_help_lists_every_command():
    result = run("allsh-label", "--help")
    for command in ("init", "next", "import", "export", "status", "serve"):
        assert command in result.stdout


def test_the_command_plugins_are_installed_entry_points(tmp_path):
    # From another folder, so that no source tree's metadata shadows the
    # installed package's (python -c puts the current folder on sys.path).
    code = (
        "import importlib.metadata as m, json; print(json.dumps(sorted("
        "[e.name, e.value] for e in m.entry_points(group='allsh_sklearn.cli'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    declared = json.loads(result.stdout)
    assert ["serve", "allsh_sklearn.web._cli"] in declared, (
        "the installed metadata lacks the entry points of pyproject.toml; rerun "
        "pip install -e ."
    )
    assert ["labelstudio", "allsh_sklearn.labelstudio._cli"] in declared


@pytest.fixture
def project(tmp_path):
    table, truth = make_pool(n=60)
    data = tmp_path / "pool.csv"
    table.to_csv(data, index=False)
    project = tmp_path / "proj"
    run(
        "allsh-label", "init", project, "--data", data, "--id-column", "id",
        "--labels", "negative,positive", "--batch-size", "6",
    )
    return project, truth


def test_init_next_import_status_round_trip(project, tmp_path):
    project, truth = project
    batch = tmp_path / "batch.csv"
    run("allsh-label", "next", project, "--output", batch)
    lines = batch.read_text().splitlines()
    assert lines[0].startswith("id")
    ids = [line.split(",")[0] for line in lines[1:]]
    assert len(ids) == 6
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,label\n" + "".join(f"{i},{truth[i]}\n" for i in ids)
    )
    run("allsh-label", "import", project, labels)
    status = json.loads(run("allsh-label", "status", project, "--json").stdout)
    assert status["n_labeled"] == 6, status


def test_serve_answers_on_loopback_and_stops_on_sigint(project):
    project, _ = project
    server = subprocess.Popen(
        [str(script("allsh-label")), "serve", str(project), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, (line, server.stderr.read() if server.poll() else "")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(match.group(1) + "/", timeout=10) as page:
                    body = page.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert page.status == 200
        assert "<html" in body.lower()
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) in (0, 130, -signal.SIGINT)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
