"""A minimal JSON-over-HTTP/1.1 client on asyncio streams (stdlib only), as the shop calls its providers.

Every failure is one of the exceptions below, told apart by what the caller may do about it, which is all
an error kind needs to know (app.py maps them onto sagatui's kinds):

- `Declined` (402), `Rejected` (other 4xx but 429): the provider said no for good.
- `BadRequest` (400): the request itself is wrong; nothing was done.
- `Throttled` (429): slow down; `retry_after` says for how long (seconds), from the Retry-After header.
- `Unavailable` (5xx, or the connection refused): nothing was done; try again later.
- `NoReply`: the request went out and no (whole) answer came back: it may have been done. Retry it with
  the same Idempotency-Key, and undo it if you give up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

JSON = dict[str, Any]
READ_TIMEOUT = 5.0  # seconds for the whole answer once the request is sent (the step's own timeout is shorter)


class ProviderError(Exception):
    """A provider call that did not answer 2xx: the HTTP status (0: no answer), and its JSON body if any."""

    def __init__(self, message: str, *, status: int = 0, body: JSON | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {}


class Declined(ProviderError):
    """402: the payment was declined (the card, the bank): asking again gives the same answer."""


class Rejected(ProviderError):
    """A 4xx the provider will keep answering (a restricted region, an unknown id)."""


class BadRequest(ProviderError):
    """400: the request is malformed; the provider did nothing."""


class Throttled(ProviderError):
    """429: too many requests; `retry_after` is the Retry-After header in seconds (None without one)."""

    def __init__(self, message: str, *, status: int = 429, body: JSON | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """5xx, or no connection at all: the provider did nothing this time."""


class NoReply(ProviderError):
    """The request was sent but the answer never (fully) came: the provider may have acted on it."""


async def request(base_url: str, method: str, path: str, body: JSON | None = None, *,
                  idempotency_key: str | None = None, timeout: float = READ_TIMEOUT) -> JSON:
    """`method path` on the provider at `base_url` (http://host:port) with a JSON body; its JSON answer, or
    one of this module's exceptions. One connection per request (Connection: close)."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    payload = json.dumps(body if body is not None else {}).encode()
    headers = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
               "Accept: application/json", f"Content-Length: {len(payload)}", "Connection: close"]
    if idempotency_key is not None:
        headers.append(f"Idempotency-Key: {idempotency_key}")
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as refused:  # refused, unreachable: the request never left
        raise Unavailable(f"{method} {path}: cannot connect to {host}:{port}: {refused}") from None
    try:
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        async with asyncio.timeout(timeout):
            status, response_headers, raw = await _read_response(reader)
    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as lost:
        raise NoReply(f"{method} {path}: no answer from {host}:{port} ({type(lost).__name__}: {lost})") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    answer = _decode(raw)
    if 200 <= status < 300:
        return answer
    raise _error(method, path, status, response_headers, answer)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """The status, the headers (lower-cased names) and the body of one HTTP/1.1 response."""
    status_line = (await reader.readuntil(b"\r\n")).decode("latin-1").strip()
    version, _, rest = status_line.partition(" ")
    if not version.startswith("HTTP/"):
        raise ValueError(f"not an HTTP response: {status_line!r}")
    status = int(rest.split(" ", 1)[0])
    headers: dict[str, str] = {}
    while (line := (await reader.readuntil(b"\r\n")).decode("latin-1").strip()):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    raw = await reader.readexactly(int(length)) if length is not None else await reader.read()
    return status, headers, raw


def _decode(raw: bytes) -> JSON:
    if not raw:
        return {}
    try:
        decoded = json.loads(raw)
    except ValueError:
        return {"error": raw.decode("utf-8", "replace")[:200]}
    return decoded if isinstance(decoded, dict) else {"value": decoded}


def _error(method: str, path: str, status: int, headers: dict[str, str], body: JSON) -> ProviderError:
    message = f"{method} {path}: {status} {body.get('error', '')}".rstrip()
    if status == 429:
        return Throttled(message, body=body, retry_after=_seconds(headers.get("retry-after")))
    if status >= 500:
        return Unavailable(message, status=status, body=body)
    if status == 402:
        return Declined(message, status=status, body=body)
    if status == 400:
        return BadRequest(message, status=status, body=body)
    return Rejected(message, status=status, body=body)


def _seconds(value: str | None) -> float | None:
    """Retry-After as seconds (the delta-seconds form; an HTTP date is not worth parsing here)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
