"""Serving a provider (providers.py) over HTTP/1.1 on 127.0.0.1, as another process would: an ephemeral port and
a thread of its own (http.server, stdlib only)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from providers import JSON, Answer, Provider


class ProviderServer:
    """`provider` served on 127.0.0.1: `start()`, then call it at `url`; `stop()` when the run is over. A 429
    answer carries its body's `retry_after` as the Retry-After header."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider.handle))
        self._http.daemon_threads = False  # server_close() waits for the requests in flight
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{provider.name}-provider", daemon=True)

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (the serving loop ends within a poll interval; requests in flight are let finish),
        then close the books."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
        self.provider.close()


def _handler(handle: Callable[[str, str, str | None, JSON], Answer]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5.0  # seconds a connection may keep a request thread waiting for its request

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise ValueError("the body is not a JSON object")
            except ValueError as wrong:
                status, answer = 400, {"error": f"bad JSON: {wrong}"}
            else:
                try:
                    status, answer = handle(self.command, self.path, self.headers.get("Idempotency-Key"), body)
                except Exception as failed:  # a bug of the provider's own: a 500, as a web framework answers
                    status, answer = 500, {"error": f"internal error: {type(failed).__name__}: {failed}"}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            if status == 429 and "retry_after" in answer:
                self.send_header("Retry-After", str(answer["retry_after"]))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # the request log is in the books
            return

    return Handler

