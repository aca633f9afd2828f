"""Pack and operator text reaches the terminal as plain text: Rich markup is shown literally, escape
sequences and other control characters are never written raw."""

from pathlib import Path

from tests.hostile_pack import HOSTILE_SCENARIO, write_hostile_pack

NOTE = "[/oops] refunded by hand \x1b]0;pwned\x07"


def assert_plain(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output, repr(output)
    assert "Traceback" not in output


def test_check_run_events_and_attention_write_no_escape_sequences(sagatui, tmp_path: Path) -> None:
    path = write_hostile_pack(tmp_path)
    check = sagatui("check", str(path))
    assert check.code == 0, check
    assert_plain(check.out + check.err)
    assert "shop [/x]" in check.out and f"{HOSTILE_SCENARIO} " in check.out and "refund down [/oops]" in check.out
    assert "line␤break" in check.out  # one line per scenario, whatever its description holds

    run = sagatui("run", str(path), "--scenario", "payment_declined", "--scenario", HOSTILE_SCENARIO,
                  "--verbose")
    assert run.code == 0, run
    assert_plain(run.out + run.err)
    assert "== shop [/x]" in run.out and "refund down [/oops]" in run.out

    for action, code in ((("list",), 1), (("show", "S-0001"), 0)):  # list: 1 while the inbox is not empty
        attention = sagatui("attention", *action)
        assert attention.code == code, attention
        assert_plain(attention.out + attention.err)

    resolve = sagatui("attention", "resolve", "S-0001", "--note", NOTE)
    assert resolve.code == 0, resolve
    assert_plain(resolve.out + resolve.err)
    assert "[/oops] refunded by hand" in resolve.out

    events = sagatui("events")
    assert events.code == 0, events
    assert_plain(events.out + events.err)
    assert "saga.resolved" in events.out and "[/oops] refunded by hand" in events.out


def test_a_pack_problem_in_a_hostile_name_is_one_plain_line(sagatui, tmp_path: Path) -> None:
    path = write_hostile_pack(tmp_path)
    text = path.read_text(encoding="utf-8")
    broken = f'"{HOSTILE_SCENARIO}\\e]0;pwned\\a\\n":\n    colour: red\n'  # and its name ends in a newline
    path.write_text(text.replace(f'"{HOSTILE_SCENARIO}":\n', broken), encoding="utf-8")
    check = sagatui("check", str(path))
    assert check.code == 2, check
    assert_plain(check.out + check.err)
    assert check.err.startswith("sagatui: error: ") and check.err.count("\n") == 1
    assert f"scenarios.{HOSTILE_SCENARIO}␛]0;pwned␇␤.colour: unknown field 'colour'" in check.err
