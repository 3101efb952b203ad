"""The deepnum Playground: a local web page where a deepnum network learns 2-D data live.

``deepnum playground`` calls :func:`main`; :func:`serve` starts the server from Python, and
:func:`create_app` gives the ASGI application (for tests or another server).

>>> from deepnum.playground import serve
>>> serve(port=8000, open_browser=True)          # http://127.0.0.1:8000/
"""

from __future__ import annotations


def __getattr__(name):
    # The web framework loads only when the Playground is used, so `import deepnum` stays light.
    if name in ("main", "serve", "build_parser"):
        from deepnum.playground import server

        return getattr(server, name)
    if name == "create_app":
        from deepnum.playground.app import create_app

        return create_app
    raise AttributeError(f"module 'deepnum.playground' has no attribute {name!r}")


__all__ = ["build_parser", "create_app", "main", "serve"]
