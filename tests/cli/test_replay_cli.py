"""`sagatui replay` and `sagatui export` through the real CLI."""

import json


def test_replay_a_run_then_its_exported_session(sagatui, tmp_path):
    db = str(tmp_path / "r.db")
    assert sagatui("run", "ecommerce", "--scenario", "load_with_outages", "--db", db, "--quiet").code == 0
    replayed = sagatui("replay", db)
    assert replayed.code == 0, replayed.out + replayed.err
    assert replayed.out.startswith("identical: ")
    session = tmp_path / "load.json"
    assert sagatui("export", db, "--run", "1", "-o", str(session)).code == 0
    document = json.loads(session.read_text())
    assert document["format"] == "sagatui-session/1" and document["seed"] == 1
    assert sagatui("replay", str(session)).code == 0


def test_replay_shows_the_first_divergence_and_exits_1(sagatui, tmp_path):
    db = str(tmp_path / "r.db")
    assert sagatui("run", "payments", "--scenario", "carrier_failing", "--db", db, "--quiet").code == 0
    session = tmp_path / "s.json"
    assert sagatui("export", db, "-o", str(session)).code == 0
    document = json.loads(session.read_text())
    document["pack_text"] = document["pack_text"].replace("initial_delay: 500ms", "initial_delay: 700ms")
    del document["pack_hash"]  # an edited pack: its hash would no longer match (and be refused)
    session.write_text(json.dumps(document))
    result = sagatui("replay", str(session))
    assert result.code == 1
    assert "first divergence at event index" in result.out and "expected:" in result.out and "got:" in result.out


def test_replay_of_a_missing_run_is_bad_input(sagatui, tmp_path):
    db = str(tmp_path / "r.db")
    assert sagatui("run", "payments", "--db", db, "--quiet").code == 0
    result = sagatui("replay", db, "--run", "99")
    assert result.code == 2 and "has no run 99" in result.err
