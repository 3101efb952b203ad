"""The `deepnum playground` command: options, the printed address, a busy port, loopback default."""

import socket
import subprocess
import sys
import time

import httpx
import pytest

from deepnum.playground import build_parser, serve


def test_options_default_to_loopback():
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.open_browser) == ("127.0.0.1", 8000, False)
    args = build_parser().parse_args(["--port", "0", "--open", "--host", "127.0.0.1"])
    assert args.port == 0 and args.open_browser


def test_a_busy_port_is_one_line_not_a_traceback(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert serve("127.0.0.1", taken.getsockname()[1]) == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err


def test_bad_port_is_refused(capsys):
    assert serve("127.0.0.1", 70000) == 2
    assert "--port" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_prints_its_address_and_serves_the_page():
    process = subprocess.Popen([sys.executable, "-m", "deepnum.playground", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("deepnum Playground: http://127.0.0.1:"), line
        url = line.split()[2]
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer in 15 s"
                time.sleep(0.05)
        assert response.status_code == 200 and "deepnum Playground" in response.text
    finally:
        process.terminate()
        process.wait(timeout=10)
