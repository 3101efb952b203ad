"""The Playground's web application: the page, a JSON API per session, and a WebSocket per tab.

HTTP (every error is a 4xx with ``{"error": message}``; no input makes a 500):

=======  ===================================  ==================================================
GET      /                                    the page (static/index.html)
GET      /api/options                         choices and limits, so the page builds its menus
POST     /api/sessions                        new session from settings -> its state (201)
GET      /api/sessions/{id}                   settings, data points and the current frame
DELETE   /api/sessions/{id}                   end it
PUT      /api/sessions/{id}/settings          change settings -> new state
PUT      /api/sessions/{id}/compare           compare view on, network B's settings -> state
DELETE   /api/sessions/{id}/compare           compare view off -> state
POST     /api/sessions/{id}/reset             fresh weights, epoch 0
POST     /api/sessions/{id}/train             ``{"epochs": n}`` whole epochs (5 s at most) -> frame
POST     /api/sessions/{id}/predict           ``{"points": [[x1, x2], ...]}`` -> raw outputs
GET      /api/sessions/{id}/neuron            ``?run=&column=&index=``: weights, bias, delta
PUT      /api/sessions/{id}/weight            ``{"layer", "to", "from", "value"}`` -> state
POST     /api/sessions/{id}/data              upload a CSV (multipart field ``file``)
GET      /api/sessions/{id}/model             download the network (.safetensors, dn.load reads it)
POST     /api/sessions/{id}/model             load a network file (multipart field ``file``)
GET      /api/sessions/{id}/script            the run as a Python script (``?run=1``: network B)
WS       /api/sessions/{id}/socket            see :mod:`deepnum.playground.socket`
=======  ===================================  ==================================================

Training runs in worker threads so the event loop keeps serving other tabs. Sessions belong to
the :class:`~deepnum.playground.manager.SessionManager`.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from deepnum.errors import DeepnumError
from deepnum.playground import modelfile, network, wire
from deepnum.playground import settings as options
from deepnum.playground.manager import IDLE_TIMEOUT, REAP_INTERVAL, SessionManager
from deepnum.playground.points import MAX_UPLOAD_BYTES, parse_csv_upload, size_text
from deepnum.playground.script import script
from deepnum.playground.settings import SettingsError, check, validate_settings
from deepnum.playground.socket import socket
from deepnum.playground.wire import MAX_JSON_BYTES, BadInput

STATIC = Path(__file__).parent / "static"
MAX_TRAIN_EPOCHS = 1000
MAX_TRAIN_SECONDS = 5.0  # one train request stops after this long, so none can hold a worker
MAX_PREDICT_POINTS = 10_000
BAD_INPUT = (SettingsError, BadInput, NotImplementedError, DeepnumError, IndexError)

WEIGHT_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["layer", "to", "value"],
    "properties": {"run": {"enum": [0, 1]}, "layer": options._integer(0, 16),
                   "to": options._integer(0, 16),
                   "from": {"oneOf": [options._integer(0, 16), {"type": "null"}]},
                   "value": options._number(-100.0, 100.0)},
}


def create_app(max_sessions: int = 32, idle_timeout: float = IDLE_TIMEOUT,
               reap_interval: float = REAP_INTERVAL,
               train_seconds: float = MAX_TRAIN_SECONDS) -> Starlette:
    """The ASGI application; ``uvicorn`` or starlette's TestClient runs it."""
    manager = SessionManager(max_sessions=max_sessions, idle_timeout=idle_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async def reaper():
            while True:
                await asyncio.sleep(reap_interval)
                manager.reap()

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()

    routes = [
        Route("/", index),
        Route("/api/options", get_options),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/sessions/{sid}", session_state, methods=["GET", "DELETE"]),
        Route("/api/sessions/{sid}/settings", change_settings, methods=["PUT"]),
        Route("/api/sessions/{sid}/compare", compare, methods=["PUT", "DELETE"]),
        Route("/api/sessions/{sid}/reset", reset, methods=["POST"]),
        Route("/api/sessions/{sid}/train", train, methods=["POST"]),
        Route("/api/sessions/{sid}/predict", predict, methods=["POST"]),
        Route("/api/sessions/{sid}/neuron", neuron, methods=["GET"]),
        Route("/api/sessions/{sid}/weight", weight, methods=["PUT"]),
        Route("/api/sessions/{sid}/data", upload_data, methods=["POST"]),
        Route("/api/sessions/{sid}/model", model_file, methods=["GET", "POST"]),
        Route("/api/sessions/{sid}/script", export_script, methods=["GET"]),
        WebSocketRoute("/api/sessions/{sid}/socket", socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        HTTPException: _http_error, Exception: _server_error})
    app.state.manager, app.state.reap_interval = manager, reap_interval
    app.state.train_seconds = train_seconds
    return app


# ---------------------------------------------------------------------- errors and bodies
async def _http_error(request: Request, exc: HTTPException) -> Response:
    return wire.error(exc.status_code, exc.detail)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never reached by any input the tests and fuzzers send; kept so a bug is JSON, not HTML.
    return wire.error(500, f"internal error: {type(exc).__name__}: {str(exc)[:200]}")


def _session(request):
    session = request.app.state.manager.get(request.path_params["sid"])
    if session is None:
        raise HTTPException(404, "no such session (it ended or timed out): reload the page")
    return session


async def _json(request: Request) -> dict:
    body = await _read_body(request, MAX_JSON_BYTES)
    try:
        return wire.parse_body(body)
    except BadInput as error:
        raise HTTPException(400, str(error)) from None


async def _read_body(request: Request, limit: int, too_big: str | None = None) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (never read in full)."""
    length = request.headers.get("content-length")
    too_big = too_big or f"the request is larger than the limit of {size_text(limit)}"
    if length is not None and not length.isdigit():
        raise HTTPException(400, "the request's Content-Length is not a number")
    if length is not None and int(length) > limit:
        raise HTTPException(413, too_big)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


async def _uploaded_file(request: Request, limit: int) -> tuple[bytes, str]:
    """The bytes and name of the multipart field ``file``, within ``limit`` bytes."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the file as multipart/form-data in a field named 'file'")
    too_big = f"the file is larger than the limit of {size_text(limit)}"
    body = await _read_body(request, limit + 16 * 1024, too_big)  # + the multipart headers

    async def stream():
        yield body

    try:
        form = await MultiPartParser(request.headers, stream(), max_files=1, max_fields=4).parse()
    except MultiPartException as error:
        raise HTTPException(400, f"cannot read the upload: {error.message}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(400, "the upload has no file in a field named 'file'")
    content = await upload.read()
    if len(content) > limit:
        raise HTTPException(413, too_big)
    return content, upload.filename or "upload"


async def _call(function, *args):
    """``function(*args)`` in a worker thread; a refusal of the input becomes a 400."""
    try:
        return await run_in_threadpool(function, *args)
    except BAD_INPUT as error:
        raise HTTPException(400, str(error)) from None


def _query_int(request: Request, name: str, default: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None and default is not None:
        return default
    if text is None or not text.isdigit() or len(text) > 3:
        raise HTTPException(400, f"{name}: must be a whole number from 0 to 999")
    return int(text)


# ---------------------------------------------------------------------- endpoints
async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def get_options(request: Request) -> Response:
    return wire.Response({
        "datasets": list(options.DATASETS), "classification": list(options.CLASSIFICATION_SETS),
        "regression": list(options.REGRESSION_SETS), "multiclass": list(options.MULTICLASS_SETS),
        "features": list(options.FEATURES), "activations": network.available_activations(),
        "all_activations": list(options.ACTIVATIONS),
        "untrainable_activations": list(options.UNTRAINABLE_ACTIVATIONS),
        "losses": list(options.LOSSES), "optimizers": network.available_optimizers(),
        "regularizations": list(options.REGULARIZATIONS), "defaults": options.DEFAULTS,
        "compare_keys": list(options.COMPARE_KEYS),
        "limits": {
            "max_hidden_layers": options.MAX_HIDDEN_LAYERS, "max_neurons": options.MAX_NEURONS,
            "max_classes": options.MAX_CLASSES, "min_samples": options.MIN_SAMPLES,
            "max_samples": options.MAX_SAMPLES, "max_batch_size": options.MAX_BATCH_SIZE,
            "max_upload_bytes": MAX_UPLOAD_BYTES, "max_train_epochs": MAX_TRAIN_EPOCHS,
            "max_epochs_per_frame": wire.MAX_EPOCHS_PER_FRAME,
        },
    })


async def create_session(request: Request) -> Response:
    raw = await _json(request)
    try:
        settings = validate_settings(raw)
        if settings["dataset"] == "csv":
            raise SettingsError("dataset: csv (your own CSV data) cannot travel in a link; "
                                "start with a built-in data set and upload the file again")
        session = await run_in_threadpool(request.app.state.manager.create, settings)
    except LookupError as error:
        raise HTTPException(503, str(error)) from None
    except BAD_INPUT as error:
        raise HTTPException(400, str(error)) from None
    return wire.Response(await run_in_threadpool(session.state), status_code=201)


async def session_state(request: Request) -> Response:
    session = _session(request)
    if request.method == "DELETE":
        request.app.state.manager.remove(session.id)
        return Response(status_code=204)
    return wire.Response(await run_in_threadpool(session.state))


async def change_settings(request: Request) -> Response:
    session, raw = _session(request), await _json(request)
    await _call(session.update, raw)
    return wire.Response(await run_in_threadpool(session.state))


async def compare(request: Request) -> Response:
    session = _session(request)
    raw = None if request.method == "DELETE" else await _json(request)
    await _call(session.set_compare, raw)
    return wire.Response(await run_in_threadpool(session.state))


async def reset(request: Request) -> Response:
    session = _session(request)
    await run_in_threadpool(session.reset)
    return wire.Response(await run_in_threadpool(session.state))


async def train(request: Request) -> Response:
    session, raw = _session(request), await _json(request)
    epochs = raw.get("epochs", 1)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= \
            MAX_TRAIN_EPOCHS:
        raise HTTPException(400, f"epochs: must be a whole number from 1 to {MAX_TRAIN_EPOCHS}; "
                                 f"got {options._shown(epochs)}")
    await run_in_threadpool(session.train, epochs, request.app.state.train_seconds)
    return wire.Response(await run_in_threadpool(session.frame, 0))


async def predict(request: Request) -> Response:
    import numpy as np

    session, raw = _session(request), await _json(request)
    points = raw.get("points")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        array = None
    if array is None or array.ndim != 2 or array.shape[1] != 2 or not 1 <= len(array) <= \
            MAX_PREDICT_POINTS or not np.isfinite(array).all():
        raise HTTPException(400, f"points: must be a list of 1 to {MAX_PREDICT_POINTS} pairs of "
                                 f"finite numbers [[x1, x2], ...]")
    run = raw.get("run", 0)
    outputs = await _call(session.predict, array, run if run in (0, 1) else -1)
    return wire.Response({"outputs": outputs.astype(float).tolist()})


async def neuron(request: Request) -> Response:
    session = _session(request)
    run, column = _query_int(request, "run", 0), _query_int(request, "column")
    return wire.Response(await _call(session.neuron, run, column,
                                     _query_int(request, "index")))


async def weight(request: Request) -> Response:
    session, raw = _session(request), await _json(request)
    try:
        check(raw, WEIGHT_SCHEMA, "", error=BadInput)
    except BadInput as error:
        raise HTTPException(400, str(error)) from None
    # JSON Schema's integers include 1.0: make them Python ints before they index anything
    source = None if raw.get("from") is None else int(raw["from"])
    await _call(session.set_weight, int(raw.get("run", 0)), int(raw["layer"]), int(raw["to"]),
                source, float(raw["value"]))
    return wire.Response(await run_in_threadpool(session.state))


async def upload_data(request: Request) -> Response:
    session = _session(request)
    content, name = await _uploaded_file(request, MAX_UPLOAD_BYTES)
    points = await _call(parse_csv_upload, content, name)
    await _call(session.use_upload, points)
    return wire.Response(await run_in_threadpool(session.state))


async def model_file(request: Request) -> Response:
    session = _session(request)
    if request.method == "GET":
        try:
            data = await run_in_threadpool(modelfile.to_bytes, session)
        except modelfile.Unavailable as error:
            raise HTTPException(501, str(error)) from None
        name = f"playground-{session.settings['dataset']}-epoch{session.epoch}.safetensors"
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    content, name = await _uploaded_file(request, modelfile.MAX_MODEL_BYTES)
    try:
        model, saved = await _call(modelfile.from_bytes, content, name)
    except modelfile.Unavailable as error:
        raise HTTPException(501, str(error)) from None
    try:
        await run_in_threadpool(session.use_model, model, saved)
    except BAD_INPUT as error:
        raise HTTPException(400, f"{modelfile.shown_name(name)}: {error}") from None
    return wire.Response(await run_in_threadpool(session.state))


async def export_script(request: Request) -> Response:
    session = _session(request)
    run = _query_int(request, "run", 0)
    if run >= len(session.runs):
        raise HTTPException(400, "run: 0 is network A, 1 network B (compare view only)")
    text = await run_in_threadpool(script, session, run)
    name = f"playground_{session.settings['dataset'].replace('-', '_')}.py"
    return PlainTextResponse(text, media_type="text/x-python", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})
