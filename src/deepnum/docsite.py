"""``deepnum docs``: build the documentation site strictly and serve it on 127.0.0.1.

The site's sources (``mkdocs.yml``, ``docs/``) live in the source tree, next to ``src/``; the
build is ``mkdocs build --strict`` (a broken link, a missing page or a reference to a name that
does not exist fails it), then Python's own HTTP server serves the result. Nothing is fetched:
the theme's fonts are off and every asset is in the built folder.

    deepnum docs                     # build, serve http://127.0.0.1:8001/ until Ctrl-C
    deepnum docs --port 9000 --open  # and open it in the browser
    deepnum docs --build-only --site-dir /tmp/site
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import tempfile
import webbrowser
from pathlib import Path

from deepnum.errors import DeepnumError

ROOT = Path(__file__).resolve().parents[2]  # src/deepnum/docsite.py -> the source tree


class DocsUnavailable(DeepnumError):
    """The documentation cannot be built here: no source tree, or no MkDocs."""


def config_file(root: Path = ROOT) -> Path:
    path = root / "mkdocs.yml"
    if not path.is_file():
        raise DocsUnavailable(f"no mkdocs.yml at {root}: `deepnum docs` builds the site from a "
                              f"source checkout (pip install -e '.[docs]')")
    return path


def build(site_dir, root: Path = ROOT) -> Path:
    """``mkdocs build --strict`` into ``site_dir``; raises DocsUnavailable with MkDocs' own
    messages when the build fails."""
    config = config_file(root)
    try:
        import mkdocs  # noqa: F401 - only to say clearly what is missing
    except ImportError:
        raise DocsUnavailable("the documentation needs MkDocs: pip install -e '.[docs]'") \
            from None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root / "src"), os.environ.get("PYTHONPATH", "")]), NO_MKDOCS_2_WARNING="1")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                             "-f", str(config), "-d", str(site_dir)],
                            cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        problems = [line for line in (result.stderr + result.stdout).splitlines()
                    if "WARNING" in line or "ERROR" in line or "Error" in line]
        raise DocsUnavailable("mkdocs build --strict failed: " + "; ".join(problems[:10] or
                              [result.stderr.strip()[-500:]]))
    return Path(site_dir)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def make_server(site_dir, port: int = 8001, host: str = "127.0.0.1"):
    """An HTTP server of ``site_dir`` on ``host:port`` (port 0: any free one), not started."""
    handler = functools.partial(_Quiet, directory=str(site_dir))
    return http.server.ThreadingHTTPServer((host, port), handler)


def _configure(parser) -> None:
    parser.add_argument("--port", type=int, default=8001, help="port on 127.0.0.1 (8001)")
    parser.add_argument("--open", dest="open_browser", action="store_true",
                        help="open the site in the browser")
    parser.add_argument("--site-dir", help="where to build (default: a temporary folder)")
    parser.add_argument("--build-only", action="store_true", help="build strictly, do not serve")


def _run(args) -> int:
    if not 0 <= args.port < 65536:
        raise ValueError(f"--port must be in 0..65535, got {args.port}")
    with tempfile.TemporaryDirectory(prefix="deepnum-site-") as tmp:
        site = build(args.site_dir or tmp)
        print(f"built the documentation in {site}/")
        if args.build_only:
            return 0
        server = make_server(site, args.port)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        print(f"serving {url} (Ctrl-C stops)")
        if args.open_browser:
            webbrowser.open(url)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    return 0


def register(add_command) -> None:
    """Add ``deepnum docs`` through the CLI's ``add_command``."""
    add_command("docs", "build the documentation site and serve it on 127.0.0.1", _configure,
                _run)
