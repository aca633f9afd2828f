"""A fault may aim at some operations of a service only (`operations: [refund]`): those calls fail, the
service's other operations go on working; an operation the service does not have is a load-time error."""

import json

PACK = """\
name: refunds
services:
  inventory: {kind: inventory, options: {stock: {MOUSE-001: 5}}}
  payment: {kind: payment}
  shipping: {kind: shipping, options: {restricted_regions: [antarctica]}}
sagas:
  order:
    steps:
      - {name: reserve, action: inventory.reserve, compensation: inventory.release}
      - {name: charge, action: payment.charge, compensation: payment.refund,
         compensation_retry: {max_attempts: 2, initial_delay: 10ms}}
      - {name: ship, action: shipping.create_shipment, compensation: shipping.cancel_shipment}
scenarios:
  refunds_down:
    description: the refund operation alone is down; charging works
    saga: order
    faults:
      - {at: 0s, service: payment, profile: {mode: offline, operations: [refund]}}
    inputs:
      - {items: {MOUSE-001: 1}, amount: 10, card: '4242-4242-4242-4242', address: South Pole, region: antarctica}
    expect:
      statuses: [needs_attention]
      compensation_order: [charge, reserve]
      invariants: {stock_conserved: ok, nothing_leaked: held, charges_refunded: held, all_terminal: ok}
"""


def test_only_the_named_operation_fails(sagatui, tmp_path):
    (tmp_path / "refunds.yaml").write_text(PACK)
    result = sagatui("run", "refunds.yaml", "--all", "--format", "json", "--db", "r.db")
    assert result.code == 0, result  # the needs_attention the scenario expects
    (scenario,) = json.loads(result.out)["scenarios"]
    assert all(check["ok"] for check in scenario["expectations"]), scenario["expectations"]
    events = sagatui("events", "--db", "r.db", "--kind", "fault.changed")
    assert "offline (refund only)" in events.out, events.out


def test_an_operation_the_service_does_not_have_is_named(sagatui, tmp_path):
    (tmp_path / "refunds.yaml").write_text(PACK.replace("operations: [refund]", "operations: [refnd]"))
    result = sagatui("check", "refunds.yaml")
    assert result.code == 2, result
    assert "refunds.yaml:18: scenarios.refunds_down.faults[0].profile.operations[0]: 'refnd' is not an operation " \
           "of service payment" in result.err, result.err
