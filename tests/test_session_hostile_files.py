"""Hostile label and data files: every one is refused with the file, the row (line,
task) and the field named, or has a documented, tested behaviour (issues 26 and 30).
"""

import json
import random
import re
import unicodedata
import warnings

import pandas as pd
import pytest
from _session_data import create_session, current_labels, database_rows, make_pool

from allsh_sklearn.session import InputFileError, LabelingSession
from allsh_sklearn.session._cli import main as allsh_label
from allsh_sklearn.session._formats import (
    format_time,
    parse_time,
    read_pool,
    read_table,
    spreadsheet_escape,
    spreadsheet_unescape,
)

LABELS = ["neg", "pos"]
TEXTS = ["a good film", "a bad film", "great acting", "dull plot", "a fine cast"]


@pytest.fixture
def pool_file(tmp_path):
    path = tmp_path / "pool.csv"
    pd.DataFrame({"id": ["T1", "T2", "T3", "T4", "T5"], "text": TEXTS}).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def session(tmp_path, pool_file):
    return LabelingSession.create(
        tmp_path / "project",
        pool_file,
        labels=LABELS,
        id_column="id",
        strategy="entropy",
        batch_size=2,
        progress=False,
    )


def _events(session):
    return database_rows(session.path, "SELECT COUNT(*) FROM events")[0][0]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _tasks(*annotations, item="T1", **data):
    return [
        {
            "data": {"text": "x", "allsh_id": item, **data},
            "annotations": list(annotations),
        }
    ]


def _choice(label, **fields):
    region = {"from_name": "label", "to_name": "text", "type": "choices"}
    return {"result": [dict(region, value={"choices": [label]})], **fields}


# 1. Out-of-range times -------------------------------------------------------------


def test_out_of_range_times_are_refused_naming_file_line_and_field(tmp_path, session):
    path = _write(
        tmp_path / "big.jsonl", '{"id":"T1","label":"pos","labeled_at":1e300}\n'
    )
    with pytest.raises(InputFileError) as error:
        session.import_labels(path)
    message = str(error.value)
    assert "big.jsonl" in message and "line 1, column 'labeled_at'" in message
    assert "between 1970-01-01 and 9999-12-31" in message and "1e300" in message
    tasks = _tasks(_choice("pos", created_at=1e300))
    path = _write(tmp_path / "big.json", json.dumps(tasks))
    with pytest.raises(InputFileError, match=r"big\.json.*task 1, field 'created_at'"):
        session.import_labels(path)
    # Milliseconds get a hint; nothing was stored; exports still work.
    path = _write(tmp_path / "ms.csv", "id,label,labeled_at\nT1,pos,1714648800000\n")
    with pytest.raises(InputFileError, match=r"row 2, column 'labeled_at'.*millisec"):
        session.import_labels(path)
    assert _events(session) == 0
    assert session.export_labels(tmp_path / "out.csv") == 0
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_time("yesterday")
    assert format_time(1e300) == ""  # a time an older version stored


# 2. Idempotent re-import -----------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        ("id,label\nT1,pos\nT1,neg\n", {"T1": "neg"}),
        ("id,label\nT1,__skip__\nT1,pos\n", {"T1": "pos"}),
        ("id,label\nT1,pos\nT1,pos\nT2,neg\n", {"T1": "pos", "T2": "neg"}),
    ],
)
def test_reimporting_repeated_ids_changes_nothing(tmp_path, session, content, expected):
    path = _write(tmp_path / "twice.csv", content)
    first = session.import_labels(path)
    n_events = _events(session)
    assert current_labels(session) == expected
    for _ in range(2):
        again = session.import_labels(path)
        assert again.n_imported == 0
        assert again.n_unchanged == again.n_rows == first.n_rows
        assert _events(session) == n_events
    # Several rows for one id are kept in its history once.
    history = session.item("T1").history
    assert len(history) == n_events - len(expected) + 1


def test_reimporting_label_studio_tasks_with_two_annotations(tmp_path, session):
    tasks = _tasks(
        _choice("pos", completed_by=1, created_at="2024-06-01T09:00:00Z"),
        _choice("neg", completed_by=2, created_at="2024-06-01T10:00:00Z"),
    )
    path = _write(tmp_path / "ls.json", json.dumps(tasks))
    assert session.import_labels(path).n_imported == 2
    for _ in range(2):
        assert session.import_labels(path).n_imported == 0
    assert _events(session) == 2
    assert [(e.label, e.annotator) for e in session.item("T1").history] == [
        ("pos", "labelstudio:1"),
        ("neg", "labelstudio:2"),
    ]


def test_issue_30_twice_csv_reports_zero_new_the_second_time(tmp_path, session, capsys):
    _write(tmp_path / "twice.csv", "id,label\nT1,pos\nT1,neg\nT2,pos\n")
    args = ["import", str(session.path), str(tmp_path / "twice.csv")]
    assert allsh_label(args) == 0
    assert "Imported 3 labels" in capsys.readouterr().out
    assert allsh_label(args) == 0
    assert "Imported 0 labels" in capsys.readouterr().out
    assert _events(session) == 3


# 3, 11. Malformed Label Studio JSON ----------------------------------------------


@pytest.mark.parametrize(
    "tasks, message",
    [
        (
            _tasks(
                {"result": [{"type": "choices", "from_name": "label", "value": "pos"}]}
            ),
            "task 1: the choices region's 'value' is a string",
        ),
        (
            [{"data": {"allsh_id": "T1"}, "annotations": {"result": []}}],
            "task 1: 'annotations' is an object",
        ),
        (_tasks({"result": {"value": {"choices": ["pos"]}}}), "'result' is an object"),
        (_tasks(_choice("pos"), "pos"), "task 1, annotation 2: a string"),
        (_tasks({"result": ["pos"]}), "region 1 of 'result' is a string"),
        (_tasks(_choice(["pos"])), "the choice is a list"),
        (_tasks(_choice("pos", was_cancelled="no")), "'was_cancelled' is a string"),
        (_tasks(_choice("pos", completed_by=[1])), "'completed_by' is a list"),
    ],
)
def test_malformed_label_studio_tasks_name_the_file_and_task(
    tmp_path, session, tasks, message
):
    path = _write(tmp_path / "bad.json", json.dumps(tasks))
    with pytest.raises(InputFileError, match="bad.json") as error:
        session.import_labels(path)
    assert message in str(error.value)
    assert _events(session) == 0


def test_deeply_nested_json_is_a_bad_input_file(tmp_path, session, capsys):
    path = _write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputFileError, match=r"deep\.json.*nests JSON .* too deeply"):
        session.import_labels(path)
    _write(tmp_path / "deep.jsonl", '{"id": "T1", "label": ' + "[" * 100_000 + "\n")
    with pytest.raises(InputFileError, match=r"deep\.jsonl.*line 1: nested too deep"):
        session.import_labels(tmp_path / "deep.jsonl")
    # The command line's exit code for a bad input file, not a crash (1).
    assert allsh_label(["import", str(session.path), str(path)]) == 3
    assert "deep.json" in capsys.readouterr().err


# 4. JSONL lines that are not objects ---------------------------------------------


def test_jsonl_line_that_is_an_array_names_file_and_line(tmp_path, session, capsys):
    path = _write(tmp_path / "arr.jsonl", '{"id":"T1","label":"pos"}\n["T2","neg"]\n')
    with pytest.raises(InputFileError) as error:
        session.import_labels(path)
    message = str(error.value)
    assert "arr.jsonl" in message and "line 2: expected a JSON object" in message
    assert "got an array" in message
    _write(tmp_path / "texts.jsonl", '{"text":"a"}\n\n"just a string"\n')
    code = allsh_label(
        [
            "init",
            str(tmp_path / "p"),
            "--data",
            str(tmp_path / "texts.jsonl"),
            "--labels",
            "a,b",
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "texts.jsonl" in err and "line 3: expected a JSON object" in err


# 5. Cells that are not text ------------------------------------------------------


def test_non_text_cells_are_refused_naming_row_and_column(tmp_path):
    pd.DataFrame({"text": [b"bytes one", "plain"]}).to_parquet(tmp_path / "b.parquet")
    pool = read_pool(tmp_path / "b.parquet")
    assert pool.texts == ["bytes one", "plain"]  # UTF-8 bytes are decoded
    pd.DataFrame({"text": [b"\xff\xfe", "plain"]}).to_parquet(tmp_path / "nb.parquet")
    with pytest.raises(
        InputFileError, match=r"nb\.parquet.*row 2, column 'text': bytes"
    ):
        read_pool(tmp_path / "nb.parquet")
    pd.DataFrame({"text": ["ok", None], "body": [["list", "x"], ["y"]]}).to_parquet(
        tmp_path / "l.parquet"
    )
    with pytest.raises(InputFileError, match=r"row 2, column 'body': a list"):
        read_pool(tmp_path / "l.parquet", text_column="body")
    _write(tmp_path / "o.jsonl", '{"text": "fine"}\n{"text": {"body": "hello"}}\n')
    with pytest.raises(
        InputFileError, match=r"o\.jsonl.*line 2, column 'text': an obj"
    ):
        read_pool(tmp_path / "o.jsonl")
    _write(tmp_path / "n.jsonl", '{"text": 42}\n')
    with pytest.raises(InputFileError, match=r"line 1, column 'text': a number \(42\)"):
        read_pool(tmp_path / "n.jsonl")
    session = create_session(tmp_path / "lists", make_pool(n=20)[0])
    _write(tmp_path / "ll.jsonl", '{"id": "t1", "label": ["positive"]}\n')
    with pytest.raises(InputFileError, match=r"line 1, column 'label': a list"):
        session.import_labels(tmp_path / "ll.jsonl")


# 6. CSV rows with extra cells ----------------------------------------------------


@pytest.mark.parametrize(
    "content, where",
    [
        ("id,text\nT1,hello,extra\nT2,hi\n", "row 2: 3 cells"),
        ("id,text\nT1,hello\nT2,hi,extra\nT3,yo\n", "row 3: 3 cells"),
        ('id,text\nT1,"two\nlines"\nT2,hi,extra\n', "row 3 (line 4): 3 cells"),
        ("id,text\n\nT1,hello\n\nT2,hi,extra\n", "row 3 (line 5): 3 cells"),
    ],
)
def test_csv_row_with_extra_cells_is_blamed_on_itself(tmp_path, content, where):
    path = _write(tmp_path / "extra.csv", content)
    with pytest.raises(InputFileError, match=r"extra\.csv") as error:
        read_pool(path, id_column="id")
    assert where in str(error.value) and "double quotes" in str(error.value)


def test_csv_quoted_cell_that_never_ends_is_refused(tmp_path):
    path = _write(tmp_path / "q.csv", 'id,text\nT1,ok\nT2,"never ends\nT3,x\n')
    with pytest.raises(InputFileError, match=r"q\.csv.*row 3 \(from line 3\)"):
        read_pool(path, id_column="id")


def test_csv_rows_are_numbered_with_their_lines_in_other_messages(tmp_path):
    path = _write(tmp_path / "e.csv", 'id,text\nT1,"two\nlines"\nT2,\n')
    with pytest.raises(InputFileError, match=r"row 3 \(line 4\), counting the header"):
        read_pool(path, id_column="id")


# 7. Byte order marks -------------------------------------------------------------


def test_jsonl_with_a_byte_order_mark_is_read(tmp_path, session):
    path = tmp_path / "bom.jsonl"
    path.write_text(
        '{"id":"T1","text":"hello"}\n{"id":"T2","text":"hi"}\n', "utf-8-sig"
    )
    assert read_pool(path, id_column="id").ids == ["T1", "T2"]
    path.write_text('{"id":"T1","label":"pos"}\n', "utf-8-sig")
    assert session.import_labels(path).n_imported == 1


# 8. JSONL ids stay as written ----------------------------------------------------


def test_jsonl_ids_stay_as_written(tmp_path):
    _write(
        tmp_path / "ids.jsonl",
        '{"id":1,"text":"a"}\n{"id":2.5,"text":"b"}\n'
        '{"id":"007","text":"c"}\n{"id":1.0,"text":"d"}\n',
    )
    assert read_pool(tmp_path / "ids.jsonl", id_column="id").ids == [
        "1",
        "2.5",
        "007",
        "1.0",
    ]
    _write(tmp_path / "null.jsonl", '{"id":1,"text":"a"}\n{"id":null,"text":"b"}\n')
    with pytest.raises(InputFileError, match=r"null\.jsonl.*without an id.*line 2"):
        read_pool(tmp_path / "null.jsonl", id_column="id")
    _write(tmp_path / "bool.jsonl", '{"id":true,"text":"a"}\n')
    with pytest.raises(InputFileError, match=r"line 1, column 'id': true/false"):
        read_pool(tmp_path / "bool.jsonl", id_column="id")


def test_jsonl_label_file_ids_match_numeric_ids(tmp_path):
    _write(tmp_path / "ids.jsonl", '{"id":1,"text":"a"}\n{"id":2,"text":"b"}\n')
    session = LabelingSession.create(
        tmp_path / "p",
        tmp_path / "ids.jsonl",
        labels=LABELS,
        id_column="id",
        progress=False,
    )
    _write(tmp_path / "l.jsonl", '{"id":1,"label":"pos"}\n{"id":null,"label":"neg"}\n')
    with pytest.raises(InputFileError, match="line 2: a label but no id"):
        session.import_labels(tmp_path / "l.jsonl")
    _write(tmp_path / "l.jsonl", '{"id":1,"label":"pos"}\n{"id":2,"label":null}\n')
    assert session.import_labels(tmp_path / "l.jsonl").n_imported == 1
    assert current_labels(session) == {"1": "pos"}


# 9. Spreadsheet formulas ---------------------------------------------------------

FORMULAS = [
    "=1+1",
    "+SUM(A1)",
    "-2+3",
    "@cmd",
    "\tx",
    "'=quoted",
    "'plain",
    "-1",
    "+0.5",
]


def test_csv_exports_escape_formulas_and_read_back_exactly(tmp_path):
    texts = FORMULAS + ["ordinary"]
    table = pd.DataFrame({"id": [f"=id{i}" for i in range(len(texts))], "text": texts})
    session = LabelingSession.create(
        tmp_path / "p",
        table,
        labels=["-neg", "@pos"],
        id_column="id",
        batch_size=len(texts),
        progress=False,
    )
    session.next_batch()
    for item in session.current_batch().items:
        session.label(item.item_id, "@pos", annotator="=evil")
    session.export_labels(tmp_path / "labels.csv")
    raw = pd.read_csv(tmp_path / "labels.csv", dtype=str, keep_default_na=False)
    cells = (
        set(raw["text"]) | set(raw["id"]) | set(raw["label"]) | set(raw["annotator"])
    )
    risky = [c for c in cells if c[:1] in "=+-@\t" and c not in ("-1", "+0.5")]
    assert risky == []  # nothing a spreadsheet would run
    assert set(raw["label"]) == {"'@pos"} and "''=quoted" in cells and "-1" in cells
    # Our own file reads back exactly: as a pool, and as labels of the session.
    back = read_table(tmp_path / "labels.csv")
    assert sorted(back["text"]) == sorted(texts)
    assert session.import_labels(tmp_path / "labels.csv").n_imported == 0
    # Without its session_id column (labels moved to a new project), ids and
    # labels are still recognised.
    raw.drop(columns="session_id").to_csv(tmp_path / "moved.csv", index=False)
    fresh = LabelingSession.create(
        tmp_path / "fresh",
        table,
        labels=["-neg", "@pos"],
        id_column="id",
        progress=False,
    )
    report = fresh.import_labels(tmp_path / "moved.csv")
    assert report.n_imported == len(texts)
    assert set(current_labels(fresh).values()) == {"@pos"}
    assert set(current_labels(fresh)) == set(table["id"])


def test_spreadsheet_escape_is_reversible():
    rng = random.Random(0)
    number = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
    for _ in range(5000):
        cell = "".join(rng.choice("'=+-@\t\r1.e a") for _ in range(rng.randint(0, 5)))
        escaped = spreadsheet_escape(cell)
        assert spreadsheet_unescape(escaped) == cell
        risky = escaped[:1] in ("=", "+", "-", "@", "\t", "\r")
        assert not risky or number.fullmatch(escaped)


# 10. Label names ------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels, error, message",
    [
        ([None, True], TypeError, r"Got None \(NoneType\) at position 0"),
        (["a", 1], TypeError, r"Got 1 \(int\) at position 1"),
        ({"b", "a"}, TypeError, "ordered list.*unordered set.*sorted"),
        ({"a": 1, "b": 2}, TypeError, "ordered list.*a mapping"),
        (["caf\u00e9", "cafe\u0301"], ValueError, "repeated"),
    ],
)
def test_label_names_must_be_an_ordered_list_of_strings(
    tmp_path, pool_file, labels, error, message
):
    with pytest.raises(error, match=f"'labels' parameter.*{message}"):
        LabelingSession.create(tmp_path / "p", pool_file, labels=labels, progress=False)
    assert not (tmp_path / "p").exists()


def test_labels_are_compared_in_nfc(tmp_path, pool_file):
    nfd = unicodedata.normalize("NFD", "caf\u00e9")
    session = LabelingSession.create(
        tmp_path / "p",
        pool_file,
        labels=[nfd, "th\u00e9"],
        id_column="id",
        progress=False,
    )
    assert session.labels == ["caf\u00e9", "th\u00e9"]  # stored in NFC
    _write(tmp_path / "l.csv", f"id,label\nT1,{nfd}\nT2,caf\u00e9\n")
    assert session.import_labels(tmp_path / "l.csv").n_imported == 2
    assert set(current_labels(session).values()) == {"caf\u00e9"}


def test_label_takes_an_nfd_spelling_as_the_nfc_label(tmp_path, pool_file):
    session = LabelingSession.create(
        tmp_path / "p",
        pool_file,
        labels=["caf\u00e9", "th\u00e9"],
        id_column="id",
        progress=False,
    )
    nfd = unicodedata.normalize("NFD", "th\u00e9")
    assert nfd != "th\u00e9"
    event = session.label("T1", nfd, annotator="api")
    assert event.label == "th\u00e9"  # stored as the session's own spelling
    assert session.item("T1").label == "th\u00e9"
    assert current_labels(session) == {"T1": "th\u00e9"}
    assert session.status().class_counts == {"caf\u00e9": 0, "th\u00e9": 1}
    # Other spellings are still not labels (no case folding, no stripping).
    for other in ["TH\u00c9", "th\u00e9 ", "the"]:
        with pytest.raises(ValueError, match="'label' parameter"):
            session.label("T2", other)
    assert session.status().n_events == 1


# 12. Moving labels to a new project ----------------------------------------------


def _labeled_with_audit(tmp_path):
    table, truth = make_pool(n=40)
    session = create_session(tmp_path / "old", table, audit_fraction=0.3)
    session.next_batch()
    for item in session.current_batch().items:
        session.label(item.item_id, truth[item.item_id], annotator="alice")
    assert session.status().n_audit_labeled == 3
    return session, table


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet", ".json"])
def test_audit_labels_and_annotators_survive_a_move(tmp_path, suffix):
    old, table = _labeled_with_audit(tmp_path)
    path = tmp_path / f"labels{suffix}"
    old.export_labels(path)
    if suffix == ".json":
        tasks = json.loads(path.read_text())
        for task in tasks:
            del task["data"]["allsh_session"]
            # "alice" has no Label Studio form (a user id, an email): the name
            # rides in the task's data, tied to the exported annotation's time.
            (annotation,) = task["annotations"]
            assert "completed_by" not in annotation
            assert task["data"]["allsh_annotator"] == "alice"
            assert task["data"]["allsh_labeled_at"] == annotation["created_at"]
        path.write_text(json.dumps(tasks))
    else:
        moved = read_table(path).drop(columns="session_id")
        if suffix == ".csv":
            moved.to_csv(path, index=False)
        elif suffix == ".jsonl":
            moved.to_json(path, orient="records", lines=True)
        else:
            moved.to_parquet(path)
    new = create_session(tmp_path / "new", table, audit_fraction=0.3)
    report = new.import_labels(path)
    assert report.n_imported == 10
    status = new.status()
    assert (status.n_audit_labeled, status.n_labeled) == (3, 7)
    assert status.annotators == {"alice": 10}
    assert current_labels(new, training=True) == current_labels(old, training=True)
    assert _audit_ids(new) == _audit_ids(old)
    # Importing again changes nothing; a training text marked audit is refused.
    assert new.import_labels(path).n_imported == 0
    train_id = next(iter(current_labels(new, training=True)))
    _write(tmp_path / "conflict.csv", f"id,label,audit\n{train_id},positive,true\n")
    with pytest.raises(InputFileError, match="audit text in the file but holds a"):
        new.import_labels(tmp_path / "conflict.csv")
    assert _audit_ids(new) == _audit_ids(old)


def _audit_ids(session):
    return set(current_labels(session)) - set(current_labels(session, training=True))


def test_labeled_at_round_trips_exactly(tmp_path):
    old, table = _labeled_with_audit(tmp_path)
    old.export_labels(tmp_path / "a.csv")
    first = pd.read_csv(tmp_path / "a.csv", dtype=str)
    first.drop(columns="session_id").to_csv(tmp_path / "moved.csv", index=False)
    new = create_session(tmp_path / "new", table)
    new.import_labels(tmp_path / "moved.csv")
    new.export_labels(tmp_path / "b.csv")
    second = pd.read_csv(tmp_path / "b.csv", dtype=str)
    times = dict(zip(first["id"], first["labeled_at"], strict=True))
    assert dict(zip(second["id"], second["labeled_at"], strict=True)) == times


def test_format_and_parse_time_round_trip_to_the_microsecond():
    rng = random.Random(1)
    for _ in range(20_000):
        seconds = rng.uniform(0, 4e9)
        text = format_time(seconds)
        back = parse_time(text)
        assert abs(back - seconds) <= 0.5e-6 + 1e-7  # half a microsecond
        assert format_time(back) == text
    # A time without a zone is UTC; a number is seconds since 1970.
    assert parse_time("2024-05-02T11:20:00") == parse_time("2024-05-02T11:20:00Z")
    assert parse_time("1714648800") == 1714648800.0


# 13. A likely id column left out -------------------------------------------------


def test_a_likely_id_column_gets_a_hint(tmp_path, capsys):
    table = pd.DataFrame({"ticket_id": ["A", "B", "C"], "text": ["x", "x", "y"]})
    LabelingSession.create(tmp_path / "p", table, labels=LABELS)
    out = capsys.readouterr().out
    assert "1 repeated texts merged" in out
    assert "column 'ticket_id' that looks like ids" in out
    assert "--id-column ticket_id" in out
    with pytest.warns(UserWarning, match="id_column='ticket_id'"):
        LabelingSession.create(tmp_path / "q", table, labels=LABELS, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LabelingSession.create(
            tmp_path / "r", table, labels=LABELS, id_column="ticket_id", progress=False
        )
        LabelingSession.create(
            tmp_path / "s", table[["text"]], labels=LABELS, progress=False
        )
