"""How the app serves the public: request-size limits, queue and concurrency settings.

A public Space gets whatever its visitors send. Two things bound the work one
request can cause before any model runs:

* ``RequestSizeLimit``, an ASGI middleware: a request body over
  ``MAX_BODY_BYTES`` is answered 413 before it is parsed, except uploads
  (``/upload``), which Gradio bounds with ``max_file_size``. A text query is
  200 characters; a 50 MB JSON body would otherwise be parsed, queued and
  cleaned (20 s of the only worker in the issue that found it).
* the query's own checks (``lookimagine.pipeline.validation``).

``QUEUE`` and ``PIPELINE`` hold the queue settings for a 2-vCPU Space: two
pipeline calls at a time, each on its share of the cores (``share_cpus``),
and room in the queue for every visitor of a busy talk (48 requests at once
must all be answered, none turned away as "queue full").
"""

from __future__ import annotations

import json
import os

#: largest request body accepted outside ``/upload`` (text queries are 200 characters; a pasted data-URL image fits)
MAX_BODY_BYTES = 1024 * 1024
#: largest uploaded file (Gradio's ``max_file_size``)
MAX_UPLOAD = "10mb"
#: visitors' sessions kept in memory (Gradio's ``state_session_capacity``, 10,000 by default). Every API
#: call is a session, and each copies the page's whole config (~0.3 MB here): at the default, 1,000
#: requests grew the app by ~300 MB and slowed it. Least recently used sessions go first; 256 covers every
#: visitor of a busy Space (a session evicted after going idle only loses a model switch's examples).
SESSIONS = 256
#: ``Blocks.queue`` settings: the pipeline's events share one concurrency group (``PIPELINE``)
QUEUE = {"default_concurrency_limit": 2, "max_size": 256}
PIPELINE = {"concurrency_id": "pipeline", "concurrency_limit": 2}
TOO_LARGE = ("The request is too large ({size:,} bytes; the limit is {limit:,}). A text query is at most "
             "200 characters; send images as uploaded files.")


class RequestSizeLimit:
    """ASGI middleware: a body over ``max_bytes`` gets 413 and a JSON ``{"error": ...}``; uploads pass.

    The body is read (up to the limit) before the app sees it, whether or not
    the client sent a Content-Length, and then replayed to the app.
    """

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, exempt_suffixes: tuple[str, ...] = ("/upload",)):
        self.app, self.max_bytes, self.exempt = app, max_bytes, exempt_suffixes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path", "").rstrip("/").endswith(self.exempt):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, int(declared))
        body, message = await _read_body(receive, self.max_bytes)
        if message is not None:  # the client went away
            return await self.app(scope, _replay([message], receive), send)
        if len(body) > self.max_bytes:
            return await self._refuse(send, len(body))
        return await self.app(scope, _replay([_request(body)], receive), send)

    async def _refuse(self, send, size: int) -> None:
        await _error(send, 413, TOO_LARGE.format(size=size, limit=self.max_bytes))


class ApiArguments:
    """ASGI middleware: a REST call (``POST …/gradio_api/call/<name>``) must carry every parameter.

    Gradio answers a short ``data`` list with ``{"error": null}`` and a traceback in
    the log; this answers 422 with the endpoint's parameters instead. ``signatures``
    maps an API name to its parameter names. Runs inside ``RequestSizeLimit``, so
    the body it parses is small.
    """

    def __init__(self, app, signatures: dict[str, tuple[str, ...]]):
        self.app, self.signatures = app, dict(signatures)

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").rstrip("/")
        name = path.rsplit("/", 1)[-1]
        if scope["type"] != "http" or scope.get("method") != "POST" or "/gradio_api/call/" not in path \
                or name not in self.signatures:
            return await self.app(scope, receive, send)
        body, message = await _read_body(receive)
        if message is not None:
            return await self.app(scope, _replay([message], receive), send)
        wanted = self.signatures[name]
        try:
            data = json.loads(body or b"{}").get("data")
        except (ValueError, AttributeError):
            return await _error(send, 400, f"The body of /{name} must be JSON: {{\"data\": [{', '.join(wanted)}]}}.")
        if not isinstance(data, list) or len(data) < len(wanted):
            got = len(data) if isinstance(data, list) else "none"
            return await _error(send, 422, f"/{name} takes {len(wanted)} values in \"data\", in this order: "
                                           f"{', '.join(wanted)} (got {got}).")
        return await self.app(scope, _replay([_request(body)], receive), send)


async def _read_body(receive, limit: int | None = None) -> tuple[bytes, dict | None]:
    """The request body, read until its end or until it passes ``limit`` bytes; and the message that
    ended it early when the client went away (else None)."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        more = message.get("more_body", False) and (limit is None or size <= limit)
    return b"".join(chunks), None


def _request(body: bytes) -> dict:
    """The body as one ``http.request`` message, to replay to the app."""
    return {"type": "http.request", "body": body, "more_body": False}


async def _error(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[dict], receive):
    """A ``receive`` that gives ``messages`` first, then hands over to the real one (which reports disconnects)."""
    pending = list(messages)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def share_cpus(concurrency: int = PIPELINE["concurrency_limit"]) -> int:
    """Give each of the ``concurrency`` simultaneous queries an equal share of the CPU cores; the share.

    torch's default (every core per call) makes two simultaneous queries fight
    over the same cores: on 2 vCPUs, 2 threads per query were several times
    slower than 1 whenever anything else ran.
    """
    import torch

    threads = max(1, (os.cpu_count() or 1) // max(1, concurrency))
    torch.set_num_threads(threads)
    return threads


def app_kwargs(signatures: dict[str, tuple[str, ...]] | None = None) -> dict:
    """``demo.launch(app_kwargs=...)``: ``RequestSizeLimit`` outermost, then ``ApiArguments`` for ``signatures``."""
    from starlette.middleware import Middleware

    middleware = [Middleware(RequestSizeLimit)]
    if signatures:
        middleware.append(Middleware(ApiArguments, signatures=signatures))
    return {"middleware": middleware}
