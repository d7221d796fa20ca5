"""The labeling page in a real browser: Debian's Chromium driven by Selenium.

Each test starts the page on a fresh session (a uvicorn server on
127.0.0.1 and a free port, in a background thread), works it with the
keyboard or the mouse as an annotator would, and reads the session's
database afterwards. Chromium runs headless from /usr/bin/chromium through
/usr/bin/chromedriver (Debian's packages, installed by tools/setup.sh);
nothing is downloaded. Without them the tests are skipped.

The screenshots of the user guide are taken here: run with
``ALLSH_UPDATE_SCREENSHOTS=1`` to write them into ``docs/_static/web/``
(otherwise they go to a temporary folder and are only checked).
"""

import os
import shutil
import tempfile
import threading
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from _session_data import (  # noqa: E402
    database_rows,
    labels_by_text,
    texts_project,
)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from allsh_sklearn.session import LabelingSession  # noqa: E402
from allsh_sklearn.web import BackgroundServer  # noqa: E402
from allsh_sklearn.web._browser import (  # noqa: E402
    CHROMEDRIVER,
    CHROMIUM,
    browser_available,
    headless_chromium,
)

if not browser_available():
    pytest.skip(
        f"Chromium or ChromeDriver not found ({CHROMIUM}, {CHROMEDRIVER}): install "
        "Debian's chromium and chromium-driver (tools/setup.sh does, as root)",
        allow_module_level=True,
    )

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "_static" / "web"
SCRIPT = "<script>alert(1)</script>"
LABELS = ["negative", "positive"]

# Short film reviews written for these tests, with the label a careful
# annotator gives them.
REVIEWS = {
    "A warm, funny film with a cast that clearly enjoyed making it.": "positive",
    "The script is sharp and the final scene stayed with me for days.": "positive",
    "Beautifully shot, and the music carries every quiet moment.": "positive",
    "One of the most moving stories I have seen this year.": "positive",
    "The lead actor is superb and the pacing never drags.": "positive",
    "Clever, tender and surprisingly honest about growing old.": "positive",
    "A delightful comedy that earns every one of its laughs.": "positive",
    "The dialogue sparkles and the ending is perfectly judged.": "positive",
    "An inventive thriller that keeps you guessing until the end.": "positive",
    "Great performances lift a simple story into something special.": "positive",
    "A dull, overlong film that forgets its own plot halfway through.": "negative",
    "The jokes fall flat and the characters are thin as paper.": "negative",
    "Two hours of noise with nothing to say.": "negative",
    "The acting is wooden and the script is a mess of clichés.": "negative",
    "A tedious sequel that nobody asked for.": "negative",
    "Poorly edited, badly lit and far too long.": "negative",
    "The twist is obvious from the first scene and the rest is boring.": "negative",
    "I checked my watch every ten minutes; a tiresome, empty film.": "negative",
    "The cast deserves better than this lazy, predictable story.": "negative",
    "A weak remake that misses everything the original got right.": "negative",
}


def truth(text):
    return REVIEWS.get(text, "negative")


def make_project(folder, texts=None, *, batch_size=6, **params):
    params.setdefault("stop_set_size", 10)
    texts = list(REVIEWS) if texts is None else texts
    return texts_project(folder, texts, labels=LABELS, batch_size=batch_size, **params)


rows = database_rows
current_labels = labels_by_text


def label_events_per_item(project):
    return dict(
        rows(
            project,
            "SELECT item, COUNT(*) FROM events WHERE kind = 'label' AND undone = 0 "
            "GROUP BY item",
        )
    )


@pytest.fixture(scope="module")
def drivers():
    """Two headless Chromiums (two annotators), started once for this module."""
    started, profiles = [], []
    for _ in range(2):
        profiles.append(tempfile.mkdtemp(prefix="allsh-chromium-"))
        started.append(headless_chromium(profiles[-1], page_load_timeout=30))
    yield started
    for driver in started:
        driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(drivers):
    driver = drivers[0]
    driver.delete_all_cookies()
    return driver


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


@pytest.fixture
def server(project):
    with BackgroundServer(project) as running:
        yield running


# Working the page -------------------------------------------------------------------


def open_page(driver, server, name, path="label"):
    driver.get(server.url + path)
    field = driver.find_element(By.ID, "annotator")
    field.clear()
    field.send_keys(name, Keys.ENTER)
    WebDriverWait(driver, 10).until(
        lambda d: (
            d.find_elements(By.ID, "current") or d.find_elements(By.ID, "batch-done")
        )
    )
    driver.find_element(By.TAG_NAME, "body").click()


def shown(driver):
    """(item id, text) shown, (None, None) when the batch is done."""
    return driver.execute_script(
        "const c = document.querySelector('#item [data-item-id]');"
        "const t = document.getElementById('text');"
        "return [c ? (c.dataset.itemId || null) : null, t ? t.textContent : null];"
    )


def press(driver, key, *, control=False):
    """Press a key on the page and wait until its answer is on screen."""
    before = driver.execute_script("return window.allshTimings.length")
    if control:
        chain = ActionChains(driver).key_down(Keys.CONTROL).send_keys(key)
        chain.key_up(Keys.CONTROL).perform()
    else:
        ActionChains(driver).send_keys(key).perform()
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return window.allshTimings.length") > before
    )
    return driver.execute_script(
        "return window.allshTimings[window.allshTimings.length-1]"
    )


def key_for(label):
    return str(LABELS.index(label) + 1)


def label_shown(driver):
    item, text = shown(driver)
    timing = press(driver, key_for(truth(text)))
    return item, text, timing


def no_alert(driver):
    try:
        driver.switch_to.alert.text  # noqa: B018 - raises when there is no alert
    except NoAlertPresentException:
        return True
    return False


def screenshot(driver, name, tmp_path):
    folder = SCREENSHOTS if os.environ.get("ALLSH_UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    return path


# Tests ----------------------------------------------------------------------------


def test_label_a_batch_with_the_keyboard(browser, server, project):
    open_page(browser, server, "Ann")
    assert browser.find_element(By.ID, "progress-text").text == "Text 1 of 6 in batch 1"
    seen = []
    while shown(browser)[0]:
        item, text, timing = label_shown(browser)
        assert timing["trigger"] == "key" and timing["action"] == "label"
        seen.append((item, text))
    assert browser.find_elements(By.ID, "batch-done")
    assert len({item for item, _ in seen}) == 6
    assert current_labels(project) == {text: (truth(text), "Ann") for _, text in seen}
    assert rows(project, "SELECT DISTINCT source FROM events") == [("web",)]
    assert no_alert(browser)


def test_skip_and_undo_with_the_keyboard(browser, server, project):
    open_page(browser, server, "Ann")
    first, first_text, _ = label_shown(browser)
    second, _ = shown(browser)
    press(browser, "s")
    third, _ = shown(browser)
    assert third not in (first, second)
    assert rows(project, "SELECT COUNT(*) FROM item_state WHERE kind = 'skip'") == [
        (1,)
    ]

    press(browser, "u")
    assert shown(browser)[0] == second
    assert "Undid your skip" in browser.find_element(By.ID, "item-flash").text
    press(browser, "u")
    assert shown(browser)[0] == first
    assert rows(project, "SELECT COUNT(*) FROM item_state") == [(0,)]
    # Ctrl+Z is undo too: nothing is left to take back.
    press(browser, "z", control=True)
    assert "Nothing to undo" in browser.find_element(By.ID, "item-flash").text

    # Label the re-shown text with the other label this time.
    wrong = LABELS[1 - LABELS.index(truth(first_text))]
    press(browser, key_for(wrong))
    assert current_labels(project) == {first_text: (wrong, "Ann")}
    events = rows(project, "SELECT kind, undone FROM events ORDER BY event")
    assert events == [
        ("label", 1),
        ("skip", 1),
        ("undo", 0),
        ("undo", 0),
        ("label", 0),
    ]


def test_reload_mid_batch_loses_and_repeats_nothing(browser, server, project):
    open_page(browser, server, "Ann")
    labeled = [label_shown(browser)[1] for _ in range(2)]
    before = shown(browser)
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "current"))
    assert shown(browser) == before
    assert browser.find_element(By.ID, "progress-text").text == "Text 3 of 6 in batch 1"
    assert browser.find_element(By.ID, "batch-progress").get_attribute("value") == "2"
    while shown(browser)[0]:
        labeled.append(label_shown(browser)[1])
    assert len(labeled) == len(set(labeled)) == 6
    assert set(current_labels(project)) == set(labeled)
    assert set(label_events_per_item(project).values()) == {1}


def test_two_browsers_label_one_session_at_once(drivers, server, project):
    for driver in drivers:
        driver.delete_all_cookies()
    names = ["Ann", "Bob"]
    for driver, name in zip(drivers, names, strict=True):
        open_page(driver, server, name)
    assert shown(drivers[0])[0] != shown(drivers[1])[0]
    given = {name: [] for name in names}
    errors = []

    def annotate(driver, name):
        try:
            while shown(driver)[0]:
                given[name].append(label_shown(driver)[1])
        except Exception as error:  # reported below, with the thread's name
            errors.append(f"{name}: {error!r}")

    threads = [
        threading.Thread(target=annotate, args=(driver, name))
        for driver, name in zip(drivers, names, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert all(given.values()), given
    everything = given["Ann"] + given["Bob"]
    assert len(everything) == len(set(everything)) == 6
    stored = current_labels(project)
    assert stored == {
        text: (truth(text), name) for name in names for text in given[name]
    }
    assert set(label_events_per_item(project).values()) == {1}


def test_retrain_from_the_page_then_see_why_allsh_picked_a_text(
    browser, server, project
):
    open_page(browser, server, "Ann")
    while shown(browser)[0]:
        label_shown(browser)
    browser.find_element(By.LINK_TEXT, "Status").click()
    size = browser.find_element(By.ID, "batch-size")
    size.clear()
    size.send_keys("5")
    browser.find_element(By.ID, "retrain-button").click()
    WebDriverWait(browser, 60).until(
        lambda d: (
            d.find_elements(By.ID, "learning-curve")
            and "Round 1" in d.find_element(By.ID, "retrain-progress").text
        )
    )
    assert rows(project, "SELECT round, n_labeled FROM rounds") == [(1, 6)]
    assert rows(project, "SELECT batch, kind FROM batches ORDER BY batch") == [
        (1, "initial"),
        (2, "query"),
    ]
    assert rows(project, "SELECT COUNT(*) FROM batch_items WHERE batch = 2") == [(5,)]
    assert browser.find_element(By.ID, "n-labeled").text == "6"
    assert browser.execute_script(
        "const i = document.getElementById('learning-curve');"
        "return i.complete && i.naturalWidth > 0"
    )
    stopping = browser.find_element(By.ID, "stopping").text
    assert "uncertainty" in stopping and "stabilizing" in stopping

    browser.find_element(By.LINK_TEXT, "Label").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "why"))
    # Why it was picked, in words first: the card's first paragraph.
    sentence = browser.find_element(By.ID, "why-sentence")
    assert sentence.is_displayed() and sentence.text.startswith("The model ")
    assert "after replacing the highlighted words" in sentence.text
    first = browser.execute_script(
        "return document.querySelector('#why h2').nextElementSibling.id"
    )
    assert first == "why-sentence"
    copy = browser.find_element(By.ID, "augmented-copy")
    marked = copy.find_elements(By.TAG_NAME, "mark")
    assert marked, "no changed word is highlighted"
    assert "Divergence on this copy" in browser.find_element(By.ID, "divergence").text
    table = browser.find_element(By.ID, "why-proba").text
    assert "original" in table and "copy" in table
    assert browser.find_element(By.ID, "guess").text.startswith("The model's guess")

    # The queried batch is labeled from the keyboard like the first.
    item, text, _ = label_shown(browser)
    assert current_labels(project)[text] == (truth(text), "Ann")
    assert rows(
        project,
        "SELECT e.batch FROM events e JOIN items i ON i.item = e.item "
        "WHERE i.ext_id = ?",
        (item,),
    ) == [(2,)]


def test_retrain_from_the_labeling_page_lands_on_the_next_text(
    browser, server, project
):
    open_page(browser, server, "Ann")
    while shown(browser)[0]:
        label_shown(browser)
    browser.find_element(By.ID, "next-batch").click()
    # The page shows the retraining's progress, then the next batch's first
    # text, without going through the status page.
    WebDriverWait(browser, 90).until(
        lambda d: (
            d.find_elements(By.ID, "progress-text")
            and "in batch 2" in d.find_element(By.ID, "progress-text").text
        )
    )
    assert browser.current_url == server.url + "label"
    assert rows(project, "SELECT batch, kind FROM batches ORDER BY batch") == [
        (1, "initial"),
        (2, "query"),
    ]
    item, text, _ = label_shown(browser)
    assert current_labels(project)[text] == (truth(text), "Ann")


def test_a_script_in_a_text_shows_as_text(browser, tmp_path):
    project = make_project(
        tmp_path / "escaping",
        [SCRIPT, 'a <img src=x onerror="alert(2)"> review', *list(REVIEWS)[:4]],
        batch_size=6,
    )
    with BackgroundServer(project) as server:
        open_page(browser, server, "<b>Eve</b>")
        assert browser.find_element(By.ID, "annotator").get_attribute("value") == (
            "<b>Eve</b>"
        )
        texts = []
        while shown(browser)[0]:
            texts.append(shown(browser)[1])
            assert (
                browser.execute_script(
                    "return document.querySelectorAll('#item script, #item img').length"
                )
                == 0
            )
            assert no_alert(browser)
            press(browser, "1")
        assert SCRIPT in texts
        assert 'a <img src=x onerror="alert(2)"> review' in texts
        assert no_alert(browser)
        stored = current_labels(project)
        assert stored[SCRIPT] == ("negative", "<b>Eve</b>")
        assert len(stored) == 6


def full_page(driver):
    """Grow the window to the page's height (for a screenshot of all of it)."""
    height, chrome = driver.execute_script(
        "return [document.documentElement.scrollHeight,"
        " window.outerHeight - window.innerHeight]"
    )
    driver.set_window_size(1100, min(max(int(height + chrome) + 4, 600), 4000))


def test_screenshots_of_a_session_on_real_reviews(browser, data_home, tmp_path):
    """The user guide's pictures: SST-2 test sentences after four rounds."""
    from allsh_sklearn.datasets import load_dataset

    bunch = load_dataset("sst2", "test", data_home=data_home)
    names = list(bunch.target_names)
    truth_of = {
        text: names[y] for text, y in zip(bunch.data, bunch.target, strict=True)
    }
    project = tmp_path / "sst2-reviews"
    session = LabelingSession.create(
        project,
        pd.DataFrame({"text": bunch.data}),
        labels=names,
        classifier="tfidf-lr",  # ALLSH with the tier the pictures show
        strategy="allsh",
        batch_size=25,
        audit_fraction=0.2,
        stop_set_size=300,
        progress=False,
    )
    # Four rounds labeled by a scripted annotator through the session's API,
    # the fifth batch left open for the page.
    for _ in range(5):
        batch = session.next_batch()
        if len(session.rounds()) == 4:
            break
        for item in batch.items:
            session.label(item.item_id, truth_of[item.text], annotator="scripted")
    session.close()
    assert rows(project, "SELECT COUNT(*) FROM rounds") == [(4,)]
    try:
        with BackgroundServer(project) as server:
            open_page(browser, server, "Ann")
            # Label a few texts of the open batch first, as Ann would.
            for _ in range(3):
                item, text = shown(browser)
                press(browser, key_for(truth_of[text]))
            while not browser.find_elements(By.ID, "augmented-copy"):
                item, text = shown(browser)
                assert item, "no text of the batch has an ALLSH explanation"
                press(browser, key_for(truth_of[text]))
            assert browser.find_elements(By.CSS_SELECTOR, "#augmented-copy mark")
            assert browser.find_element(By.ID, "why-sentence").text.startswith(
                "The model "
            )
            full_page(browser)
            screenshot(browser, "labeling-page.png", tmp_path)

            browser.find_element(By.LINK_TEXT, "Status").click()
            WebDriverWait(browser, 10).until(
                lambda d: d.execute_script(
                    "const i = document.getElementById('learning-curve');"
                    "return i && i.complete && i.naturalWidth > 0"
                )
            )
            assert "%" in browser.find_element(By.ID, "audit-accuracy").text
            assert len(browser.find_elements(By.CSS_SELECTOR, "#rounds tbody tr")) == 4
            per_class = browser.find_elements(
                By.CSS_SELECTOR, "#per-class-table tbody tr"
            )
            assert [row.text.split()[0] for row in per_class] == names
            assert "%" in browser.find_element(By.ID, "macro-f1").text
            n_train = int(browser.find_element(By.ID, "n-labeled").text)
            n_audit = int(browser.find_element(By.ID, "n-audit").text)
            assert rows(
                project,
                "SELECT COUNT(*), COALESCE(SUM(i.role = 'audit'), 0) FROM item_state s "
                "JOIN items i ON i.item = s.item WHERE s.kind = 'label'",
            ) == [(n_train + n_audit, n_audit)]
            full_page(browser)
            screenshot(browser, "status-page.png", tmp_path)
    finally:
        browser.set_window_size(1100, 900)
    annotators = dict(
        rows(project, "SELECT annotator, COUNT(*) FROM events GROUP BY annotator")
    )
    assert annotators["Ann"] >= 3 and annotators["scripted"] == 100


def element_screenshot(element, name, tmp_path):
    """A screenshot of one element of the page (for the user guide)."""
    folder = SCREENSHOTS if os.environ.get("ALLSH_UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert element.screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    return path


def test_screenshot_of_why_a_news_text_was_picked(browser, data_home, tmp_path):
    """The user guide's pictures of "why was this picked" and of the per-class
    estimates on four classes: AG News test descriptions, three rounds
    labeled by a scripted annotator."""
    from allsh_sklearn.datasets import load_dataset
    from allsh_sklearn.session._why import why_sentence

    bunch = load_dataset("ag_news", "test", data_home=data_home)
    names = list(bunch.target_names)
    texts = list(bunch.data[:1200])
    truth_of = {
        text: names[y] for text, y in zip(texts, bunch.target[:1200], strict=True)
    }
    project = tmp_path / "news"
    session = LabelingSession.create(
        project,
        pd.DataFrame({"text": texts}),
        labels=names,
        classifier="tfidf-lr",  # ALLSH with the tier the pictures show
        strategy="allsh",
        batch_size=20,
        audit_fraction=0.1,
        stop_set_size=300,
        progress=False,
    )
    for _ in range(4):
        batch = session.next_batch()
        if len(session.rounds()) == 3:
            break
        for item in batch.items:
            session.label(item.item_id, truth_of[item.text], annotator="scripted")
    # The text the screenshot shows: the batch's ALLSH pick on which the
    # copy moved the model's label, or else its highest score.
    picks = [i for i in batch.items if i.explanation is not None]
    flips = [
        i
        for i in picks
        if session.why(i.item_id)["sentence"].count(" says ") == 1
        and "hesitates" in session.why(i.item_id)["sentence"]
    ]
    chosen = (flips or sorted(picks, key=lambda i: -i.score))[0]
    for item in batch.items:
        if item.item_id != chosen.item_id:
            session.label(item.item_id, truth_of[item.text], annotator="scripted")
    why = session.why(chosen.item_id)
    session.close()
    try:
        with BackgroundServer(project) as server:
            open_page(browser, server, "Ann")
            assert shown(browser)[0] == chosen.item_id
            card = browser.find_element(By.ID, "why")
            sentence = browser.find_element(By.ID, "why-sentence").text
            assert sentence == why_sentence(
                "allsh", why["proba"], copy_proba=why["copy_proba"]
            )
            assert browser.find_elements(By.CSS_SELECTOR, "#augmented-copy mark")
            browser.set_window_size(1000, 1400)
            element_screenshot(card, "why-picked.png", tmp_path)

            # The status page's per-class estimates, warnings first.
            browser.find_element(By.LINK_TEXT, "Status").click()
            WebDriverWait(browser, 10).until(
                lambda d: d.find_elements(By.ID, "per-class")
            )
            rows = browser.find_elements(By.CSS_SELECTOR, "#per-class-table tbody tr")
            assert [row.text.split()[0] for row in rows] == names
            warnings = browser.find_elements(By.CSS_SELECTOR, "#class-warnings li")
            stored = LabelingSession.open(project, progress=False)
            expected = stored.status().class_estimates["warnings"]
            stored.close()
            assert [w.text for w in warnings] == expected
            if warnings:
                box = browser.find_element(By.ID, "class-warnings")
                colour = box.value_of_css_property("background-color")
                assert colour not in ("rgba(0, 0, 0, 0)", "rgba(255, 255, 255, 1)")
            full_page(browser)
            card = browser.find_element(By.ID, "per-class")
            browser.execute_script("arguments[0].scrollIntoView()", card)
            element_screenshot(card, "per-class.png", tmp_path)
    finally:
        browser.set_window_size(1100, 900)
