"""Run the Playground: ``deepnum playground [--host H] [--port P] [--open]``.

The server binds to 127.0.0.1 unless told otherwise, prints its address, and serves until Ctrl-C.
Port 0 picks a free port (the printed address says which).

>>> serve(port=8000, open_browser=True)
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import webbrowser

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The command's options; the `deepnum` command passes its subparser to fill in."""
    parser = parser or argparse.ArgumentParser(
        prog="deepnum playground",
        description="Train small networks on 2-D data in your browser, with deepnum.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default 8000; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", dest="open_browser",
                        help="open the page in the default web browser")
    parser.add_argument("--max-sessions", type=int, default=32,
                        help="most browser tabs served at once (default 32)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``deepnum playground``; returns the exit status."""
    args = build_parser().parse_args(argv)
    return serve(args.host, args.port, args.open_browser, max_sessions=args.max_sessions)


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          max_sessions: int = 32, log_level: str = "warning") -> int:
    """Start the server and block until it is stopped (Ctrl-C); returns the exit status."""
    try:
        import uvicorn

        from deepnum.playground.app import create_app
    except ImportError as error:
        print(f"deepnum playground needs the 'playground' extra: pip install 'deepnum[playground]' "
              f"({error})", file=sys.stderr)
        return 2
    if not 0 <= port <= 65535:
        print(f"deepnum playground: --port must be 0..65535, got {port}", file=sys.stderr)
        return 2
    try:
        # Binding here, not in uvicorn, lets port 0 work and reports a busy port in one line.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        print(f"deepnum playground: cannot listen on {host}:{port}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if host not in LOOPBACK:
        print(f"warning: listening on {host}: other computers that can reach it can use the "
              f"Playground (and its CPU); use the default --host 127.0.0.1 to keep it local",
              file=sys.stderr)
    print(f"deepnum Playground: {url}  (Ctrl-C to stop)", flush=True)
    if not (_has("websockets") or _has("wsproto")):
        print("deepnum playground: the live view needs a WebSocket library: "
              "pip install websockets", file=sys.stderr)
        sock.close()
        return 2
    from deepnum.playground.wire import MAX_JSON_BYTES

    # uvicorn refuses a bigger socket message itself (close code 1009), before it is read.
    config = uvicorn.Config(create_app(max_sessions=max_sessions), log_level=log_level,
                            ws_max_size=MAX_JSON_BYTES)
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
