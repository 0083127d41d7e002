"""The local stack a benchmark runs against: moto's server in this process, watched, and the app's settings.

moto's server listens on a free loopback port and is reached over HTTP, as the app reaches AWS. `AwsCalls` wraps
it to count what it receives; `configure` points the settings at it (a unique prefix per run), with a throw-away
SQLite database in a temporary folder, and creates the tables and buckets with the app's own `bootstrap`.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from mediahub.localaws import start_server  # reads no settings on import


class AwsCalls:
    """WSGI middleware around moto's server: counts the HTTP requests it receives and the time it spends on them,
    how many were in flight at once by service, and how long it had at least one to answer (`busy`).

    Counting on the server side sees every client: PynamoDB builds its own botocore client per connection, so
    hooks on our boto3 clients would miss its calls; and a browser's requests are seen as they arrive.
    """

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.calls: Counter[tuple[str, str]] = Counter()
        self.seconds = 0.0
        self.busy = 0.0
        self.peak: Counter[str] = Counter()
        self._open: Counter[str] = Counter()
        self._busy_since = 0.0
        self._lock = threading.Lock()  # werkzeug serves each request on its own thread

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        call = describe_call(environ)
        kind = "preflight" if environ["REQUEST_METHOD"] == "OPTIONS" else call[0]
        started = self._enter(kind)
        try:
            return self.app(environ, start_response)
        finally:
            self._leave(kind, call, started)

    def _enter(self, kind: str) -> float:
        started = time.perf_counter()
        with self._lock:
            if not sum(self._open.values()):
                self._busy_since = started
            self._open[kind] += 1
            self.peak[kind] = max(self.peak[kind], self._open[kind])
        return started

    def _leave(self, kind: str, call: tuple[str, str], started: float) -> None:
        now = time.perf_counter()
        with self._lock:
            self._open[kind] -= 1
            if not sum(self._open.values()):
                self.busy += now - self._busy_since
            self.calls[call] += 1
            self.seconds += now - started

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.peak.clear()
            self.seconds = self.busy = 0.0
            self._busy_since = time.perf_counter()

    def by_service(self, service: str) -> Counter[str]:
        return Counter({op: n for (svc, op), n in self.calls.items() if svc == service})


def describe_call(environ: dict) -> tuple[str, str]:
    """(service, operation) of a signed request: the service from the SigV4 credential scope. Presigned requests
    (a browser's POST or part PUT) carry no Authorization header and are "unsigned"."""
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "unsigned"
    target = environ.get("HTTP_X_AMZ_TARGET", "")  # DynamoDB names its operation here, e.g. DynamoDB_20120810.Query
    operation = target.rpartition(".")[2] if target else f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}"
    return service, operation


def start_local_aws() -> tuple[Any, AwsCalls]:
    server = start_server("127.0.0.1", 0)
    calls = AwsCalls(server._server.app)
    server._server.app = calls  # werkzeug's handler reads server.app on every request
    return server, calls


def configure(endpoint: str, data_dir: str, **settings: str) -> None:
    """Settings come from the environment (`settings` adds to it); a unique prefix keeps these tables and buckets
    apart from any other. A server started afterwards in a subprocess inherits the same environment."""
    run = uuid.uuid4().hex[:8]
    os.environ.pop("DATABASE_URL", None)  # SQLite in the temporary folder, whatever the shell says
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mediahub.settings",
        LOCAL_DATA_DIR=data_dir,
        AWS_ENDPOINT_URL=endpoint,
        DYNAMODB_TABLE_PREFIX=f"bench-{run}-",
        UPLOADS_BUCKET=f"bench-{run}-uploads",
        RENDITIONS_BUCKET=f"bench-{run}-renditions",
        LOG_LEVEL="WARNING",
        **settings,
    )
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("bootstrap", stdout=quiet)
