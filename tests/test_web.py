"""The labeling page's server: routes, security and the session behind them.

Requests go through Starlette's TestClient to the real application on a real
:class:`~allsh_sklearn.session.LabelingSession`; every test reads the
session's database afterwards. The same page in a real browser:
``test_web_browser.py``.
"""

import re
import warnings

import pandas as pd
import pytest
from _session_data import database_rows, labels_by_text, texts_project
from conftest import NEGATIVE, POSITIVE
from markupsafe import escape

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from allsh_sklearn.session import LabelingSession  # noqa: E402
from allsh_sklearn.web import (  # noqa: E402
    BackgroundServer,
    RemoteBindWarning,
    check_bind_address,
    create_app,
    serve,
)

LABELS = ["negative", "positive"]
SCRIPT = "<script>alert(1)</script>"
BASE = "http://127.0.0.1:8000"


def truth(text):
    """The label a careful annotator gives (the toy texts' known sentiment)."""
    return "positive" if text in POSITIVE else "negative"


def make_project(path, texts=None, *, labels=LABELS, **params):
    """A session on the toy texts with its first (random) batch drawn."""
    params.setdefault("stop_set_size", 8)
    texts = POSITIVE + NEGATIVE if texts is None else texts
    return texts_project(path, texts, labels=labels, **params)


labels_in_db = labels_by_text


def csrf_of(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def shown_item(html):
    match = re.search(r'data-item-id="([^"]*)"', html)
    return None if match is None else match.group(1)


def shown_text(html):
    match = re.search(r'<div class="text" id="text">(.*?)</div>', html, re.S)
    return None if match is None else match.group(1)


class Browser:
    """A TestClient that behaves like the page: same-origin POSTs with the token."""

    def __init__(self, app, name=None):
        self.client = TestClient(app, base_url=BASE, follow_redirects=False)
        self.token = csrf_of(self.client.get("/label").text)
        if name is not None:
            response = self.post("/annotator", annotator=name)
            assert response.status_code == 303

    def get(self, path):
        return self.client.get(path)

    def post(self, path, *, fetch=False, headers=None, **form):
        headers = {"Origin": BASE, **(headers or {})}
        if fetch:
            headers["X-Requested-With"] = "fetch"
        return self.client.post(
            path, data={"csrf_token": self.token, **form}, headers=headers
        )

    def page(self):
        return self.get("/label").text


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture
def app(project):
    app = create_app(project)
    yield app
    app.state.executor.shutdown(wait=True)


def test_label_page_asks_for_a_name_first(app, project):
    browser = Browser(app)
    page = browser.page()
    assert 'id="need-name"' in page
    assert shown_item(page) is None
    response = browser.post("/label", fetch=True, item_id="x", label="positive")
    assert response.status_code == 400
    assert "name" in response.text
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


def test_labels_skips_and_undo_reach_the_database(app, project):
    browser = Browser(app, "Ann")
    page = browser.page()
    first_id, first_text = shown_item(page), shown_text(page)
    response = browser.post(
        "/label", fetch=True, item_id=first_id, label=truth(first_text)
    )
    assert response.status_code == 200
    assert "session;dur=" in response.headers["server-timing"]
    second_id = shown_item(response.text)
    assert second_id != first_id
    assert labels_in_db(project) == {first_text: (truth(first_text), "Ann")}

    response = browser.post("/skip", fetch=True, item_id=second_id)
    assert database_rows(
        project, "SELECT COUNT(*) FROM item_state WHERE kind = 'skip'"
    ) == [(1,)]
    third_id = shown_item(response.text)
    assert third_id not in (first_id, second_id)

    # Undo takes back the skip, then the label, and shows that text again.
    response = browser.post("/undo", fetch=True)
    assert shown_item(response.text) == second_id
    assert "Undid your skip" in response.text
    response = browser.post("/undo", fetch=True)
    assert shown_item(response.text) == first_id
    assert database_rows(project, "SELECT COUNT(*) FROM item_state") == [(0,)]
    undone = database_rows(
        project,
        "SELECT kind, undone, annotator, source FROM events "
        "WHERE kind != 'undo' ORDER BY event",
    )
    assert undone == [("label", 1, "Ann", "web"), ("skip", 1, "Ann", "web")]
    response = browser.post("/undo", fetch=True)
    assert response.status_code == 200
    response = browser.post("/undo", fetch=True)
    assert "Nothing to undo" in response.text


def test_plain_form_posts_redirect_back_to_the_page(app, project):
    browser = Browser(app, "Ann")
    page = browser.page()
    response = browser.post("/label", item_id=shown_item(page), label="positive")
    assert response.status_code == 303
    assert response.headers["location"] == "/label"
    assert len(labels_in_db(project)) == 1


def test_reload_shows_the_same_text_until_it_is_labeled(app):
    browser = Browser(app, "Ann")
    first = shown_item(browser.page())
    assert shown_item(browser.page()) == first
    assert shown_item(Browser(app, "Ann").page()) == first


def test_two_annotators_are_shown_different_texts(app, project):
    ann, bob = Browser(app, "Ann"), Browser(app, "Bob")
    seen = {}
    for _ in range(3):
        for name, browser in (("Ann", ann), ("Bob", bob)):
            page = browser.page()
            item, text = shown_item(page), shown_text(page)
            assert item not in seen
            seen[item] = name
            browser.post("/label", fetch=True, item_id=item, label=truth(text))
    stored = labels_in_db(project)
    assert len(stored) == 6
    assert (
        sorted(annotator for _, annotator in stored.values())
        == ["Ann"] * 3 + ["Bob"] * 3
    )
    page = ann.page()
    assert 'id="batch-done"' in page


def test_unknown_items_and_labels_are_refused_and_nothing_is_written(app, project):
    browser = Browser(app, "Ann")
    item = shown_item(browser.page())
    response = browser.post("/label", fetch=True, item_id=item, label="neutral")
    assert response.status_code == 400
    assert "neutral" in response.text and "positive" in response.text
    response = browser.post(
        "/label", fetch=True, item_id="no-such-id", label="positive"
    )
    assert response.status_code == 404
    assert "no-such-id" in response.text
    response = browser.post("/skip", fetch=True)
    assert response.status_code == 400
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


@pytest.mark.parametrize(
    "headers, form, status",
    [
        ({}, {"csrf_token": "forged"}, 403),
        ({}, {"csrf_token": ""}, 403),
        ({"Origin": "http://evil.example"}, {}, 403),
        ({"Origin": "null"}, {}, 403),
        ({"Origin": None, "Referer": "http://evil.example/page"}, {}, 403),
        ({"Host": "evil.example"}, {}, 400),
    ],
    ids=[
        "forged-token",
        "no-token",
        "other-origin",
        "null-origin",
        "other-referer",
        "rebound-host",
    ],
)
def test_state_changing_requests_need_the_token_and_the_page_origin(
    app, project, headers, form, status
):
    browser = Browser(app, "Ann")
    item = shown_item(browser.page())
    sent = {"Origin": BASE, **headers}
    sent = {key: value for key, value in sent.items() if value is not None}
    data = {"csrf_token": browser.token, "item_id": item, "label": "positive", **form}
    response = browser.client.post("/label", data=data, headers=sent)
    assert response.status_code == status
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


def test_token_is_per_browser(app, project):
    ann, bob = Browser(app, "Ann"), Browser(app, "Bob")
    assert ann.token != bob.token
    item = shown_item(ann.page())
    response = ann.client.post(
        "/label",
        data={"csrf_token": bob.token, "item_id": item, "label": "positive"},
        headers={"Origin": BASE},
    )
    assert response.status_code == 403
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


def test_labeling_is_only_by_post(app):
    browser = Browser(app, "Ann")
    assert browser.get("/skip").status_code == 405
    assert browser.get("/undo").status_code == 405
    assert browser.get("/retrain").status_code == 405


def test_pages_carry_a_content_security_policy(app):
    response = TestClient(app, base_url=BASE).get("/label")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "samesite=strict" in response.headers["set-cookie"].lower()


def test_texts_labels_and_names_are_escaped(tmp_path):
    labels = ["<b>bold</b>", 'quote" onmouseover="x']
    project = make_project(
        tmp_path / "p",
        [SCRIPT, "a <img src=x onerror=alert(2)> text"],
        labels=labels,
        batch_size=2,
    )
    app = create_app(project)
    try:
        browser = Browser(app, "<i>Eve</i>")
        page = browser.page()
        while SCRIPT not in (html_text := _unescape(shown_text(page) or "")):
            page = browser.post("/skip", fetch=True, item_id=shown_item(page)).text
            assert shown_item(page), "the script text was never shown"
        assert html_text == SCRIPT
        for raw in (SCRIPT, "<img", "<b>bold</b>", 'quote" onmouseover', "<i>Eve</i>"):
            assert raw not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "&lt;i&gt;Eve&lt;/i&gt;" in page
        assert "&lt;b&gt;bold&lt;/b&gt;" in page
        browser.post("/label", fetch=True, item_id=shown_item(page), label=labels[1])
        assert labels_in_db(project)[SCRIPT] == (labels[1], "<i>Eve</i>")
        status = browser.get("/status").text
        assert "<b>bold</b>" not in status and "&lt;b&gt;bold&lt;/b&gt;" in status
    finally:
        app.state.executor.shutdown(wait=True)


def _unescape(html):
    import html as html_module

    return html_module.unescape(html)


def test_annotator_name_is_checked(app):
    browser = Browser(app)
    response = browser.post("/annotator", annotator="   ")
    assert response.status_code == 200
    assert "1 to 100 characters" in response.text
    response = browser.post("/annotator", annotator="x" * 101)
    assert "got 101" in response.text
    browser.post("/annotator", annotator="  Ann   Lee ")
    assert 'value="Ann Lee"' in browser.page()


def label_the_open_batch(app, name="Ann"):
    """A browser labels every text it is shown; the browser and its last page."""
    browser = Browser(app, name)
    page = browser.page()
    while item := shown_item(page):
        page = browser.post(
            "/label", fetch=True, item_id=item, label=truth(_unescape(shown_text(page)))
        ).text
    return browser, page


def test_retrain_from_the_page_queries_an_allsh_batch_with_explanations(app, project):
    browser, page = label_the_open_batch(app)
    assert 'id="batch-done"' in page
    response = browser.post("/retrain", fetch=True, batch_size="3")
    assert response.status_code == 202
    assert response.json()["running"] is True
    assert browser.post("/retrain", fetch=True).status_code in (202, 409)
    app.state.retrain_job.join(60)
    state = browser.get("/retrain/progress").json()
    assert state["running"] is False and not state.get("error"), state
    assert "Round 1" in state["message"]
    rounds = database_rows(project, "SELECT round, n_labeled FROM rounds")
    assert rounds == [(1, 6)]
    batches = database_rows(project, "SELECT batch, kind FROM batches ORDER BY batch")
    assert batches == [(1, "initial"), (2, "query")]
    assert database_rows(
        project, "SELECT COUNT(*) FROM batch_items WHERE batch = 2"
    ) == [(3,)]

    page = browser.page()
    assert 'id="why"' in page and 'id="augmented-copy"' in page
    assert "<mark>" in page
    assert re.search(
        r'id="divergence">Divergence on this copy: <strong>[0-9.e-]+', page
    )
    assert page.count('<td class="num">') == 4  # two classes, original and copy
    assert "The model's guess" in page

    status = browser.get("/status").text
    assert 'id="n-labeled">6<' in status
    assert "uncertainty" in status and "stabilizing" in status
    png = browser.get("/status/learning-curve.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_retrain_refuses_a_bad_batch_size(app, project):
    browser = Browser(app, "Ann")
    for bad in ("0", "-3", "ten"):
        response = browser.post("/retrain", fetch=True, batch_size=bad)
        assert response.status_code == 400
        assert repr(bad) in response.text
    assert database_rows(project, "SELECT COUNT(*) FROM batches") == [(1,)]


def test_first_batch_is_drawn_from_the_page(tmp_path):
    project = make_project(tmp_path / "p", first_batch=False)
    app = create_app(project)
    try:
        browser = Browser(app, "Ann")
        page = browser.page()
        assert "Draw the first batch" in page
        assert browser.post("/retrain").status_code == 303
        app.state.retrain_job.join(60)
        assert database_rows(project, "SELECT kind FROM batches") == [("initial",)]
        assert shown_item(browser.page())
        assert browser.get("/status/learning-curve.png").status_code == 404
    finally:
        app.state.executor.shutdown(wait=True)


def test_non_local_addresses_need_explicit_consent(project):
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        with pytest.raises(ValueError, match="allow_remote"):
            check_bind_address(host)
        with pytest.raises(ValueError, match=re.escape(repr(host))):
            serve(project, host=host, port=0)
    with pytest.warns(RemoteBindWarning, match="0.0.0.0"):
        check_bind_address("0.0.0.0", allow_remote=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
            check_bind_address(host)


def test_serve_refuses_a_bad_port(project):
    for port in (-1, 70000, "80", True):
        with pytest.raises(ValueError, match="'port' parameter"):
            serve(project, port=port)


def test_background_server_answers_on_loopback(project):
    import httpx

    with BackgroundServer(project) as server:
        assert server.url.startswith("http://127.0.0.1:")
        response = httpx.get(server.url + "label")
        assert response.status_code == 200 and "csrf-token" in response.text
        rebound = httpx.get(server.url + "label", headers={"Host": "attacker.example"})
        assert rebound.status_code == 400


def _restore_ctrl_c():
    # As in a terminal: a process started in the background of a script
    # inherits SIGINT ignored, and Ctrl-C would never reach the server.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _serve_process(project, *options):
    import subprocess
    import sys

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "allsh_sklearn.session",
            "serve",
            str(project),
            "--port",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_restore_ctrl_c,
    )


def test_cli_serve_prints_its_address_and_stops_on_ctrl_c(project):
    import signal

    import httpx

    process = _serve_process(project)
    try:
        line = process.stdout.readline()
        assert "Ctrl-C" in process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        page = httpx.get(url + "label", timeout=10)
        assert page.status_code == 200 and "csrf-token" in page.text
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    # Ctrl-C ends the server as it ends every allsh-label command (code 130).
    assert process.returncode == 130, stderr
    assert "every label given so far is saved" in stderr


@pytest.mark.parametrize(
    "options, code, message",
    [
        (("--host", "0.0.0.0"), 2, "--allow-remote"),
        (("--port", "70000"), 2, "[0, 65535]"),
    ],
)
def test_cli_serve_refuses_bad_options(project, options, code, message):
    process = _serve_process(project, *options)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert message in stderr
    assert "http://" not in stdout


def test_cli_serve_needs_a_session(tmp_path):
    process = _serve_process(tmp_path / "nothing-here")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 4
    assert "No labeling session" in stderr


def test_cli_serve_warns_when_remote_access_is_allowed(project):
    import signal

    process = _serve_process(project, "--host", "0.0.0.0", "--allow-remote")
    try:
        line = process.stdout.readline()
        assert "http://0.0.0.0:" in line
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert "warning:" in stderr and "anyone who reaches it can label" in stderr


def test_sentence_pairs_show_both_texts_escaped(tmp_path):
    frame = pd.DataFrame(
        {
            "premise": ["the cat sat on the mat", "a <b>bold</b> claim"],
            "hypothesis": ["a cat is sitting", SCRIPT],
        }
    )
    session = LabelingSession.create(
        tmp_path / "pairs",
        frame,
        labels=["entailment", "not_entailment"],
        text_column="premise",
        pair_column="hypothesis",
        batch_size=2,
        stop_set_size=2,
        progress=False,
    )
    session.next_batch()
    session.close()
    app = create_app(tmp_path / "pairs")
    try:
        browser = Browser(app, "Ann")
        pages = []
        page = browser.page()
        while shown_item(page):
            pages.append(page)
            page = browser.post(
                "/label", fetch=True, item_id=shown_item(page), label="entailment"
            ).text
        assert len(pages) == 2
        both = "".join(pages)
        assert 'id="text-pair"' in both and "Paired text" in both
        assert SCRIPT not in both and "&lt;script&gt;alert(1)&lt;/script&gt;" in both
        assert "<b>bold</b>" not in both
        assert database_rows(
            tmp_path / "pairs",
            "SELECT COUNT(*) FROM item_state WHERE label = ?",
            ("entailment",),
        ) == [(2,)]
    finally:
        app.state.executor.shutdown(wait=True)


def test_a_read_only_session_is_shown_and_refuses_labels_clearly(project):
    import os

    if os.geteuid() == 0:
        # root writes through permissions: open the session read-only instead.
        session = LabelingSession.open(project, readonly=True, progress=False)
    else:  # pragma: no cover - CI runs as root
        os.chmod(project, 0o555)
        session = LabelingSession.open(project, progress=False)
    app = create_app(session)
    try:
        browser = Browser(app, "Ann")
        page = browser.page()
        item = shown_item(page)
        assert item
        response = browser.post("/label", fetch=True, item_id=item, label="positive")
        assert response.status_code == 409
        assert "read-only" in response.text
        response = browser.post("/label", item_id=item, label="positive")
        assert response.status_code == 409 and "read-only" in response.text
        assert 'id="error"' in response.text
    finally:
        app.state.executor.shutdown(wait=True)
        os.chmod(project, 0o755)
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


@pytest.mark.parametrize(
    "strategy, shows",
    [("allsh-wca", "of its 4 copies"), ("entropy", "Entropy sampling score")],
)
def test_why_for_wca_and_for_other_strategies(tmp_path, strategy, shows):
    project = make_project(tmp_path / strategy, strategy=strategy)
    session = LabelingSession.open(project, progress=False)
    for item in session.current_batch().items:
        session.label(item.item_id, truth(item.text), annotator="scripted")
    session.retrain(size=3)
    session.close()
    app = create_app(project)
    try:
        page = Browser(app, "Ann").page()
    finally:
        app.state.executor.shutdown(wait=True)
    assert shows in page
    if strategy == "allsh-wca":
        assert "maximum over its copies" in page and "<mark>" in page
        assert 'id="why-sentence">The model ' in page
    else:
        assert 'id="augmented-copy"' not in page
        assert re.search(r"Entropy sampling score: <strong>[0-9.e-]+</strong>", page)
        # First the sentence: which labels the model hesitates between.
        assert re.search(
            r'id="why-sentence">The model is unsure: \w+ \(\d+%\) vs \w+ \(\d+%\)\.<',
            page,
        )
        assert page.index('id="why-sentence"') < page.index('id="score"')


def _why_card(page):
    start = page.index('<section class="card why" id="why">')
    return page[start : page.index("</section>", start)]


def _retrained(tmp_path, name, **params):
    """A project whose first batch is labeled and whose second is queried."""
    project = make_project(tmp_path / name, **params)
    session = LabelingSession.open(project, progress=False)
    for item in session.current_batch().items:
        session.label(item.item_id, truth(item.text), annotator="scripted")
    session.retrain(size=3)
    return project, session


def test_why_leads_with_a_plain_sentence_then_the_numbers(tmp_path):
    from allsh_sklearn.session._why import why_sentence

    project, session = _retrained(tmp_path, "allsh")
    app = create_app(project)
    try:
        page = Browser(app, "Ann").page()
    finally:
        app.state.executor.shutdown(wait=True)
    item = shown_item(page)
    why = session.why(item)
    expected = why_sentence("allsh", why["proba"], copy_proba=why["copy_proba"])
    card = _why_card(page)
    # The sentence first, right under the heading; then the copy with its
    # changed words marked, the probabilities, the divergence and the method.
    assert re.search(
        r"<h2>Why this text was picked</h2>\s*"
        r'<p class="why-sentence" id="why-sentence">([^<]*)</p>',
        card,
    ).group(1) == str(escape(expected))
    assert expected.startswith("The model ")
    assert "after replacing the highlighted words it " in expected
    order = [
        card.index(marker)
        for marker in (
            'id="why-sentence"',
            'id="augmented-copy"',
            'id="why-proba"',
            'id="divergence"',
            'id="why-method"',
        )
    ]
    assert order == sorted(order)
    assert "The copy with replaced words (highlighted)" in card
    assert "<mark>" in card and "paraphras" not in card


def test_why_for_an_audit_text_and_a_first_batch_text(tmp_path):
    project, session = _retrained(tmp_path, "audit", audit_fraction=0.5)
    audit = next(i for i in session.current_batch().items if i.purpose == "audit")
    app = create_app(project)
    try:
        why = app.state.backend._item(session.item(audit.item_id))["why"]
    finally:
        app.state.executor.shutdown(wait=True)
    assert why["kind"] == "audit" and why["score"] is None
    assert why["sentence"] == (
        "Picked at random from the pool, not by the model's scores."
    )
    # A text of the first (random) batch, before any model.
    app = create_app(make_project(tmp_path / "fresh"))
    try:
        page = Browser(app, "Ann").page()
    finally:
        app.state.executor.shutdown(wait=True)
    assert re.search(
        r'id="why-sentence">Picked at random: there was no model yet', page
    )


def test_retrain_progress_shows_the_session_stages(app, project):
    browser, _ = label_the_open_batch(app)
    # What the retraining thread is told, stage by stage.
    seen = []
    summary = app.state.backend.retrain_and_query(
        3, progress=lambda message, done=0, total=0: seen.append((message, done, total))
    )
    assert "Round 1" in summary
    staged = [(message, done, total) for message, done, total in seen if total]
    assert [done for _, done, _ in staged] == [0, 1, 2, 3, 4]
    assert {total for _, _, total in staged} == {4}
    assert "training on 6 labels" in staged[0][0] and "scoring" in staged[1][0]
    # The page's progress bar reads done of total; at the end, all of them.
    browser.post(
        "/label", fetch=True, item_id=shown_item(browser.page()), label="positive"
    )
    assert browser.post("/retrain", fetch=True, batch_size="3").status_code == 202
    app.state.retrain_job.join(60)
    state = browser.get("/retrain/progress").json()
    assert (state["done"], state["total"]) == (4, 4) and "Round 2" in state["message"]


# Hostile input: the weak spots of issue 26 ------------------------------------------

MiB = 1024 * 1024


def asgi_post(app, path, headers, chunks):
    """POST to ``app`` as an ASGI server would, the body in ``chunks``.

    Returns
    -------
    status : int
    body : str
    read : int
        The bytes of the body the application read before it answered.
    """
    import asyncio

    chunks = iter(chunks)
    pending = next(chunks, None)
    read = 0

    async def receive():
        nonlocal pending, read
        if pending is None:
            return {"type": "http.disconnect"}
        chunk, pending = pending, next(chunks, None)
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    body = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    return sent[0]["status"], body.decode(), read


def multipart_upload(size, token=None):
    """A multipart body with a file part of ``size`` bytes, in 1 MiB chunks."""
    boundary = "allshboundary"
    head = ""
    if token is not None:
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"'
            f"\r\n\r\n{token}\r\n"
        )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; '
        'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        yield head.encode()
        block = b"x" * MiB
        for _ in range(size // MiB):
            yield block
        yield tail

    length = len(head.encode()) + (size // MiB) * MiB + len(tail)
    return f"multipart/form-data; boundary={boundary}", length, chunks


@pytest.mark.parametrize(
    "case, status, most_read",
    [
        ("declared-too-large", 413, 0),
        ("undeclared-too-large", 400, 64 * 1024 + MiB),  # the file part: 400
        ("forged-header-token", 403, 0),
        ("browser-without-token", 403, 0),
    ],
)
def test_large_and_forged_bodies_are_refused_before_they_are_read(
    app, project, case, status, most_read
):
    browser = Browser(app, "Ann")
    cookie = f"allsh_label={browser.client.cookies['allsh_label']}"
    content_type, length, chunks = multipart_upload(32 * MiB)
    headers = {
        "host": "127.0.0.1:8000",
        "origin": BASE,
        "cookie": cookie,
        "content-type": content_type,
        "x-csrf-token": browser.token,
        "content-length": str(length),
    }
    if case != "declared-too-large":
        del headers["content-length"]  # sent in chunks, no length announced
    if case == "forged-header-token":
        headers["x-csrf-token"] = "forged"
    if case == "browser-without-token":
        del headers["cookie"], headers["x-csrf-token"]
        _, _, chunks = multipart_upload(32 * MiB, token=browser.token)
    answer, body, read = asgi_post(app, "/label", headers, chunks())
    assert answer == status, body
    assert read <= most_read
    if status == 413:
        assert "at most 64 KiB" in body
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


def test_no_body_is_read_past_the_limit():
    """The guard stops any body at 64 KiB, whatever reads it."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse

    from allsh_sklearn.web._security import MAX_BODY_BYTES, RequestGuard

    async def reads_everything(scope, receive, send):
        body = await Request(scope, receive).body()
        await PlainTextResponse(f"read {len(body)}")(scope, receive, send)

    guard = RequestGuard(reads_everything, allowed_hosts=["127.0.0.1"])
    headers = {"host": "127.0.0.1:8000", "content-type": "text/plain"}
    block = b"x" * (16 * 1024)
    status, body, read = asgi_post(guard, "/", headers, [block] * 2048)
    assert status == 413 and "at most 64 KiB" in body
    assert read <= MAX_BODY_BYTES + len(block)
    status, body, _ = asgi_post(guard, "/", headers, [block] * 4)
    assert (status, body) == (200, f"read {4 * len(block)}")


def test_file_uploads_and_long_fields_are_refused(app, project):
    browser = Browser(app, "Ann")
    item = shown_item(browser.page())
    headers = {"Origin": BASE, "X-Requested-With": "fetch"}
    data = {"csrf_token": browser.token, "item_id": item, "label": "positive"}
    response = browser.client.post(
        "/label", data=data, files={"upload": ("a.bin", b"x" * 1000)}, headers=headers
    )
    assert response.status_code == 400
    assert "no file uploads" in response.text
    response = browser.client.post(
        "/label", data={**data, "label": "x" * 20_000}, headers=headers
    )
    assert response.status_code == 400
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]
    # The same form without the file, and the body under the limit, is taken.
    response = browser.client.post("/label", data=data, headers=headers)
    assert response.status_code == 200
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(1,)]


def test_the_same_label_sent_twice_is_stored_once_and_undo_unlabels_it(app, project):
    browser = Browser(app, "Ann")
    page = browser.page()
    first, text = shown_item(page), shown_text(page)
    label = truth(text)
    for fetch in (True, True, False):
        response = browser.post("/label", fetch=fetch, item_id=first, label=label)
        assert response.status_code in (200, 303)
    assert database_rows(
        project, "SELECT COUNT(*) FROM events WHERE kind = 'label'"
    ) == [(1,)]
    response = browser.post("/undo", fetch=True)
    assert shown_item(response.text) == first
    assert "Undid your label" in response.text
    assert database_rows(project, "SELECT COUNT(*) FROM item_state") == [(0,)]
    # A skip sent twice, then undone: unlabeled and not skipped either.
    for _ in range(2):
        browser.post("/skip", fetch=True, item_id=first)
    browser.post("/undo", fetch=True)
    assert database_rows(project, "SELECT COUNT(*) FROM item_state") == [(0,)]
    # Another label than the standing one is a re-label: both are kept.
    other = LABELS[1 - LABELS.index(label)]
    browser.post("/label", fetch=True, item_id=first, label=label)
    browser.post("/label", fetch=True, item_id=first, label=other)
    assert labels_in_db(project) == {text: (other, "Ann")}
    assert database_rows(
        project, "SELECT COUNT(*) FROM events WHERE kind = 'label' AND undone = 0"
    ) == [(2,)]


def test_the_same_label_sent_at_once_from_several_threads_is_stored_once(project):
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    with BackgroundServer(project) as server:
        origin = server.url.rstrip("/")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            token = csrf_of(client.get("/label").text)
            headers = {"Origin": origin, "X-CSRF-Token": token}
            client.post("/annotator", data={"annotator": "Ann"}, headers=headers)
            item = shown_item(client.get("/label").text)
            form = {"item_id": item, "label": "positive"}
            fetched = {**headers, "X-Requested-With": "fetch"}
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda _: client.post("/label", data=form, headers=fetched),
                        range(8),
                    )
                )
    assert [answer.status_code for answer in answers] == [200] * 8
    assert database_rows(
        project, "SELECT COUNT(*) FROM events WHERE kind = 'label'"
    ) == [(1,)]


def _app_served_on(monkeypatch, project, **options):
    """The application ``serve`` builds for ``options`` (nothing is bound)."""
    from allsh_sklearn.web import _serve

    built = {}
    real = _serve.create_app

    def capture(*args, **kwargs):
        built["app"] = real(*args, **kwargs)
        return built["app"]

    class Bound(Exception):
        pass

    def no_bind(host, port):
        raise Bound

    monkeypatch.setattr(_serve, "create_app", capture)
    monkeypatch.setattr(_serve, "bind_socket", no_bind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RemoteBindWarning)
        with pytest.raises(Bound):
            serve(project, port=0, **options)
    return built["app"]


@pytest.mark.parametrize(
    "allowed, host, answers",
    [
        (None, "127.0.0.1:8000", 200),
        (None, "localhost", 200),
        (None, "[::1]:8000", 200),
        (None, "0.0.0.0:8000", 200),
        (None, "attacker.example", 400),
        (None, "", 400),
        ("labels.example", "labels.example:8000", 200),
        ("labels.example", "LABELS.example", 200),
        ("labels.example", "attacker.example:8000", 400),
        ("labels.example", "labels.example.attacker.example", 400),
    ],
)
def test_allow_remote_keeps_the_host_check(
    monkeypatch, project, allowed, host, answers
):
    options = {} if allowed is None else {"allowed_hosts": allowed}
    app = _app_served_on(
        monkeypatch, project, host="0.0.0.0", allow_remote=True, **options
    )
    try:
        client = TestClient(app, base_url="http://127.0.0.1:8000")
        response = client.get("/label", headers={"Host": host})
        assert response.status_code == answers
        if answers == 400:
            assert "--allowed-hosts" in response.text
            # A rebinding page posting to it is refused before anything else.
            response = client.post(
                "/label",
                data={"item_id": "x", "label": "positive"},
                headers={"Host": host, "Origin": f"http://{host}"},
            )
            assert response.status_code == 400
    finally:
        app.state.executor.shutdown(wait=True)
    assert database_rows(project, "SELECT COUNT(*) FROM events") == [(0,)]


def test_allowed_hosts_on_a_real_server_with_forged_host_headers(project):
    import httpx

    with BackgroundServer(project, allowed_hosts=["labels.example"]) as server:
        port = server.url.rsplit(":", 1)[1].strip("/")
        for host, expected in (
            (f"labels.example:{port}", 200),
            (f"127.0.0.1:{port}", 200),
            ("rebound.attacker.example", 400),
        ):
            response = httpx.get(server.url + "label", headers={"Host": host})
            assert response.status_code == expected, host
        named = f"http://labels.example:{port}"
        with httpx.Client(base_url=server.url, headers={"Host": named[7:]}) as client:
            token = csrf_of(client.get("/label").text)
            response = client.post(
                "/annotator",
                data={"csrf_token": token, "annotator": "Ann"},
                headers={"Origin": named},
            )
            assert response.status_code == 303


@pytest.mark.parametrize(
    "value", ["*", "http://labels.example/", "labels.example/x", "", "a b", "a,,b"]
)
def test_allowed_hosts_must_be_host_names(project, value):
    from allsh_sklearn.web._security import check_allowed_hosts

    with pytest.raises(ValueError, match="'allowed_hosts' parameter"):
        check_allowed_hosts(value)
    with pytest.raises(ValueError, match="'allowed_hosts' parameter"):
        serve(project, port=0, allowed_hosts=value)


def test_cli_passes_allowed_hosts_to_serve(monkeypatch, project, capsys):
    from allsh_sklearn.session._cli import main
    from allsh_sklearn.web import _serve

    given = {}
    monkeypatch.setattr(
        _serve, "serve", lambda project, **options: given.update(options)
    )
    command = ["serve", str(project), "--host", "127.0.0.1", "--port", "0"]
    assert main([*command, "--allowed-hosts", "labels.example, 192.0.2.7:80"]) == 0
    assert given["allowed_hosts"] == ("labels.example", "192.0.2.7")
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--allowed-hosts", "*.example"])
    assert exit_info.value.code == 2
    assert "Wildcards are not accepted" in capsys.readouterr().err


def test_a_locked_database_stalls_no_page_that_only_reads(project):
    """One thread holds the session's write lock: the status page still
    answers at once, and pages that must write say "busy" (503, Retry-After)
    after ``busy_timeout`` instead of holding up every browser."""
    import sqlite3
    import threading
    import time

    import httpx

    with BackgroundServer(project, busy_timeout=1.0) as server:
        origin = server.url.rstrip("/")
        client = httpx.Client(base_url=server.url, timeout=20)
        token = csrf_of(client.get("/label").text)
        headers = {"Origin": origin, "X-CSRF-Token": token}
        client.post("/annotator", data={"annotator": "Ann"}, headers=headers)
        item = shown_item(client.get("/label").text)
        holder = sqlite3.connect(project / "session.sqlite", timeout=0)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held by "another process"
        try:
            answers = []

            def label():
                answers.append(
                    client.post(
                        "/label",
                        data={"item_id": item, "label": "positive"},
                        headers={**headers, "X-Requested-With": "fetch"},
                    )
                )

            writers = [threading.Thread(target=label) for _ in range(6)]
            for thread in writers:
                thread.start()
            time.sleep(0.2)  # the labels are waiting for the lock now
            with httpx.Client(base_url=server.url, timeout=5) as reader:
                started = time.perf_counter()
                status = reader.get("/status")
                took = time.perf_counter() - started
            assert status.status_code == 200 and 'id="n-labeled"' in status.text
            assert took < 2.0, f"the status page took {took:.1f} s"
            for thread in writers:
                thread.join(30)
            assert [answer.status_code for answer in answers] == [503] * 6
            for busy in answers:
                assert busy.headers["retry-after"] == "1"
                assert "is busy" in busy.text
            page = client.get("/label")  # showing a text claims it: a write
            assert page.status_code == 503 and page.headers["retry-after"] == "1"
            assert "The session is busy" in page.text
        finally:
            holder.rollback()
            holder.close()
        response = client.post(
            "/label",
            data={"item_id": item, "label": "positive"},
            headers={**headers, "X-Requested-With": "fetch"},
        )
        assert response.status_code == 200
        client.close()
    assert labels_in_db(project)  # stored once the lock was let go
    assert database_rows(
        project, "SELECT COUNT(*) FROM events WHERE kind = 'label'"
    ) == [(1,)]


def test_labels_do_not_read_the_whole_batch_again(tmp_path, monkeypatch):
    from allsh_sklearn.web import _backend

    project = make_project(tmp_path / "p", batch_size=12)
    app = create_app(project)
    session = app.state.backend.session
    reads = []
    original = session.current_batch
    monkeypatch.setattr(session, "current_batch", lambda: reads.append(1) or original())
    try:
        browser = Browser(app, "Ann")
        page = browser.page()
        for done in range(1, 9):
            page = browser.post(
                "/label",
                fetch=True,
                item_id=shown_item(page),
                label=truth(_unescape(shown_text(page))),
            ).text
            assert f'max="12" value="{done}"' in page
        browser.post("/skip", fetch=True, item_id=shown_item(page))
        page = browser.post("/undo", fetch=True).text
        assert 'value="8"' in page
        assert len(reads) == 1, "the open batch was read again for a label"
        # Labels from another process are counted at the next full read.
        other = LabelingSession.open(project, progress=False)
        item = other.next_item("Bob")
        other.label(item.item_id, "positive", annotator="Bob")
        other.close()
        monkeypatch.setattr(_backend, "RESYNC_SECONDS", 0.0)
        assert 'max="12" value="9"' in browser.page()
    finally:
        app.state.executor.shutdown(wait=True)


def test_retrain_from_the_labeling_page_comes_back_to_the_next_text(app, project):
    browser, page = label_the_open_batch(app)
    assert 'name="then" value="label"' in page
    response = browser.post("/retrain", then="label")
    assert response.status_code == 303
    assert response.headers["location"] == "/label"
    page = browser.page()  # while it retrains, or after
    assert 'id="batch-done"' in page or "in batch 2" in page
    app.state.retrain_job.join(60)
    page = browser.page()
    assert "in batch 2" in page and shown_item(page)
    # The same from the page's script: the answer names where to go next.
    response = browser.post("/retrain", fetch=True, then="label", batch_size="2")
    assert response.status_code == 202 and response.json()["next"] == "/label"
    app.state.retrain_job.join(60)
    response = browser.post("/retrain", fetch=True, batch_size="2")
    assert response.json()["next"] == "/status"
    app.state.retrain_job.join(60)


def test_a_missing_web_module_is_named(monkeypatch, project, capsys):
    import sys

    from allsh_sklearn.session._cli import main
    from allsh_sklearn.web import _serve

    monkeypatch.setitem(sys.modules, "itsdangerous", None)
    for name in ("starlette.middleware.sessions", "allsh_sklearn.web._app"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError) as error:
        _serve.create_app(project)
    assert str(error.value).startswith(
        "The labeling page needs the Python module 'itsdangerous', which is not "
        "installed: pip install itsdangerous"
    )
    assert main(["serve", str(project), "--port", "0"]) == 1
    stderr = capsys.readouterr().err
    assert (
        "allsh-label serve: error: The labeling page needs the Python module "
        "'itsdangerous'" in stderr
    )
    assert "Traceback" not in stderr


def test_answers_are_not_held_back_by_nagles_algorithm(project):
    """Each connection has TCP_NODELAY: without it, every answer's body
    waited for the client's delayed ACK (about 40 ms per request)."""
    import socket

    import httpx

    with BackgroundServer(project) as server:
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/label").status_code == 200  # kept alive
            connections = list(server._server.uvicorn.server_state.connections)
            assert connections
            for connection in connections:
                sock = connection.transport.get_extra_info("socket")
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
