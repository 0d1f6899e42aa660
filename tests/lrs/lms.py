"""The test LMS's web side: one origin (127.0.0.1, a free port) for everything an AU reaches.

Ralph has no State API and sends no CORS headers, so one small server serves:

- `/au/...`: the files of the unzipped cmi5 package;
- `/fetch/<key>`: the cmi5 fetch URL, POSTed once per launch for the auth token
  (`{"auth-token": <Ralph's Basic credentials>}`; a second POST gets the spec's error);
- `/xapi/activities/state`: the State API, in memory, where the LMS writes
  `LMS.LaunchData` before the launch (and the AU keeps its own progress);
- `/xapi/agents/profile`: the learner's cmi5LearnerPreferences;
- `/done`: the LMS page LaunchData's `returnURL` names (where Exit takes the learner);
- every other `/xapi/...` request (the statements): proxied to Ralph's `/xAPI/...`.
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

STATE = "/xapi/activities/state"
RETURN_PAGE = "/done"
PREFERENCES = {"languagePreference": "en-US", "audioPreference": "on"}
FORWARDED = ("Authorization", "Content-Type", "X-Experience-API-Version")


@dataclass
class Lms:
    """What the server holds and saw: state documents, fetch keys and their use."""

    package: Path  # the unzipped cmi5 zip
    ralph_url: str
    auth_token: str
    base: str = ""  # http://127.0.0.1:PORT, once serving
    state: dict[tuple[str, str, str, str], bytes] = field(default_factory=dict)
    fetches: dict[str, int] = field(default_factory=dict)  # fetch key -> POSTs received
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put_state(self, activity: str, agent: dict, registration: str, sid: str, doc: dict) -> None:
        key = (activity, _agent_key(json.dumps(agent)), registration, sid)
        with self.lock:
            self.state[key] = json.dumps(doc).encode()

    def new_fetch(self, key: str) -> str:
        with self.lock:
            self.fetches[key] = 0
        return f"{self.base}/fetch/{key}"


def _agent_key(text: str) -> str:
    """An agent as a key: its account (cmi5 actors are accounts), whatever the JSON spacing."""
    agent = json.loads(text)
    account = agent.get("account") or {}
    return f"{account.get('homePage')}|{account.get('name')}|{agent.get('mbox')}"


class _Handler(http.server.BaseHTTPRequestHandler):
    lms: Lms

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        if path.startswith("/au/"):
            self._file(unquote(path.removeprefix("/au/")))
        elif path == STATE:
            self._state_get()
        elif path == "/xapi/agents/profile":  # cmi5LearnerPreferences
            self._send(200, json.dumps(PREFERENCES).encode(), "application/json")
        elif path == RETURN_PAGE:  # where LaunchData's returnURL takes the learner
            self._send(200, b"<!DOCTYPE html><title>LMS</title><p>Back in the LMS.", "text/html")
        else:
            self._proxy()

    def do_PUT(self) -> None:  # noqa: N802
        if urlparse(self.path).path == STATE:
            self._state_put()
        else:
            self._proxy()

    def do_POST(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        if path.startswith("/fetch/"):
            self._fetch(path.removeprefix("/fetch/"))
        elif path == STATE:
            self._state_put()
        else:
            self._proxy()

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _file(self, rel: str) -> None:
        root = self.lms.package.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            self._send(404, b"not found", "text/plain")
            return
        kinds = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
        self._send(200, path.read_bytes(), kinds.get(path.suffix, "application/octet-stream"))

    def _state_key(self) -> tuple[str, str, str, str]:
        q = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        agent = _agent_key(q.get("agent", "{}"))
        return (q.get("activityId", ""), agent, q.get("registration", ""), q.get("stateId", ""))

    def _state_get(self) -> None:
        key = self._state_key()
        if not key[3]:  # no stateId: the ids of the documents kept for this activity and agent
            with self.lms.lock:
                ids = [k[3] for k in self.lms.state if k[:3] == key[:3]]
            self._send(200, json.dumps(ids).encode(), "application/json")
            return
        with self.lms.lock:
            doc = self.lms.state.get(key)
        if doc is None:
            self._send(404, b"", "text/plain")
        else:
            self._send(200, doc, "application/json")

    def _state_put(self) -> None:
        body = self._body()
        with self.lms.lock:
            self.lms.state[self._state_key()] = body
        self._send(204, b"", "text/plain")

    def _fetch(self, key: str) -> None:
        self._body()
        with self.lms.lock:
            known = key in self.lms.fetches
            uses = self.lms.fetches[key] = self.lms.fetches.get(key, 0) + 1
        if not known or uses > 1:  # cmi5 8.2.3: the token is handed out once
            error = {"error-code": "1", "error-text": "already in use"}
            self._send(200, json.dumps(error).encode(), "application/json")
            return
        token = {"auth-token": self.lms.auth_token}
        self._send(200, json.dumps(token).encode(), "application/json")

    def _proxy(self) -> None:
        parsed = urlparse(self.path)
        if not parsed.path.startswith("/xapi/"):
            self._send(404, b"not found", "text/plain")
            return
        target = f"{self.lms.ralph_url}/xAPI/{parsed.path.removeprefix('/xapi/')}"
        if parsed.query:
            target += f"?{parsed.query}"
        body = self._body() if self.command in ("POST", "PUT") else None
        headers = {h: self.headers[h] for h in FORWARDED if self.headers.get(h)}
        request = urllib.request.Request(target, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, data = response.status, response.read()
                kind = response.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
            kind = exc.headers.get("Content-Type", "application/json")
        self._send(status, data, kind)


@contextmanager
def serve_lms(package: Path, ralph_url: str, auth_token: str) -> Iterator[Lms]:
    """The LMS's server for the block, on 127.0.0.1 (a free port)."""
    lms = Lms(package, ralph_url, auth_token)
    handler = type("Handler", (_Handler,), {"lms": lms})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    lms.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield lms
    finally:
        server.shutdown()
        server.server_close()
