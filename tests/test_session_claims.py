"""Who is shown which text: claims per annotator, per owner, and after an undo."""

from _session_data import create_session, make_pool


def _session(tmp_path):
    table, _ = make_pool(n=60)
    session = create_session(tmp_path / "project", table)
    session.next_batch()
    return session


def test_two_owners_under_one_name_are_given_different_texts(tmp_path):
    session = _session(tmp_path)
    first = session.next_item("ann", owner="browser-1")
    second = session.next_item("ann", owner="browser-2")
    assert first.item_id != second.item_id
    # each owner keeps its own text until it is labeled
    assert session.next_item("ann", owner="browser-1").item_id == first.item_id
    assert session.next_item("ann", owner="browser-2").item_id == second.item_id
    # without an owner, the annotator in this process is one claimant
    assert session.next_item("ann").item_id == session.next_item("ann").item_id


def test_an_undone_text_is_claimed_again_by_whoever_undid_it(tmp_path):
    session = _session(tmp_path)
    item = session.next_item("ann")
    session.label(item.item_id, "positive", annotator="ann")
    # labeled: the claim is gone, bob is given another text
    assert session.next_item("bob", claim=False).item_id != item.item_id
    undone = session.undo(annotator="ann")
    assert undone.item_id == item.item_id
    assert session.item(item.item_id).label is None
    # back to unlabeled and claimed for ann: bob is not given it, ann is
    assert session.next_item("bob").item_id != item.item_id
    assert session.next_item("ann").item_id == item.item_id
    session.label(item.item_id, "negative", annotator="ann")
    assert session.item(item.item_id).label == "negative"
    # an undo that falls back to an earlier label leaves no claim behind
    session.label(item.item_id, "positive", annotator="ann")
    session.undo(annotator="ann")
    assert session.item(item.item_id).label == "negative"
    assert session.next_item("carl", claim=False).item_id != item.item_id
