"""The site builds with ``mkdocs build --strict`` (a broken link, a missing page or a reference
to a name that does not exist fails), every public name is in the API reference, and
``deepnum docs`` serves what it built on 127.0.0.1."""

from __future__ import annotations

import threading
import urllib.request

import pytest

from deepnum.cli import main
from deepnum.docsite import DocsUnavailable, build, make_server
from tests.docs.pages import DOCS, ROOT

REFERENCE = DOCS / "reference"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build(tmp_path_factory.mktemp("site"))


def _hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strict_build_has_every_page_and_the_figures(site):
    for page in DOCS.rglob("*.md"):
        built = site / page.relative_to(DOCS).with_suffix("") / "index.html"
        if page.name == "index.md":
            built = site / page.relative_to(DOCS).with_name("index.html")
        assert built.is_file(), f"{page.relative_to(ROOT)} was not built"
    for figure in (DOCS / "figures").rglob("*.png"):
        assert (site / figure.relative_to(DOCS)).is_file()
    assert "fonts.googleapis" not in (site / "index.html").read_text()  # nothing from a CDN


def test_reference_lists_every_public_name_of_every_module(site):
    hooks = _hooks()
    modules, missing = [], []
    for page in REFERENCE.glob("*.md"):
        for match in hooks._MARKER.finditer(page.read_text()):
            modules.append(match.group(1))
            html = (site / "reference" / page.stem / "index.html").read_text()
            for name in hooks.public_names(match.group(1)):
                target = hooks.anchor(match.group(1), name)
                if f'id="{target}"' not in html:
                    missing.append(f"{match.group(1)}.{name} (as {target})")
    assert not missing, f"{len(missing)} public names are not in the reference: {missing}"
    for wanted in ("deepnum", "deepnum.nn", "deepnum.nn.functional", "deepnum.optim",
                   "deepnum.autograd", "deepnum.train", "deepnum.data", "deepnum.models"):
        assert wanted in modules


def test_doctest_examples_render_as_code(site):
    html = (site / "reference" / "train" / "index.html").read_text()
    assert "backprop_trace" in html
    assert "&gt;&gt;&gt;" in html and "<blockquote>" not in html


def test_a_broken_link_fails_the_build(tmp_path):
    """The project's own mkdocs.yml (strict, its validation settings) on a one-page site whose
    page links to a page that does not exist."""
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["nav"] = [{"Home": "index.md"}]
    config["hooks"] = [str(DOCS / "hooks.py")]
    config["plugins"] = ["search"]  # the reference is not what this checks
    config["markdown_extensions"] = [e for e in config["markdown_extensions"]
                                     if "snippets" not in str(e)]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# A page\n\n[gone](no-such-page.md)\n")
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(DocsUnavailable, match="no-such-page"):
        build(tmp_path / "site", root=tmp_path)


def test_docs_command_serves_the_site_on_loopback(site):
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/tutorials/backprop/") as response:
            assert response.status == 200 and b"backprop_trace" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_docs_command_rejects_a_bad_port(capsys):
    assert main(["docs", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err
