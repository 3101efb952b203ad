"""What crosses the wire: JSON in (bounded, schema-checked) and JSON out (never NaN).

In: request bodies and WebSocket messages are parsed by :func:`deepnum.schema.parse` (size and
nesting bounded before ``json.loads`` runs, no NaN/Infinity literals) and checked against a JSON
Schema, so a hostile body is a :class:`BadInput` (a 4xx or an error message), never a
``RecursionError`` or a 500.

Out: :func:`dumps` writes strict JSON. A diverged network can produce NaN or infinity anywhere
(a loss, a weight); JSON has no such numbers and the browser's ``JSON.parse`` throws on Python's
``NaN``, which froze the page. They become ``null``, which the page shows as "-".

>>> parse_message('{"type": "speed", "epochs_per_frame": 10}')
{'type': 'speed', 'epochs_per_frame': 10}
>>> dumps({"loss": float("nan")})
'{"loss":null}'
"""

from __future__ import annotations

import json
import math

from starlette.responses import JSONResponse

from deepnum.errors import DeepnumError
from deepnum.playground.settings import check
from deepnum.schema import parse

MAX_JSON_BYTES = 64 * 1024  # a request body or a socket message; settings need < 1 KiB
MAX_DEPTH = 8  # the deepest body the page sends is 3 levels ({"points": [[x, y]]})
MAX_EPOCHS_PER_FRAME = 1000

SOCKET_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"enum": ["play", "pause", "step", "refresh", "speed"]},
        "epochs_per_frame": {"type": "integer", "minimum": 0, "maximum": MAX_EPOCHS_PER_FRAME},
    },
    "required": ["type"],
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "speed"}}},
    "then": {"required": ["epochs_per_frame"]},
}


class BadInput(DeepnumError):
    """A request body or a socket message that is not what the API takes; the message says why."""


def parse_body(body: bytes, what: str = "the request body") -> dict:
    """A JSON object from a request body (empty means ``{}``), or :class:`BadInput`."""
    if not body.strip():
        return {}
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{what} is not UTF-8 text") from None
    value = parse(body, what, error=BadInput, max_bytes=MAX_JSON_BYTES, max_depth=MAX_DEPTH)
    if not isinstance(value, dict):
        raise BadInput(f"{what} must be a JSON object {{...}}, got {type(value).__name__}")
    return value


def parse_message(text: str) -> dict:
    """A socket message: ``{"type": "play" | "pause" | "step" | "refresh"}`` or
    ``{"type": "speed", "epochs_per_frame": n}`` (0: as fast as the server can)."""
    try:
        value = parse_body(text.encode("utf-8", errors="replace"), "the message")
    except BadInput as error:
        raise BadInput(f"{error}; messages are JSON objects such as {{\"type\": \"play\"}} "
                       f"(play, pause, step, refresh, speed)") from None
    check(value, SOCKET_SCHEMA, "message", error=BadInput)
    return value


def finite(value):
    """``value`` with every NaN and infinity replaced by None, however deeply nested."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value) -> str:
    """Strict JSON text; non-finite numbers become null (the common case costs one dumps)."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, separators=(",", ":"))


class Response(JSONResponse):
    """Starlette's JSONResponse written by :func:`dumps`."""

    def render(self, content) -> bytes:
        return dumps(content).encode("utf-8")


def error(status: int, message: str) -> Response:
    return Response({"error": message}, status_code=status)
