""" "Why was this picked" in plain words first (issue 30, item 5): the sentence,
the copy's changed words marked, :meth:`LabelingSession.why` and the
terminal annotator's ``w`` view."""

import io

import pytest
from _session_data import LABELS, create_session, make_pool, run_rounds

from allsh_sklearn.session._annotate import annotate
from allsh_sklearn.session._why import (
    changed_tokens,
    mark_changed,
    percent,
    why_sentence,
)

EIGHT = ["earn", "acq", "crude", "grain", "trade", "interest", "money", "ship"]


def _eight(**given):
    """Probabilities over eight labels: ``given`` ones, the rest shared equally."""
    rest = (1 - sum(given.values())) / (len(EIGHT) - len(given))
    return {label: given.get(label, rest) for label in EIGHT}


# The sentence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "proba, copy, expected",
    [
        # The example: hesitates, and the copy flips the prediction.
        (
            _eight(earn=0.46, acq=0.39),
            _eight(earn=0.20, acq=0.63),
            "The model hesitates between earn (46%) and acq (39%); after replacing "
            "the highlighted words it says acq (63%).",
        ),
        # Eight classes, a weak favourite: it "leans to" it.
        (
            _eight(earn=0.30, acq=0.10),
            _eight(earn=0.12, crude=0.48),
            "The model leans to earn (30%), with acq next (10%); after replacing "
            "the highlighted words it says crude (48%).",
        ),
        # Eight classes, the copy keeps the label with less confidence.
        (
            _eight(grain=0.81, trade=0.05),
            _eight(grain=0.52, trade=0.30),
            "The model says grain (81%); after replacing the highlighted words it "
            "is less sure of grain (52%).",
        ),
    ],
)
def test_the_allsh_sentence_for_eight_classes(proba, copy, expected):
    assert why_sentence("allsh", proba, copy_proba=copy) == expected


@pytest.mark.parametrize(
    "proba, copy, expected",
    [
        (
            {"negative": 0.55, "positive": 0.45},
            {"negative": 0.37, "positive": 0.63},
            "The model hesitates between negative (55%) and positive (45%); after "
            "replacing the highlighted words it says positive (63%).",
        ),
        (
            {"negative": 0.95, "positive": 0.05},
            {"negative": 0.40, "positive": 0.60},
            "The model says negative (95%); after replacing the highlighted words "
            "it says positive (60%).",
        ),
        (
            {"negative": 0.70, "positive": 0.30},
            {"negative": 0.90, "positive": 0.10},
            "The model says negative (70%); after replacing the highlighted words "
            "it is more sure of negative (90%).",
        ),
        (
            {"negative": 0.999, "positive": 0.001},
            {"negative": 0.2, "positive": 0.8},
            "The model says negative (>99%); after replacing the highlighted words "
            "it says positive (80%).",
        ),
    ],
)
def test_the_allsh_sentence_for_two_classes(proba, copy, expected):
    assert why_sentence("allsh", proba, copy_proba=copy) == expected


def test_a_copy_that_keeps_the_top_label_names_the_label_that_moved():
    proba = {"a": 0.50, "b": 0.40, "c": 0.05, "d": 0.05}
    copy = {"a": 0.50, "b": 0.10, "c": 0.30, "d": 0.10}
    assert why_sentence("allsh", proba, copy_proba=copy) == (
        "The model hesitates between a (50%) and b (40%); after replacing the "
        "highlighted words it still says a (50%) but moves b from 40% to 10%."
    )


def test_the_terminal_names_the_marked_words_its_own_way():
    sentence = why_sentence(
        "allsh",
        {"neg": 0.55, "pos": 0.45},
        copy_proba={"neg": 0.3, "pos": 0.7},
        changed_words="the words in [brackets]",
    )
    assert "after replacing the words in [brackets] it says pos (70%)" in sentence


@pytest.mark.parametrize(
    "strategy, expected",
    [
        ("entropy", "The model is unsure: earn (40%) vs acq (35%)."),
        ("margin", "The model is unsure: earn (40%) vs acq (35%)."),
        ("least-confidence", "The model is unsure: earn (40%) vs acq (35%)."),
        ("MarginSampling", "The model is unsure: earn (40%) vs acq (35%)."),
        (
            "badge",
            "The model is unsure (earn (40%) vs acq (35%)) and the text is "
            "unlike the others picked with it (BADGE).",
        ),
        (
            "cal",
            "The model says earn (40%) here but predicts otherwise on the most "
            "similar labeled texts (CAL).",
        ),
        (
            "MyStrategy",
            "Picked by the MyStrategy strategy; the model hesitates "
            "between earn (40%) and acq (35%).",
        ),
    ],
)
def test_other_strategies_say_what_their_score_means(strategy, expected):
    proba = _eight(earn=0.40, acq=0.35)
    assert why_sentence("strategy", proba, strategy=strategy) == expected


def test_random_picks_say_why_they_were_drawn():
    assert why_sentence("initial") == (
        "Picked at random: there was no model yet to choose texts."
    )
    audit = why_sentence("audit", {"a": 0.9, "b": 0.1})
    # annotators must not be able to tell audit texts from random picks
    assert audit == why_sentence("random", {"a": 0.5, "b": 0.5}) == (
        "Picked at random from the pool, not by the model's scores."
    )
    assert "audit" not in audit and "accuracy" not in audit
    assert why_sentence("strategy", {"a": 0.5, "b": 0.5}, strategy="random") == (
        why_sentence("random")
    )
    with pytest.raises(ValueError, match="'kind' parameter"):
        why_sentence("paraphrase")


def test_percentages_read_as_people_read_them():
    assert [percent(p) for p in (0, 0.004, 0.456, 0.994, 0.996, 1)] == [
        "0%",
        "<1%",
        "46%",
        "99%",
        ">99%",
        "100%",
    ]


# Marking the changed words ---------------------------------------------------------


def test_changed_words_are_marked_in_brackets_or_bold():
    original = "the bank raised its rates on monday"
    copy = "the lender raised its fees on monday morning"
    assert mark_changed(original, copy) == (
        "the [lender] raised its [fees] on monday [morning]"
    )
    bold = mark_changed(original, copy, style="ansi")
    assert bold == (
        "the \x1b[1;4mlender\x1b[0m raised its \x1b[1;4mfees\x1b[0m on monday "
        "\x1b[1;4mmorning\x1b[0m"
    )
    # A run of changed words is marked once, spaces kept.
    assert mark_changed("a b c d", "a x  y d") == "a [x  y] d"
    assert mark_changed("same text", "same text") == "same text"
    with pytest.raises(ValueError, match="'style' parameter"):
        mark_changed("a", "b", style="html")


def test_the_page_and_the_terminal_share_one_word_diff():
    pytest.importorskip("starlette")
    from allsh_sklearn.web._diff import changed_tokens as page_diff

    assert page_diff is changed_tokens


# LabelingSession.why and the terminal ----------------------------------------------


@pytest.fixture(scope="module")
def allsh_session(tmp_path_factory):
    table, truth = make_pool(n=200, n_classes=3)
    folder = tmp_path_factory.mktemp("why") / "project"
    session = create_session(
        folder, table, labels=LABELS, strategy="allsh", audit_fraction=0.2
    )
    run_rounds(session, truth, 3)
    session.next_batch()
    return session


def test_why_leads_with_the_sentence_for_each_kind_of_pick(allsh_session):
    session = allsh_session
    batch = session.current_batch()
    picked = [i for i in batch.items if i.purpose == "train"]
    audit = [i for i in batch.items if i.purpose == "audit"]
    assert picked and audit
    why = session.why(picked[0].item_id)
    assert why["kind"] == "allsh"
    assert why["sentence"] == why_sentence(
        "allsh", why["proba"], copy_proba=why["copy_proba"]
    )
    assert why["sentence"].startswith("The model ")
    assert "paraphras" not in why["reason"]
    why = session.why(audit[0].item_id)
    assert why["kind"] == "audit"
    assert why["sentence"] == why_sentence("random")


def test_why_for_a_text_of_the_first_batch_says_there_was_no_model(tmp_path):
    table, _ = make_pool(n=60)
    session = create_session(tmp_path / "p", table)
    items = session.next_batch().items
    why = session.why(items[0].item_id)
    assert why["kind"] == "initial" and items[0].purpose == "train"
    assert why["sentence"] == why_sentence("initial")
    outside = next(i for i in table["id"] if i not in {x.item_id for x in items})
    assert session.why(outside)["kind"] is None
    assert "never picked" in session.why(outside)["sentence"]


def test_why_for_entropy_says_which_labels_the_model_hesitates_between(tmp_path):
    table, truth = make_pool(n=120)
    session = create_session(tmp_path / "p", table, strategy="entropy")
    run_rounds(session, truth, 2)
    item = session.next_batch().items[0]
    why = session.why(item.item_id)
    assert why["kind"] == "strategy"
    assert why["sentence"].startswith("The model is unsure: ")
    top = max(why["proba"], key=why["proba"].get)
    assert f"{top} ({percent(why['proba'][top])})" in why["sentence"]


class _Terminal(io.StringIO):
    """An output that says it is a terminal (the annotator then uses bold)."""

    def isatty(self):
        return True


def _why_view(session, output, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    item = next(i for i in session.current_batch().items if i.purpose == "train")
    # The annotator shows the open batch's first free text: make it this one.
    monkeypatch.setattr(session, "next_item", lambda *a, **k: item)
    annotate(
        session,
        annotator="me",
        input=io.StringIO("w\nq\n"),
        output=output,
        progress=False,
    )
    text = output.getvalue()
    return item, text[text.index("why: ") :]


def test_the_terminal_why_view_leads_with_the_sentence_and_marks_words(
    allsh_session, monkeypatch
):
    item, view = _why_view(allsh_session, io.StringIO(), monkeypatch)
    why = allsh_session.why(item.item_id)
    lines = view.splitlines()
    assert lines[0].startswith("why: The model ")
    flat = " ".join(line.strip() for line in view.split("\n  the copy")[0].splitlines())
    assert flat == "why: " + why_sentence(
        "allsh",
        why["proba"],
        copy_proba=why["copy_proba"],
        changed_words="the words in [brackets]",
    )
    assert "  the copy with replaced words:" in lines
    copy_lines = view.split("the copy with replaced words:\n")[1].split("\n  model on")[
        0
    ]
    marked = " ".join(line.strip() for line in copy_lines.splitlines())
    assert marked == mark_changed(item.text, why["copy"]).strip()
    assert "[" in marked
    assert "paraphrase" not in view
    assert "model on the text:" in view and "model on the copy:" in view
    assert "divergence (KL) between the two:" in view and why["measure"] == "kl"
    # The sentence comes before the numbers.
    assert view.index("why: The model") < view.index("divergence (")


def test_the_terminal_why_view_uses_bold_on_a_terminal(allsh_session, monkeypatch):
    _, view = _why_view(allsh_session, _Terminal(), monkeypatch)
    assert "\x1b[1;4m" in view and "[brackets]" not in view
    assert "replacing the highlighted words" in view.replace("\n     ", " ")
    monkeypatch.setenv("NO_COLOR", "1")
    item = next(i for i in allsh_session.current_batch().items if i.purpose == "train")
    monkeypatch.setattr(allsh_session, "next_item", lambda *a, **k: item)
    out = _Terminal()
    annotate(
        allsh_session,
        annotator="me",
        input=io.StringIO("w\nq\n"),
        output=out,
        progress=False,
    )
    assert "\x1b[" not in out.getvalue()
