"""All sessions of a server: created, counted, attached to sockets, and let go.

A session belongs to the :class:`SessionManager` from its creation until the last of its sockets
closes (a tab may open several: a reload, a second window). The cap counts sessions, however many
sockets each has, so opening and closing sockets can neither push a session out while it trains
nor let more than ``max_sessions`` run. A session that has no socket (the page never connected, or
a client uses only the HTTP API) is let go ``idle_timeout`` seconds after its last request.

>>> manager = SessionManager(max_sessions=32)
>>> session = manager.create(settings); manager.attach(session.id); manager.detach(session)
"""

from __future__ import annotations

import threading
import time

from deepnum.playground.sessions import Session

IDLE_TIMEOUT = 45.0  # s without a socket or a request; the reaper runs every REAP_INTERVAL, so a
REAP_INTERVAL = 10.0  # session that never connects is gone within a minute


class SessionManager:
    def __init__(self, max_sessions: int = 32, idle_timeout: float = IDLE_TIMEOUT):
        self.max_sessions, self.idle_timeout = max_sessions, idle_timeout
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, settings: dict) -> Session:
        """A new session; LookupError when ``max_sessions`` are running."""
        self.reap()
        with self._lock:
            self._check_room()
        session = Session(settings)  # built outside the lock: it takes milliseconds
        with self._lock:
            self._check_room()  # another request may have taken the last place meanwhile
            self._sessions[session.id] = session
        return session

    def _check_room(self) -> None:
        if len(self._sessions) >= self.max_sessions:
            raise LookupError(f"the server already runs {self.max_sessions} sessions; close "
                              f"another Playground tab and try again")

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            session = self._sessions.get(session_id)
        if session is not None:
            session.last_seen = time.monotonic()
        return session

    def attach(self, session_id: str) -> Session | None:
        """Count one more socket on the session (None if there is no such session)."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                session.sockets += 1
                session.last_seen = time.monotonic()
        return session

    def detach(self, session: Session) -> None:
        """One socket fewer; the last one closing ends the session (its tab went away)."""
        with self._lock:
            session.sockets -= 1
            if session.sockets <= 0 and self._sessions.get(session.id) is session:
                self._drop(session.id)

    def remove(self, session_id: str) -> None:
        with self._lock:
            if session_id in self._sessions:
                self._drop(session_id)

    def reap(self, now: float | None = None) -> list[str]:
        """Let go of sessions with no open socket and no request for ``idle_timeout`` s."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [sid for sid, s in self._sessions.items()
                    if s.sockets == 0 and now - s.last_seen > self.idle_timeout]
            for sid in gone:
                self._drop(sid)
        return gone

    def _drop(self, session_id: str) -> None:
        self._sessions.pop(session_id).closed = True  # its sockets see this and close

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
