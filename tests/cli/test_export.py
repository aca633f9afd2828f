"""`sagatui export`: it never overwrites its source, replaces an existing file only with --force, and
writes the session whole or not at all."""

import json
import os
import shutil

import pytest

from sagatui.lab import replay


@pytest.fixture
def db(small_db, tmp_path):
    copied = tmp_path / "run.db"
    shutil.copy(small_db, copied)
    return copied


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink"])
def test_export_never_overwrites_its_source(sagatui, db, tmp_path, spelling):
    before = db.read_bytes()
    (tmp_path / "sub").mkdir()
    os.symlink(db, tmp_path / "link.db")
    target = {"same": str(db), "dotted": f"{tmp_path}/sub/../run.db", "symlink": str(tmp_path / "link.db")}[spelling]
    for force in ((), ("--force",)):
        result = sagatui("export", str(db), "-o", target, *force)
        assert result.code == 2 and "is the database it reads" in result.err, result
        assert len(result.err.splitlines()) == 1
    assert db.read_bytes() == before


def test_an_existing_file_is_replaced_only_with_force(sagatui, db, tmp_path):
    target = tmp_path / "out.json"
    target.write_text("keep me\n")
    refused = sagatui("export", str(db), "-o", str(target))
    assert refused.code == 2 and "--force" in refused.err and target.read_text() == "keep me\n"
    forced = sagatui("export", str(db), "-o", str(target), "--force")
    assert forced.code == 0, forced
    assert json.loads(target.read_text())["format"] == "sagatui-session/1"


@pytest.mark.parametrize(("target", "code", "words"), [
    ("{tmp}/no/such/folder/out.json", 2, "folder"), ("{tmp}", 2, "folder"), ("/dev/full", 2, "not a regular file"),
])
def test_a_target_that_cannot_be_written_is_one_line(sagatui, db, tmp_path, target, code, words):
    for force in ((), ("--force",)):
        result = sagatui("export", str(db), "-o", target.format(tmp=tmp_path), *force)
        assert result.code == code and words in result.err, result
        assert len(result.err.splitlines()) == 1 and result.err.startswith("sagatui: error: ")


def test_a_failed_write_leaves_the_old_file_and_no_half_file(sagatui, db, tmp_path, monkeypatch):
    session = tmp_path / "first.json"
    assert sagatui("export", str(db), "-o", str(session)).code == 0
    recording = replay.recording_from_session(session)
    target = tmp_path / "out" / "kept.json"
    target.parent.mkdir()
    target.write_text("the old session\n")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        replay.write_session(recording, target)
    assert target.read_text() == "the old session\n"
    assert [path.name for path in target.parent.iterdir()] == ["kept.json"]
