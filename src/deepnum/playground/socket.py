"""The push channel: one WebSocket per tab; play, pause, step, speed and refresh go in, frames
come out.

Messages in are JSON text (:func:`~deepnum.playground.wire.parse_message`); a bad one is answered
with ``{"type": "error", "error": why}`` and the socket stays open. A binary frame is not part of
the protocol: the socket is closed with code 1003 (unsupported data) and a JSON reason. Close
codes of our own: 4404 no such session, 4410 the session ended (timed out or deleted).

While playing, each frame carries ``epochs_per_frame`` epochs (1 is the TF Playground's pace, to
watch a boundary form), or, with 0, as many as fit in :data:`FRAME_SECONDS`. Training runs in
worker threads in chunks of at most :data:`CHUNK_SECONDS`, so a pause or a settings change never
waits long, and the event loop keeps serving other tabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketDisconnect

from deepnum.playground import wire

FRAME_SECONDS = 0.06  # training time per frame at full speed (~15 frames a second)
FRAME_INTERVAL = 1 / 30  # the shortest time between two frames at a set speed
CHUNK_SECONDS = 0.1  # the longest one training call holds the session
DEFAULT_EPOCHS_PER_FRAME = 1


@dataclass
class Control:
    playing: bool = False
    steps: int = 0
    refresh: bool = True  # send a frame with the whole history (on connect, pause, request)
    epochs_per_frame: int = DEFAULT_EPOCHS_PER_FRAME  # 0: as fast as possible


async def socket(websocket: WebSocket) -> None:
    """Stream frames while playing; the session ends when its last socket closes."""
    manager = websocket.app.state.manager
    session = manager.attach(websocket.path_params["sid"])
    await websocket.accept()
    if session is None:
        await _send(websocket, {"type": "error", "error": "no such session: reload the page"})
        await websocket.close(code=4404, reason=_reason("no such session"))
        return
    control, wake = Control(), asyncio.Event()
    wake.set()
    pump = asyncio.create_task(_pump(websocket, session, control, wake))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                why = "binary frames are not accepted: send JSON text"
                await _send(websocket, {"type": "error", "error": why})
                await websocket.close(code=1003, reason=_reason(why))
                break
            try:
                parsed = wire.parse_message(message["text"])
            except wire.BadInput as error:
                await _send(websocket, {"type": "error", "error": str(error)})
                continue
            _apply(control, parsed)
            session.last_seen = time.monotonic()
            wake.set()
    except (WebSocketDisconnect, RuntimeError):  # the tab went away mid-message
        pass
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        manager.detach(session)


def _apply(control: Control, message: dict) -> None:
    kind = message["type"]
    if kind == "play":
        control.playing = True
    elif kind == "pause":
        control.playing, control.refresh = False, True
    elif kind == "step":
        control.steps = min(control.steps + 1, 100)
    elif kind == "refresh":
        control.refresh = True
    elif kind == "speed":
        control.epochs_per_frame = message["epochs_per_frame"]


async def _pump(websocket: WebSocket, session, control: Control, wake: asyncio.Event) -> None:
    """Train and send frames while there is something to do; sleep on ``wake`` otherwise."""
    known = None  # (generation, history version, rows sent) of what this socket has sent
    while True:
        await wake.wait()
        wake.clear()
        while (control.playing or control.steps or control.refresh) and not session.closed:
            started = time.monotonic()
            full, control.refresh = control.refresh, False
            try:
                await _train(session, control)
                frame = await run_in_threadpool(session.frame, 0 if full else known)
            except Exception as error:  # e.g. an optimizer the installed deepnum lacks
                control.playing, control.steps = False, 0
                await _send(websocket, {"type": "error", "error": f"training stopped: {error}"})
                break
            known = (frame["generation"], frame["history_version"],
                     frame["history_from"] + len(frame["history"]))
            if frame["stopped"]:
                control.playing, control.steps = False, 0
            frame["playing"] = control.playing
            await _send(websocket, {"type": "frame", **frame})
            pause = FRAME_INTERVAL - (time.monotonic() - started)
            if control.playing and control.epochs_per_frame and pause > 0:
                await asyncio.sleep(pause)
            else:
                await asyncio.sleep(0)  # let this tab's own messages (pause) and other tabs in
        if session.closed:
            await _send(websocket, {"type": "error", "error": "this session ended (it was idle "
                                    "too long or deleted): reload the page"})
            with contextlib.suppress(Exception):
                await websocket.close(code=4410, reason=_reason("session ended"))
            return


async def _train(session, control: Control) -> None:
    if control.playing and control.epochs_per_frame:
        done = 0  # the frame's epochs, in chunks so that a pause lands quickly
        while done < control.epochs_per_frame and control.playing and not session.stopped:
            done += await run_in_threadpool(session.train, control.epochs_per_frame - done,
                                            CHUNK_SECONDS)
    elif control.playing:
        await run_in_threadpool(session.train, None, FRAME_SECONDS)
    elif control.steps:
        control.steps -= 1
        await run_in_threadpool(session.train, 1)


def _reason(text: str) -> str:
    """A close frame's reason: JSON, within the 123 bytes a close frame has room for."""
    return json.dumps({"error": text[:100]})


async def _send(websocket: WebSocket, message: dict) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_text(wire.dumps(message))
