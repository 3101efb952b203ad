"""The Playground's web application: the page, a JSON API per session, and a WebSocket per tab.

HTTP (every error is a 4xx with ``{"error": message}``, never a crash):

=======  ===================================  ==================================================
GET      /                                    the page (static/index.html)
GET      /api/options                         choices and limits, so the page builds its menus
POST     /api/sessions                        new session from settings -> its state (201)
GET      /api/sessions/{id}                   settings, data points and the current frame
DELETE   /api/sessions/{id}                   end it
PUT      /api/sessions/{id}/settings          change settings -> new state
POST     /api/sessions/{id}/reset             fresh weights, epoch 0
POST     /api/sessions/{id}/train             ``{"epochs": n}`` whole epochs -> a frame
POST     /api/sessions/{id}/predict           ``{"points": [[x1, x2], ...]}`` -> raw outputs
POST     /api/sessions/{id}/data              upload a CSV (multipart field ``file``)
GET      /api/sessions/{id}/model             download the network (.safetensors, dn.load reads it)
POST     /api/sessions/{id}/model             load a network file (multipart field ``file``)
WS       /api/sessions/{id}/socket            play / pause / step / refresh; frames stream back
=======  ===================================  ==================================================

Training runs in worker threads so the event loop keeps serving other tabs; a session ends when its
socket closes, or after ``idle_timeout`` seconds unused if it never had one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from deepnum.errors import DeepnumError
from deepnum.playground import modelfile, network
from deepnum.playground import settings as options
from deepnum.playground.points import MAX_UPLOAD_BYTES, parse_csv_upload
from deepnum.playground.sessions import SessionManager
from deepnum.playground.settings import SettingsError, validate_settings

STATIC = Path(__file__).parent / "static"
MAX_JSON_BYTES = 64 * 1024
MAX_TRAIN_EPOCHS = 1000
MAX_PREDICT_POINTS = 10_000
FRAME_SECONDS = 0.06  # training time between two frames while playing (~15 frames a second)


def create_app(max_sessions: int = 32, idle_timeout: float = 900.0,
               reap_interval: float = 30.0) -> Starlette:
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
        Route("/api/sessions/{sid}/reset", reset, methods=["POST"]),
        Route("/api/sessions/{sid}/train", train, methods=["POST"]),
        Route("/api/sessions/{sid}/predict", predict, methods=["POST"]),
        Route("/api/sessions/{sid}/data", upload_data, methods=["POST"]),
        Route("/api/sessions/{sid}/model", model_file, methods=["GET", "POST"]),
        WebSocketRoute("/api/sessions/{sid}/socket", socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        HTTPException: _http_error, Exception: _server_error})
    app.state.manager = manager
    return app


# ---------------------------------------------------------------------- errors
def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return _error(exc.status_code, exc.detail)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    return _error(500, f"internal error: {type(exc).__name__}: {exc}")


def _session(request):
    session = request.app.state.manager.get(request.path_params["sid"])
    if session is None:
        raise HTTPException(404, "no such session (it ended or timed out): reload the page")
    return session


async def _json(request: Request) -> dict:
    body = await _read_body(request, MAX_JSON_BYTES)
    if not body:
        return {}
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise HTTPException(400, f"the request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return value


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (never read in full)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise HTTPException(413, f"the request is larger than the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the request is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _uploaded_file(request: Request, limit: int) -> tuple[bytes, str]:
    """The bytes and name of the multipart field ``file``, within ``limit`` bytes."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the file as multipart/form-data in a field named 'file'")
    body = await _read_body(request, limit + 16 * 1024)  # room for the multipart headers

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
        raise HTTPException(413, f"the file is larger than the limit of {limit} bytes")
    return content, upload.filename or "upload"


def _bad_input(error: Exception) -> HTTPException:
    return HTTPException(400, str(error))


# ---------------------------------------------------------------------- endpoints
async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def get_options(request: Request) -> JSONResponse:
    return JSONResponse({
        "datasets": list(options.DATASETS), "classification": list(options.CLASSIFICATION_SETS),
        "regression": list(options.REGRESSION_SETS), "multiclass": list(options.MULTICLASS_SETS),
        "features": list(options.FEATURES), "activations": network.available_activations(),
        "all_activations": list(options.ACTIVATIONS),
        "untrainable_activations": list(options.UNTRAINABLE_ACTIVATIONS),
        "losses": list(options.LOSSES), "optimizers": network.available_optimizers(),
        "regularizations": list(options.REGULARIZATIONS), "defaults": options.DEFAULTS,
        "limits": {
            "max_hidden_layers": options.MAX_HIDDEN_LAYERS, "max_neurons": options.MAX_NEURONS,
            "max_classes": options.MAX_CLASSES, "min_samples": options.MIN_SAMPLES,
            "max_samples": options.MAX_SAMPLES, "max_batch_size": options.MAX_BATCH_SIZE,
            "max_upload_bytes": MAX_UPLOAD_BYTES, "max_train_epochs": MAX_TRAIN_EPOCHS,
        },
    })


async def create_session(request: Request) -> JSONResponse:
    raw = await _json(request)
    try:
        settings = validate_settings(raw)
        if settings["dataset"] == "csv":
            raise SettingsError("dataset: csv needs a CSV file; start with a built-in data set "
                                "and upload the file")
        session = await run_in_threadpool(request.app.state.manager.create, settings)
    except LookupError as error:
        raise HTTPException(503, str(error)) from None
    except (SettingsError, NotImplementedError, DeepnumError) as error:
        raise _bad_input(error) from None
    return JSONResponse(await run_in_threadpool(session.state), status_code=201)


async def session_state(request: Request) -> Response:
    session = _session(request)
    if request.method == "DELETE":
        request.app.state.manager.remove(session.id)
        return Response(status_code=204)
    return JSONResponse(await run_in_threadpool(session.state))


async def change_settings(request: Request) -> JSONResponse:
    session, raw = _session(request), await _json(request)
    try:
        await run_in_threadpool(session.update, raw)
    except (SettingsError, NotImplementedError, DeepnumError) as error:
        raise _bad_input(error) from None
    return JSONResponse(await run_in_threadpool(session.state))


async def reset(request: Request) -> JSONResponse:
    session = _session(request)
    await run_in_threadpool(session.reset)
    return JSONResponse(await run_in_threadpool(session.state))


async def train(request: Request) -> JSONResponse:
    session, raw = _session(request), await _json(request)
    epochs = raw.get("epochs", 1)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= \
            MAX_TRAIN_EPOCHS:
        raise HTTPException(400, f"epochs: must be a whole number from 1 to {MAX_TRAIN_EPOCHS}, "
                                 f"got {epochs!r}")
    await run_in_threadpool(session.train, epochs)
    return JSONResponse(await run_in_threadpool(session.frame, 0))


async def predict(request: Request) -> JSONResponse:
    import numpy as np

    session, raw = _session(request), await _json(request)
    points = raw.get("points")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 2 or array.shape[1] != 2 or not 1 <= len(array) <= \
            MAX_PREDICT_POINTS or not np.isfinite(array).all():
        raise HTTPException(400, f"points: must be a list of 1 to {MAX_PREDICT_POINTS} pairs of "
                                 f"finite numbers [[x1, x2], ...]")
    outputs = await run_in_threadpool(session.predict, array)
    return JSONResponse({"outputs": outputs.astype(float).tolist()})


async def upload_data(request: Request) -> JSONResponse:
    session = _session(request)
    content, name = await _uploaded_file(request, MAX_UPLOAD_BYTES)
    try:
        points = await run_in_threadpool(parse_csv_upload, content, name)
        await run_in_threadpool(session.use_upload, points)
    except (SettingsError, DeepnumError) as error:
        raise _bad_input(error) from None
    return JSONResponse(await run_in_threadpool(session.state))


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
        model = await run_in_threadpool(modelfile.from_bytes, content, name)
        await run_in_threadpool(session.use_model, model)
    except modelfile.Unavailable as error:
        raise HTTPException(501, str(error)) from None
    except (SettingsError, DeepnumError) as error:
        raise _bad_input(error) from None
    return JSONResponse(await run_in_threadpool(session.state))


# ---------------------------------------------------------------------- the push channel
async def socket(websocket: WebSocket) -> None:
    """Stream frames while playing; the session ends when the socket closes (the tab went)."""
    manager = websocket.app.state.manager
    session = manager.get(websocket.path_params["sid"])
    await websocket.accept()
    if session is None:
        await websocket.send_json({"type": "error", "error": "no such session: reload the page"})
        await websocket.close(code=4404)
        return
    session.sockets += 1
    control = {"playing": False, "steps": 0, "refresh": True}
    wake = asyncio.Event()
    wake.set()
    pump = asyncio.create_task(_pump(websocket, session, control, wake))
    try:
        while True:
            try:
                message = json.loads(await websocket.receive_text())
                kind = message.get("type") if isinstance(message, dict) else None
            except ValueError:
                kind = None
            if kind == "play":
                control["playing"] = True
            elif kind == "pause":
                control["playing"] = False
                control["refresh"] = True
            elif kind == "step":
                control["steps"] = min(control["steps"] + 1, 100)
            elif kind == "refresh":
                control["refresh"] = True
            else:
                await _send(websocket, {"type": "error", "error":
                                        "messages are JSON {type: play|pause|step|refresh}"})
                continue
            session.last_seen = time.monotonic()
            wake.set()
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        session.sockets -= 1
        manager.remove(session.id)


async def _pump(websocket: WebSocket, session, control: dict, wake: asyncio.Event) -> None:
    """Train and send frames while there is something to do; sleep on ``wake`` otherwise."""
    sent, generation = 0, None
    while True:
        await wake.wait()
        wake.clear()
        while control["playing"] or control["steps"] or control["refresh"]:
            control["refresh"] = False
            try:
                if control["playing"]:
                    await run_in_threadpool(session.train, 1, FRAME_SECONDS)
                elif control["steps"]:
                    control["steps"] -= 1
                    await run_in_threadpool(session.train, 1)
                if generation != session.generation:
                    sent, generation = 0, session.generation
                frame = await run_in_threadpool(session.frame, sent)
            except Exception as error:  # e.g. an optimizer the installed deepnum lacks
                control["playing"], control["steps"] = False, 0
                await _send(websocket, {"type": "error", "error": f"training stopped: {error}"})
                break
            sent = frame["history_from"] + len(frame["history"])
            if frame["diverged"] and control["playing"]:
                control["playing"] = False
                frame["stopped"] = "the loss is no longer a finite number: lower the learning rate"
            frame["playing"] = control["playing"]
            await _send(websocket, {"type": "frame", **frame})
            await asyncio.sleep(0)  # let this tab's own messages (pause) and other tabs in


async def _send(websocket: WebSocket, message: dict) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(json.dumps(message))
