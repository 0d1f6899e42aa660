"""`coursekit serve` answers only this machine (issue 24): a request must name
127.0.0.1, localhost or [::1] with the server's port in its Host header, a websocket
must come from one of those origins (DNS rebinding gets 403 and no socket), and a port
in use is a clear error before anything is built."""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from conftest import run_cli
from coursebuilder import make_course
from coursekit.serve import RELOAD_PATH, LiveReload, http_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    html = tmp_path_factory.mktemp("site")
    (html / "index.html").write_text("<html><body>THE-SITE</body></html>", encoding="utf-8")
    with http_server(html, "127.0.0.1", 0, LiveReload()) as url:
        yield int(url.rstrip("/").rsplit(":", 1)[1])


def _get(port: int, host: str | None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", "/index.html", skip_host=True)
    if host is not None:
        conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read().decode("utf-8", errors="replace")
    conn.close()
    return response.status, body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_the_site_answers_its_own_addresses(server: int, host: str) -> None:
    status, body = _get(server, host.format(port=server))
    assert status == 200 and "THE-SITE" in body


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:{port}",
        "evil.example",
        "127.0.0.1.evil.example:{port}",
        "localhost:1",
        "127.0.0.1",
        None,
    ],
)
def test_another_host_name_gets_403_and_not_the_site(server: int, host: str | None) -> None:
    status, body = _get(server, host.format(port=server) if host else None)
    assert status in (400, 403)
    assert "THE-SITE" not in body


def _socket_opens(port: int, origin: str | None, host: str | None = None) -> bool:
    async def attempt() -> bool:
        headers = {"Host": host} if host else {}
        try:
            async with connect(
                f"ws://127.0.0.1:{port}{RELOAD_PATH}",
                origin=origin,  # type: ignore[arg-type]
                additional_headers=headers,
                open_timeout=10,
            ):
                return True
        except InvalidStatus:
            return False

    # On a thread of its own: a worker that drove Playwright's sync API earlier in the
    # session has an event loop running on this one, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, attempt()).result()


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://localhost:{port}"])
def test_the_reload_socket_opens_for_the_sites_own_pages(server: int, origin: str) -> None:
    assert _socket_opens(server, origin.format(port=server))


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example:{port}", "http://evil.example", "null", "http://127.0.0.1:1"],
)
def test_the_reload_socket_refuses_other_origins(server: int, origin: str) -> None:
    assert not _socket_opens(server, origin.format(port=server))


def test_the_reload_socket_refuses_a_rebound_host_name(server: int) -> None:
    host = f"evil.example:{server}"
    assert not _socket_opens(server, f"http://{host}", host=host)


def test_a_port_in_use_is_said_before_building(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", root, "--port", port)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    assert f"--port {port}" in result.stderr and "in use" in result.stderr
    assert not (root / "_build" / "html").exists()  # nothing was built first
