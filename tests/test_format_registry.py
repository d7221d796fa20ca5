"""Extension points of the labeling session: a file format added through the
public registry (one class, one call) and a command plugin found through its
entry point.

The toy format, pipe-separated values, is all it takes to add a format:
the session exports and imports it, creates a project from it, and every
``--format`` of ``allsh-label`` offers it, while it is registered.
"""

import argparse
import importlib.metadata
import sys
import types
import warnings

import pandas as pd
import pytest
from _session_data import create_session, current_labels, make_pool

from allsh_sklearn.session import InputFileError
from allsh_sklearn.session import _cli as cli
from allsh_sklearn.session import _plugins as plugins
from allsh_sklearn.session._formats import (
    FORMATS,
    Sidecar,
    TableFormat,
    guess_format,
    register_format,
    table_formats,
    unregister_format,
)


class PipeSeparated(TableFormat):
    """Pipe-separated values (``*.psv``): a new format is this class."""

    name = "psv"
    suffixes = (".psv",)

    def read_table(self, path):
        table = pd.read_csv(path, sep="|", dtype=str, keep_default_na=False)
        return table, None  # rows numbered as a spreadsheet shows them

    def write_table(self, table, file, *, destination):
        table.to_csv(file, sep="|", index=False)


@pytest.fixture
def psv():
    fmt = register_format(PipeSeparated())
    yield fmt
    unregister_format("psv")


def _fill_labels(path, truth):
    table = pd.read_csv(path, sep="|", dtype=str, keep_default_na=False)
    table["label"] = [truth[i] for i in table["id"]]
    table.to_csv(path, sep="|", index=False)
    return list(table["id"])


def test_a_registered_format_runs_through_a_session(psv, tmp_path):
    assert FORMATS["psv"] is psv
    assert guess_format("batch.psv") == "psv"
    assert "psv" in table_formats()
    table, truth = make_pool(n=60)
    pool = tmp_path / "pool.psv"
    table.to_csv(pool, sep="|", index=False)
    session = create_session(tmp_path / "project", pool)  # a pool from the format
    session.next_batch()

    batch = tmp_path / "batch.psv"
    assert session.export_batch(batch) == 10
    written = pd.read_csv(batch, sep="|", dtype=str, keep_default_na=False)
    columns = "id text label guess guess_probability session_id".split()
    assert list(written.columns) == columns  # those of every batch file
    assert set(written["session_id"]) == {session.session_id}
    ids = _fill_labels(batch, truth)
    report = session.import_labels(batch)
    assert report.n_imported == 10
    assert current_labels(session) == {i: truth[i] for i in ids}

    labels = tmp_path / "labels.txt"  # a suffix of no format: named instead
    assert session.export_labels(labels, format="psv") == 10
    exported = pd.read_csv(labels, sep="|", dtype=str, keep_default_na=False)
    assert dict(zip(exported["id"], exported["label"], strict=True)) == {
        i: truth[i] for i in ids
    }
    # Checked like every table: a label file without ids is refused.
    exported.drop(columns="id").to_csv(labels, sep="|", index=False)
    with pytest.raises(InputFileError, match="has no 'id' column"):
        session.import_labels(labels, format="psv")
    session.close()


def test_a_registered_format_runs_through_the_cli(psv, tmp_path, capsys):
    table, truth = make_pool(n=60)
    pool = tmp_path / "pool.psv"
    table.to_csv(pool, sep="|", index=False)
    project = tmp_path / "project"
    common = ["--labels", "negative,positive", "--batch-size", "6"]
    init = ["init", str(project), "--data", str(pool), "--id-column", "id"]
    assert cli.main([*init, "--format", "psv", *common]) == 0

    batch = tmp_path / "batch.psv"
    assert cli.main(["next", str(project), "--output", str(batch)]) == 0
    assert f"Wrote 6 texts of batch 1 to {batch}" in capsys.readouterr().out
    ids = _fill_labels(batch, truth)
    assert cli.main(["import", str(project), str(batch)]) == 0
    assert "Imported 6 labels" in capsys.readouterr().out

    labels = tmp_path / "labels.out"
    export = ["export", str(project), str(labels), "--format", "psv"]
    assert cli.main(export) == 0
    exported = pd.read_csv(labels, sep="|", dtype=str, keep_default_na=False)
    assert sorted(exported["id"]) == sorted(ids)


def test_a_format_that_is_not_registered_is_unknown(tmp_path, capsys):
    assert "psv" not in FORMATS
    with pytest.raises(InputFileError, match=r"\*\.json \(Label Studio\)"):
        guess_format("batch.psv")
    with pytest.raises(SystemExit):
        cli.main(["next", str(tmp_path), "--output", "x.psv", "--format", "psv"])
    assert "invalid choice: 'psv'" in capsys.readouterr().err


def test_every_format_option_comes_from_the_registry(psv):
    parser = cli.build_parser()
    commands = next(
        action
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )

    def choices(command):
        sub = commands.choices[command]
        return next(a.choices for a in sub._actions if "--format" in a.option_strings)

    assert choices("init") == table_formats()
    assert "psv" in choices("init")
    for command in ("next", "import", "export"):
        assert list(choices(command)) == list(FORMATS)
        assert "psv" in choices(command)


class PipeSeparatedWithLegend(PipeSeparated):
    """The toy format with a file beside its batches: the label set."""

    name = "psv-legend"
    suffixes = (".psvl",)

    def sidecar(self, destination, *, labels, pair=False):
        return Sidecar(
            path=destination.with_suffix(".legend.txt"),
            text="\n".join(labels),
            description="Legend",
        )


def test_the_cli_writes_the_sidecar_a_format_asks_for(tmp_path, capsys):
    register_format(PipeSeparatedWithLegend)  # a class is registered too
    try:
        table, _ = make_pool(n=40)
        create_session(tmp_path / "project", table).close()
        batch = tmp_path / "batch.psvl"
        assert (
            cli.main(["next", str(tmp_path / "project"), "--output", str(batch)]) == 0
        )
        legend = tmp_path / "batch.legend.txt"
        assert f"Legend: {legend}" in capsys.readouterr().out
        assert legend.read_text().splitlines() == ["negative", "positive"]
    finally:
        unregister_format("psv-legend")


def test_register_format_refuses_clashes_and_malformed_formats(psv):
    class Other(PipeSeparated):
        suffixes = (".other",)

    with pytest.raises(ValueError, match="A format named 'psv' is registered"):
        register_format(Other())

    class ClaimsCsv(PipeSeparated):
        name = "claims-csv"
        suffixes = (".csv",)

    with pytest.raises(ValueError, match="suffix '.csv' .* names the format 'csv'"):
        register_format(ClaimsCsv())

    class BadName(PipeSeparated):
        name = "Pipe Separated"

    with pytest.raises(ValueError, match="Got 'Pipe Separated' instead"):
        register_format(BadName())

    class BadSuffix(PipeSeparated):
        name = "bad-suffix"
        suffixes = ("psv2",)

    with pytest.raises(ValueError, match=r"Got \('psv2',\) instead"):
        register_format(BadSuffix())
    with pytest.raises(TypeError, match="'fmt' parameter of register_format"):
        register_format("psv")
    with pytest.raises(ValueError, match="'name' parameter of unregister_format"):
        unregister_format("tsv")
    assert list(FORMATS) == ["csv", "jsonl", "parquet", "labelstudio", "psv"]


# Command plugins --------------------------------------------------------------------


def _toy_plugin():
    plugin = types.ModuleType("allsh_toy_plugin")
    plugin.HELP = "say hello"
    plugin.DESCRIPTION = "Say hello to PROJECT."

    def add_arguments(parser):
        parser.add_argument("--name", default="world")

    def run(args, out):
        print(f"hello {args.name} in {args.project.name}", file=out)
        return 0

    plugin.add_arguments, plugin.run = add_arguments, run
    return plugin


def _entry_points(monkeypatch, **declared):
    """Make ``importlib.metadata`` declare only ``declared`` in the group."""
    found = importlib.metadata.EntryPoints(
        importlib.metadata.EntryPoint(
            name=name, value=value, group=plugins.PLUGIN_GROUP
        )
        for name, value in declared.items()
    )

    def entry_points(**params):
        assert params == {"group": plugins.PLUGIN_GROUP}
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_a_plugin_declared_as_an_entry_point_is_a_command(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setitem(sys.modules, "allsh_toy_plugin", _toy_plugin())
    _entry_points(monkeypatch, hello="allsh_toy_plugin")

    # The installed metadata declares no other plugin here, as when it is
    # older than the package's entry points: pyproject.toml stands in.
    assert list(plugins.command_plugins()) == ["hello", "labelstudio", "serve"]
    assert cli.main(["hello", str(tmp_path / "proj"), "--name", "ada"]) == 0
    assert capsys.readouterr().out == "hello ada in proj\n"
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = capsys.readouterr().out
    assert "hello" in help_text and "say hello" in help_text
    assert "serve" in help_text and "labelstudio" in help_text


def test_a_broken_plugin_is_left_out_with_a_warning(monkeypatch, tmp_path, capsys):
    lacking = types.ModuleType("allsh_toy_lacking")
    monkeypatch.setitem(sys.modules, "allsh_toy_lacking", lacking)
    _entry_points(
        monkeypatch,
        broken="allsh_toy_plugin_that_does_not_exist",
        lacking="allsh_toy_lacking",
        init="allsh_toy_lacking",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["status", str(tmp_path / "none")]) != 0
    messages = "\n".join(str(w.message) for w in caught)
    assert "'broken' (allsh_toy_plugin_that_does_not_exist) could not be loaded" in (
        messages
    )
    assert "'lacking' (allsh_toy_lacking) lacks HELP, DESCRIPTION" in messages
    assert "'init' (allsh_toy_lacking) has the name of a built-in command" in messages
    capsys.readouterr()
