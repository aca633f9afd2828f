"""`sagatui export --format otlp`: OpenTelemetry traces a trace viewer reads, checked against the official
OTLP protobuf schema (opentelemetry-proto with protobuf's json_format), not only by reading them back."""

import base64
import json
from collections import Counter

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

_IDS = ("traceId", "spanId", "parentSpanId")


def _parsed(line: str) -> ExportTraceServiceRequest:
    """One line as the Collector reads it: OTLP JSON writes ids in hex where protobuf's JSON has base64."""
    document = json.loads(line)
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in _IDS:
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    request = ExportTraceServiceRequest()
    json_format.ParseDict(document, request)  # unknown fields and wrong types raise
    return request


def _spans(request: ExportTraceServiceRequest) -> list[tuple[str, Span]]:
    return [(resource.resource.attributes[0].value.string_value, span)
            for resource in request.resource_spans for scope in resource.scope_spans for span in scope.spans]


@pytest.fixture
def otlp(sagatui, small_db, tmp_path):
    result = sagatui("export", str(small_db), "--format", "otlp", "-o", "run.jsonl")
    assert result.code == 0, result
    assert "1 trace(s)" in result.out
    return (tmp_path / "run.jsonl").read_text()


def test_one_trace_per_saga_with_a_span_per_step_attempt_and_compensation(otlp):
    lines = otlp.splitlines()
    assert len(lines) == 1  # refund_gateway_down runs one saga
    spans = _spans(_parsed(lines[0]))
    names = Counter(span.name.split(" ")[0] for _, span in spans)
    # the saga, its 3 steps and their 3 attempts, 2 compensations and the 6 tries of their undos
    assert names == {"saga": 1, "step": 3, "attempt": 3, "compensate": 2, "undo": 6}, names
    assert len({span.trace_id for _, span in spans}) == 1
    assert all(len(span.trace_id) == 16 and len(span.span_id) == 8 for _, span in spans)
    by_id = {span.span_id: span for _, span in spans}
    root = next(span for _, span in spans if span.name == "saga order")
    assert not root.parent_span_id and root.status.code == Status.STATUS_CODE_ERROR
    for _, span in spans:
        if span is not root:
            assert span.parent_span_id in by_id, span.name  # every span hangs in the one tree
            assert span.start_time_unix_nano <= span.end_time_unix_nano
            parent = by_id[span.parent_span_id]
            assert parent.start_time_unix_nano <= span.start_time_unix_nano


def test_failures_carry_error_statuses_and_calls_report_as_their_service(otlp):
    spans = _spans(_parsed(otlp.splitlines()[0]))
    failed_step = [span for _, span in spans if span.name == "step create_shipment"]
    assert failed_step and failed_step[0].status.code == Status.STATUS_CODE_ERROR
    refunds = [(resource, span) for resource, span in spans if span.name.startswith("undo attempt")
               and "payment.refund" in span.name]
    assert refunds and all(resource == "payment" for resource, _ in refunds)
    assert all(span.status.code == Status.STATUS_CODE_ERROR for _, span in refunds)  # the gateway is down
    assert all(span.kind == Span.SPAN_KIND_CLIENT for _, span in refunds)
    compensation = next(span for _, span in spans if span.name == "compensate charge_payment")
    event_names = {event.name for event in compensation.events}
    assert "compensation.retry_scheduled" in event_names
    transitions = [event for _, span in spans for event in span.events if event.name == "breaker.transition"]
    assert len(transitions) == 1  # the payment gateway's breaker opened on one of the refund's tries


def test_the_same_run_exports_the_same_bytes_and_its_session_the_same_trees(sagatui, small_db, otlp, tmp_path):
    assert sagatui("export", str(small_db), "--format", "otlp", "-o", "again.jsonl").code == 0
    assert (tmp_path / "again.jsonl").read_text() == otlp
    assert sagatui("export", str(small_db), "-o", "run.json").code == 0
    for name in ("from-session.jsonl", "from-session-again.jsonl"):
        assert sagatui("export", "run.json", "--format", "otlp", "-o", name).code == 0
    from_session = (tmp_path / "from-session.jsonl").read_text()
    assert (tmp_path / "from-session-again.jsonl").read_text() == from_session

    def tree(text: str) -> list[tuple[bytes, bytes, str, int]]:  # a session keeps no wall clock: times differ
        return [(span.span_id, span.parent_span_id, span.name, span.end_time_unix_nano - span.start_time_unix_nano)
                for _, span in _spans(_parsed(text))]

    assert tree(from_session) == tree(otlp)


def test_per_saga_writes_one_file_a_saga(sagatui, load_db, tmp_path):
    (tmp_path / "traces").mkdir()
    result = sagatui("export", str(load_db), "--format", "otlp", "--per-saga", "traces")
    assert result.code == 0, result
    files = sorted((tmp_path / "traces").iterdir())
    started = sagatui("events", "--db", str(load_db), "--kind", "saga.started", "--format", "jsonl").out
    saga_ids = sorted(json.loads(line)["saga_id"] for line in started.splitlines())
    assert len(saga_ids) > 100 and [path.name for path in files] == [f"{saga_id}.json" for saga_id in saga_ids]
    trace_ids = set()
    for path in files[:50]:
        request = _parsed(path.read_text())
        spans = _spans(request)
        (trace_id,) = {span.trace_id for _, span in spans}
        trace_ids.add(trace_id)
        root = [span for _, span in spans if not span.parent_span_id]
        assert len(root) == 1 and path.stem in [a.value.string_value for a in root[0].attributes]
    assert len(trace_ids) == 50


def test_bad_requests_are_one_line_errors(sagatui, small_db, tmp_path):
    for args, words in [
        (("--per-saga", "x"), "--format otlp"),
        (("--format", "otlp"), "-o FILE or --per-saga DIR"),
        (("--format", "otlp", "--per-saga", "missing"), "does not exist"),
        (("--format", "otlp", "-o", "a.jsonl", "--per-saga", "."), "-o FILE or --per-saga DIR"),
    ]:
        result = sagatui("export", str(small_db), *args)
        assert result.code == 2 and words in result.err and len(result.err.splitlines()) == 1, (args, result)
    (tmp_path / "kept.jsonl").write_text("keep\n")
    refused = sagatui("export", str(small_db), "--format", "otlp", "-o", "kept.jsonl")
    assert refused.code == 2 and "--force" in refused.err
    assert (tmp_path / "kept.jsonl").read_text() == "keep\n"
