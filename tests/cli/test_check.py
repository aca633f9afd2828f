"""`sagatui check`: a broken pack names file, line and field, exits 2, and never shows a traceback."""

import pytest

BROKEN = {
    "unknown field": ("    retry: {max_attempts: 3}\n", "    retry: {max_attempts: 3, colour: red}\n",
                      "colour"),
    "unknown operation": ("compensation: payment.refund", "compensation: payment.refnd", "compensation"),
    "bad duration": ("initial_delay: 200ms", "initial_delay: soon", "initial_delay"),
    "huge integer": ("LAPTOP-001: 5", "LAPTOP-001: " + "9" * 5001, "LAPTOP-001"),
    "negative stock": ("LAPTOP-001: 5", "LAPTOP-001: -5", "LAPTOP-001"),
    "infinite weight": ("- weight: 6", "- weight: .inf", "weight"),
    "negative expectation": ("max_retries: 0", "max_retries: -1", "max_retries"),
    "compensation on another service": ("compensation: payment.refund", "compensation: inventory.restock",
                                        "compensation"),
    "surrogate escape": ("description: Warehouse stock;", 'description: "\\ud83d" #', ""),
    "reference to a field no result has": ("charge_payment.result.payment_id}", "charge_payment.result.paymnt_id}",
                                           "steps[3].params.payment_id"),
    "reference to a later step": ("items: {ref: steps.reserve_inventory.result.reserved}",
                                  "items: {ref: steps.send_confirmation.result.message_id}", "steps[2].params.items"),
    "malformed reference": ("{ref: steps.create_shipment.result.tracking_number}", "{ref: 'steps.create_shipment.'}",
                            "steps[3].params.tracking_number"),
}


@pytest.fixture
def pack_text():
    from sagatui.packs.bundled import bundled_pack_path

    return bundled_pack_path("ecommerce").read_text()


def test_bundled_packs_check_ok(sagatui):
    result = sagatui("check", "ecommerce", "payments", "travel", "resilience", "onboarding")
    assert result.code == 0
    assert result.out.count(": ok: ") == 5
    assert "shipping_outage_after_payment" in result.out


@pytest.mark.parametrize("case", ["unknown operation", "bad duration", "huge integer", "negative stock",
                                  "infinite weight", "negative expectation", "surrogate escape",
                                  "compensation on another service", "reference to a field no result has",
                                  "reference to a later step", "malformed reference"])
def test_broken_pack_names_file_line_and_field(sagatui, tmp_path, pack_text, case):
    old, new, field = BROKEN[case]
    assert old in pack_text
    broken = pack_text.replace(old, new, 1)
    line = broken[:broken.index(new)].count("\n") + 1
    path = tmp_path / "shop.yaml"
    path.write_text(broken)
    for command in (("check", str(path)), ("run", str(path))):
        result = sagatui(*command)
        assert result.code == 2, result
        assert result.err.startswith(f"sagatui: error: {path}:{line}: ")
        assert field in result.err.splitlines()[0]
        assert "Traceback" not in result.err
        assert len(result.err.splitlines()) == 1, result.err


def test_invalid_utf8_names_the_line(sagatui, tmp_path, pack_text):
    path = tmp_path / "shop.yaml"
    path.write_bytes(pack_text.replace("Warehouse stock", "Warehouse st\xf6ck", 1).encode("latin-1"))
    for command in ("check", "run"):
        result = sagatui(command, str(path))
        assert result.code == 2, result
        assert result.err.startswith(f"sagatui: error: {path}:19: cannot read the pack: not UTF-8 text")
        assert len(result.err.splitlines()) == 1, result.err


def test_yaml_syntax_error_names_the_line(sagatui, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nservices:\n  a: [unclosed\n")
    result = sagatui("check", str(path))
    assert result.code == 2 and f"{path}:" in result.err and "Traceback" not in result.err


def test_missing_pack_is_bad_input(sagatui):
    result = sagatui("run", "no-such-pack")
    assert result.code == 2
    assert "no bundled pack of that name" in result.err and "Traceback" not in result.err
