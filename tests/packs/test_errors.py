"""Each class of pack error names the file, the line and the field, with a message a user can act on."""

import pytest
import yaml

from sagatui.packs import located_yaml
from sagatui.packs.errors import PackError, PackProblem
from sagatui.packs.loader import load_pack, load_pack_text
from sagatui.packs.model import Pack

FILE = "scenarios/shop.yaml"

# A small valid pack; tests change one numbered line (1-based) and expect a problem there.
LINES = [
    "name: shop",                                  # 1
    "services:",                                   # 2
    "  inventory:",                                # 3
    "    kind: inventory",                         # 4
    "    options: {stock: {LAPTOP-001: 5}}",       # 5
    "  payment:",                                  # 6
    "    kind: payment",                           # 7
    "breakers:",                                   # 8
    "  gateway: {open_duration: 2s}",              # 9
    "sagas:",                                      # 10
    "  order:",                                    # 11
    "    steps:",                                  # 12
    "      - name: reserve",                       # 13
    "        action: inventory.reserve",           # 14
    "        compensation: inventory.release",     # 15
    "      - name: charge",                        # 16
    "        action: payment.charge",              # 17
    "        compensation: payment.refund",        # 18
    "        breaker: gateway",                    # 19
    "        retry: {initial_delay: 200ms}",       # 20
    "scenarios:",                                  # 21
    "  happy:",                                    # 22
    "    description: it works",                   # 23
    "    saga: order",                             # 24
    "    inputs: [{items: {LAPTOP-001: 1}}]",      # 25
    "    expect: {statuses: [completed]}",         # 26
]


def pack_text(replace: dict[int, str] | None = None, insert_after: dict[int, str] | None = None) -> str:
    lines = []
    for number, line in enumerate(LINES, start=1):
        lines.append((replace or {}).get(number, line))
        if number in (insert_after or {}):
            lines.append(insert_after[number])
    return "\n".join(lines) + "\n"


def problems(text: str) -> tuple[PackProblem, ...]:
    with pytest.raises(PackError) as raised:
        load_pack_text(text, FILE)
    return raised.value.problems


def only_problem(text: str) -> PackProblem:
    found = problems(text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def assert_problem(problem: PackProblem, line: int, field: str, *fragments: str) -> None:
    assert (problem.file, problem.line, problem.field) == (FILE, line, field), str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
    assert str(problem).startswith(f"{FILE}:{line}: {field}: " if field else f"{FILE}:{line}: ")


def test_the_base_pack_is_valid():
    pack = load_pack_text(pack_text(), FILE)
    assert isinstance(pack, Pack)
    assert pack.sagas["order"].name == "order"  # named by its key
    assert pack.sagas["order"].all_steps()[1].retry.initial_delay == pytest.approx(0.2)


def test_unknown_field_suggests_the_known_one():
    problem = only_problem(pack_text({20: "        retyr: {initial_delay: 200ms}"}))
    assert_problem(problem, 20, "sagas.order.steps[1].retyr", "unknown field 'retyr'", "did you mean 'retry'?")


def test_unknown_field_far_from_any_lists_the_allowed_ones():
    problem = only_problem(pack_text({23: "    colour: blue"}))
    assert_problem(problem, 23, "scenarios.happy.colour", "unknown field 'colour'", "allowed here:", "faults")


def test_unknown_service():
    problem = only_problem(pack_text({17: "        action: paymnt.charge"}))
    assert_problem(problem, 17, "sagas.order.steps[1].action",
                   "paymnt.charge: there is no service 'paymnt'; did you mean 'payment'?",
                   "(services: inventory, payment)")


def test_unknown_operation():
    problem = only_problem(pack_text({17: "        action: payment.chrge"}))
    assert_problem(problem, 17, "sagas.order.steps[1].action",
                   "payment.chrge is not an operation of service payment (payment has: charge, refund)")


def test_compensation_naming_a_missing_operation_reads_as_documented():
    problem = only_problem(pack_text({18: "        compensation: payment.refnd"}))
    assert str(problem) == (f"{FILE}:18: sagas.order.steps[1].compensation: payment.refnd is not an operation "
                            f"of service payment (payment has: charge, refund)")


def test_duplicate_step_name_points_at_the_second_use():
    problem = only_problem(pack_text({16: "      - name: reserve"}))
    assert_problem(problem, 16, "sagas.order.steps[1].name", "duplicate step name 'reserve'")


def test_duplicate_step_name_inside_a_parallel_group():
    text = pack_text({16: "      - name: both", 17: "        parallel:", 18: "          - {name: charge, action: "
                      "payment.charge}", 19: "          - {name: reserve, action: payment.charge}",
                      20: "        on_failure: cancel"})
    assert_problem(only_problem(text), 19, "sagas.order.steps[1].parallel[1].name", "duplicate step name 'reserve'")


def test_missing_breaker():
    problem = only_problem(pack_text({19: "        breaker: gatway"}))
    assert_problem(problem, 19, "sagas.order.steps[1].breaker", "there is no breaker 'gatway'", "(breakers: gateway)")


def test_service_breaker_must_exist_too():
    problem = only_problem(pack_text(insert_after={7: "    breaker: carrier"}))
    assert_problem(problem, 8, "services.payment.breaker", "there is no breaker 'carrier'")


def test_unknown_saga_in_a_scenario():
    problem = only_problem(pack_text({24: "    saga: ordr"}))
    assert_problem(problem, 24, "scenarios.happy.saga", "there is no saga 'ordr'", "did you mean 'order'?")


def test_bad_duration():
    problem = only_problem(pack_text({20: "        retry: {initial_delay: 2 seconds}"}))
    assert_problem(problem, 20, "sagas.order.steps[1].retry.initial_delay", "'2 seconds' is not a duration",
                   "150ms")


def test_bad_yaml_syntax_names_the_line():
    problem = only_problem(pack_text({14: "        action: [inventory.reserve"}))
    assert problem.file == FILE and problem.field == ""
    assert problem.line == 15  # where the unclosed list ran into the next key
    assert problem.message.startswith("YAML syntax: ")
    assert "started at line 14" in problem.message


def test_bad_indentation_is_a_syntax_error_on_its_line():
    problem = only_problem(pack_text({15: "       compensation: inventory.release"}))
    assert (problem.line, problem.field) == (15, "")
    assert problem.message.startswith("YAML syntax: ")


def test_duplicate_key():
    problem = only_problem(pack_text(insert_after={14: "        action: inventory.release"}))
    assert_problem(problem, 15, "sagas.order.steps[0].action", "duplicate key 'action'", "first written at line 14")


def test_wrong_type_in_the_pack():
    problem = only_problem(pack_text({25: "    inputs: true"}))
    assert_problem(problem, 25, "scenarios.happy.inputs", "expected a list, got true")


def test_wrong_type_in_service_options():
    problem = only_problem(pack_text({5: "    options: {stock: {LAPTOP-001: many}}"}))
    assert_problem(problem, 5, "services.inventory.options.stock.LAPTOP-001", "expected a whole number, got 'many'")


def test_missing_field_points_at_its_mapping():
    problem = only_problem(pack_text({17: "        description: charge the card"}))
    assert_problem(problem, 16, "sagas.order.steps[1]", "a step needs an `action` (service.operation) or an "
                   "`approval`, exactly one")


def test_unknown_service_kind_and_unknown_option():
    found = problems(pack_text({7: "    kind: paymnet", 5: "    options: {stok: {LAPTOP-001: 5}}"}))
    assert_problem(found[0], 5, "services.inventory.options.stok", "unknown field 'stok'", "did you mean 'stock'?")
    assert_problem(found[1], 7, "services.payment.kind", "there is no service kind 'paymnet'",
                   "did you mean 'payment'?")


def test_fault_schedule_names_an_existing_service():
    text = pack_text(insert_after={25: "    faults: [{at: 1s, service: shipping, profile: {mode: offline}}]"})
    assert_problem(only_problem(text), 26, "scenarios.happy.faults[0].service", "there is no service 'shipping'")


def test_default_scenario_must_exist():
    problem = only_problem(pack_text(insert_after={1: "default_scenario: sad"}))
    assert_problem(problem, 2, "default_scenario", "there is no scenario 'sad'", "(scenarios: happy)")


def test_saga_name_written_beside_its_key_must_agree():
    problem = only_problem(pack_text(insert_after={11: "    name: purchase"}))
    assert_problem(problem, 12, "sagas.order.name", "named 'purchase'", "under the key 'order'")


def test_expected_statuses_match_the_number_of_sagas():
    problem = only_problem(pack_text({26: "    expect: {statuses: [completed, failed]}"}))
    assert_problem(problem, 26, "scenarios.happy.expect.statuses", "lists 2 statuses", "starts 1 sagas")


def test_expected_compensation_order_names_steps_of_the_saga():
    problem = only_problem(pack_text({26: "    expect: {compensation_order: [charge, refund]}"}))
    assert_problem(problem, 26, "scenarios.happy.expect.compensation_order[1]", "'refund' is not a step of saga order")


def test_a_fallback_must_be_undoable_like_its_step():
    text = pack_text(insert_after={19: "        fallbacks: [inventory.reserve]"})
    assert_problem(only_problem(text), 20, "sagas.order.steps[1].fallbacks[0]",
                   "inventory.reserve would be undone by inventory.refund")


def test_yaml_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "ran"
    text = pack_text({23: f"    description: !!python/object/apply:os.system ['touch {marker}']"})
    assert_problem(only_problem(text), 23, "scenarios.happy.description", "YAML tag !!python/object/apply:os.system",
                   "not allowed")
    assert not marker.exists()


def test_every_problem_is_reported_in_line_order():
    text = pack_text({24: "    saga: ordr", 17: "        action: payment.chrge", 9: "  gateway: {open_duration: soon}"})
    found = problems(text)
    assert [(problem.line, problem.field) for problem in found] == [
        (9, "breakers.gateway.open_duration"), (17, "sagas.order.steps[1].action"), (24, "scenarios.happy.saga")]
    error = PackError(found)
    assert str(error).splitlines() == [str(problem) for problem in found]
    assert (error.file, error.line, error.field) == (FILE, 9, "breakers.gateway.open_duration")


def test_an_empty_file_and_a_missing_file(tmp_path):
    assert_problem(only_problem(""), 1, "", "the file is empty")
    with pytest.raises(PackError) as raised:
        load_pack(tmp_path / "absent.yaml")
    assert raised.value.line is None
    assert str(raised.value).startswith(f"{tmp_path / 'absent.yaml'}: cannot read the pack")


def test_anchors_aliases_and_merge_keys_are_plain_data():
    text = pack_text({20: "        retry: {<<: *patient, max_attempts: 2}"},
                     insert_after={15: "        retry: &patient {initial_delay: 200ms, max_attempts: 5}"})
    reserve, charge = load_pack_text(text, FILE).sagas["order"].all_steps()
    assert (reserve.retry.max_attempts, reserve.retry.initial_delay) == (5, pytest.approx(0.2))
    assert (charge.retry.max_attempts, charge.retry.initial_delay) == (2, pytest.approx(0.2))


@pytest.mark.parametrize("value", ["9" * 5001, "-" + "9" * 30, "0x" + "f" * 20, ".inf", "-.inf", ".nan", "1.0e+999"])
def test_numbers_a_pack_cannot_hold_are_refused_at_their_line(value):
    problem = only_problem(pack_text({25: f"    inputs: [{{items: {{LAPTOP-001: {value}}}}}]"}))
    assert_problem(problem, 25, "scenarios.happy.inputs[0].items.LAPTOP-001", "is not a number a pack can hold")
    assert len(str(problem)) < 300


@pytest.fixture(params=["libyaml", "python"])
def yaml_reader(request, monkeypatch):
    """Either YAML reader: PyYAML's libyaml binding, or its pure-Python one where libyaml is missing."""
    if request.param == "python":
        monkeypatch.setattr(located_yaml, "_LOADER", yaml.SafeLoader)
    return request.param


@pytest.mark.parametrize("escape", ["\\ud83d", "\\ude00", "\\ud83d\\ude00"])
@pytest.mark.parametrize("where", ["    description: \"{}\"", "    \"{}\": 1"])
def test_surrogate_escapes_are_refused_at_their_line(escape, where, yaml_reader):
    found = problems(pack_text({23: where.format(escape)}))
    assert found[0].line == 23, "\n".join(map(str, found))
    assert "escape" in found[0].message


def test_a_lone_surrogate_in_text_given_directly_is_refused_at_its_line(yaml_reader):
    problem = only_problem(pack_text({23: "    description: \ud83d"}))
    assert (problem.line, problem.field) == (23, "")
    assert "UTF-16" in problem.message or "special characters are not allowed" in problem.message


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "shop.yaml"
    path.write_bytes(pack_text().replace("it works", "it w\xf6rks").encode("latin-1"))
    with pytest.raises(PackError) as raised:
        load_pack(path)
    assert (raised.value.line, raised.value.field) == (23, "")
    assert "not UTF-8 text" in raised.value.message and "0xf6" in raised.value.message


@pytest.mark.parametrize("nesting", ["[" * 20_000 + "]" * 20_000, "{a: " * 20_000 + "}" * 20_000])
def test_deep_flow_nesting_is_refused_with_a_line(nesting):
    problem = only_problem(pack_text({23: f"    description: {nesting}"}))
    assert problem.line == 23
    assert "nest" in problem.message


def test_deep_block_nesting_is_refused_with_a_line():
    block = "\n".join("  " * (depth + 2) + "-" for depth in range(20_000))
    found = problems(pack_text({23: "    description:\n" + block}))
    assert all(problem.line is not None and problem.line > 23 for problem in found), "\n".join(map(str, found))


def test_nesting_within_the_parser_limit_is_refused_at_the_first_level_too_deep():
    problem = only_problem(pack_text({25: "    inputs: [{items: {LAPTOP-001: 1}, deep: " + "[" * 60 + "]" * 60 + "}]"}))
    assert_problem(problem, 25, "scenarios.happy.inputs[0].deep" + "[0]" * 46, "nested more than 50 levels deep")


def test_aliases_that_expand_enormously_are_refused_with_a_line():
    laughs = ["    inputs: &l0 [{items: {LAPTOP-001: 1}}]"]
    laughs += [f"    l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]" for level in range(1, 7)]
    found = problems(pack_text({25: "\n".join(laughs)}))
    assert any("aliases expand the document to more than" in problem.message for problem in found)
    assert all(problem.line is not None for problem in found)


def test_an_alias_inside_its_own_anchor_and_an_undefined_alias():
    found = problems(pack_text({25: "    inputs: &loop [{items: {LAPTOP-001: 1}}, *loop]", 24: "    saga: *nowhere"}))
    assert_problem(found[1], 25, "scenarios.happy.inputs[1]", "an alias refers to a value that contains it")
    assert_problem(found[0], 24, "scenarios.happy.saga", "there is no anchor &nowhere")
    assert len(found) == 2


def test_a_second_document_is_a_syntax_error():
    problem = only_problem(pack_text() + "---\nname: other\n")
    assert (problem.line, problem.field) == (27, "")
    assert "another document" in problem.message


def test_a_large_pack_reports_its_one_typo_at_its_line():
    inputs = "\n".join(f"      - {{items: {{LAPTOP-001: 1}}, customer: {{tier: gold, id: c{index}}}}}"
                       for index in range(49_000))
    text = pack_text({25: "    inputs:\n" + inputs, 26: "    expect: {invariants: [all_terminal]}"},
                     insert_after={26: "    colour: blue"})
    assert len(text) > 3_000_000
    assert_problem(only_problem(text), 49_027, "scenarios.happy.colour", "unknown field 'colour'")


@pytest.mark.parametrize(("line", "text", "field", "fragment"), [
    (5, "    options: {stock: {LAPTOP-001: -1}}", "services.inventory.options.stock.LAPTOP-001",
     "expected a number at least 0, got -1"),
    (9, "  gateway: {open_duration: 2s, window_size: 0}", "breakers.gateway.window_size", "at least 1"),
    (9, "  gateway: {open_duration: -2}", "breakers.gateway.open_duration", "cannot be negative"),
    (9, "  gateway: {slow_call_duration: 0s}", "breakers.gateway.slow_call_duration", "more than 0"),
    (20, "        retry: {multiplier: 1000}", "sagas.order.steps[1].retry.multiplier", "at most 100"),
    (20, "        retry: {attempt_timeout: 0}", "sagas.order.steps[1].retry.attempt_timeout", "more than 0"),
    (20, "        retry: {multiplier: 'inf'}", "sagas.order.steps[1].retry.multiplier", "expected a finite number"),
    (20, "        retry: {initial_delay: 99999999999999999999999999999999999999999999999999999999999999999999999999"
         "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "99999999999999999999999999999999999999999999999h}",
     "sagas.order.steps[1].retry.initial_delay", "expected a finite number"),
    (26, "    expect: {max_retries: -1}", "scenarios.happy.expect.max_retries", "at least 0"),
    (26, "    expect: {breaker_trips: -3}", "scenarios.happy.expect.breaker_trips", "at least 0"),
    (26, "    expect: {counts: {completed: -1}}", "scenarios.happy.expect.counts.completed", "at least 0"),
    (23, "    faults: [{at: 1s, service: payment, profile: {mode: flapping, period: 0}}]",
     "scenarios.happy.faults[0].profile.period", "more than 0"),
])
def test_numbers_out_of_range_are_refused(line, text, field, fragment):
    assert_problem(only_problem(pack_text({line: text})), line, field, fragment)


@pytest.mark.parametrize(("value", "fragment"), [(".inf", "is not a number a pack can hold"),
                                                  ("'nan'", "expected a finite number"),
                                                  ("0", "more than 0"), ("1e12", "at most 1000000")])
def test_workload_weights_are_finite_and_bounded(value, fragment):
    workload = (f"    workload: {{count: 3, variations: [{{weight: {value}, input: {{items: {{LAPTOP-001: 1}}}}}}, "
                f"{{weight: 1e6, input: {{items: {{LAPTOP-001: 1}}}}}}]}}")
    text = pack_text({25: workload, 26: "    expect: {counts: {completed: 3}}"})
    assert_problem(only_problem(text), 25, "scenarios.happy.workload.variations[0].weight", fragment)


def test_a_compensation_is_an_operation_of_its_steps_service():
    text = pack_text({15: "        compensation: orders.cancel"}, insert_after={7: "  orders:\n    kind: orders"})
    assert_problem(only_problem(text), 17, "sagas.order.steps[0].compensation",
                   "orders.cancel cannot undo inventory.reserve", "an operation of inventory")


def test_a_fallbacks_own_compensation_is_an_operation_of_the_fallbacks_service():
    fallback = "        fallbacks: [{action: inventory.reserve, compensation: payment.refund}]"
    text = pack_text(insert_after={19: fallback})
    assert_problem(only_problem(text), 20, "sagas.order.steps[1].fallbacks[0].compensation",
                   "payment.refund cannot undo inventory.reserve", "an operation of inventory")


def test_a_list_of_invariants_holding_a_list_is_a_pack_error():
    """Found by the mutation property run: `invariants: [[], ...]` raised a TypeError, not a PackError."""
    with pytest.raises(PackError) as raised:
        load_pack_text(pack_text({26: "    expect: {invariants: [[], all_terminal]}"}), "p.yaml")
    assert any(problem.field.startswith("scenarios.happy.expect.invariants") for problem in raised.value.problems)
