"""The embedded local AWS: moto's server on loopback, speaking the real S3 and DynamoDB protocols over HTTP.

Its state is kept on disk (see `Store`), so buckets, objects and tables outlive a stop, a restart or a crash.
"""

from __future__ import annotations

import contextlib
import copyreg
import fcntl
import functools
import hashlib
import logging
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from mediahub.bootstrap import bootstrap

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def endpoint_address(url: str) -> tuple[str, int] | None:
    """(host, port) of a loopback endpoint URL; None for anything else (real AWS, a remote emulator)."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK_HOSTS:
        return None
    return parts.hostname, parts.port or 80


def is_up(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def data_dir() -> Path:
    """Where the local AWS keeps its state, beside the SQLite file."""
    return settings.LOCAL_DATA_DIR / "localaws"


def start_server(host: str, port: int, store: Store | None = None):
    """Start moto's threaded server and return it; the caller stops it. With a store, restore it first and save
    changes into it (the caller runs `store.snapshots()` and saves once more after stopping the server)."""
    from moto.server import ThreadedMotoServer  # dev dependency: never imported on Lambda

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if store is not None:
        store.load()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    lock = store.lock if store is not None else threading.Lock()
    server._server.app = one_request_at_a_time(server._server.app, lock)
    if store is not None:
        server._server.app = store.watch(server._server.app)  # the WSGI app, wrapped as tests/deploy does
    return server


def one_request_at_a_time(app, lock: threading.Lock):
    """Serve one request at a time, each whole: AWS makes each request atomic (a conditional write, a
    transaction, a versioned PUT), but moto's backends are plain Python objects without locks, so two threads
    can interleave inside one of its requests (two conditional ADDs both passing). Races between requests, the
    ones mediahub must survive, still happen exactly as on AWS. A snapshot of the state takes the same lock, so it
    falls between requests."""

    def serialized(environ, start_response):
        with lock:
            return [b"".join(app(environ, start_response))]

    return serialized


def ensure_running(wait_seconds: float = 30) -> subprocess.Popen | None:
    """Make sure the local AWS named by AWS_ENDPOINT_URL answers, starting it in the background if needed.

    Called by runserver and the Celery worker, so a Django developer's habit (`manage.py runserver`) works
    without `make run`. Real AWS endpoints are left alone. Returns the process it started, if any.
    """
    address = endpoint_address(settings.AWS_ENDPOINT_URL or "")
    if address is None or is_up(*address):
        return None
    settings.LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    log_path = settings.LOCAL_DATA_DIR / "localaws.log"
    manage = settings.BASE_DIR / "manage.py"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(manage), "localaws", "--no-bootstrap"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if is_up(*address):
            bootstrap()
            print(f"Started the local AWS at {settings.AWS_ENDPOINT_URL} (log: {log_path}).", file=sys.stderr)
            return process
        if process.poll() is not None:  # it refused to start (saved state unreadable, data folder in use)
            break
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(
        f"The local AWS at {settings.AWS_ENDPOINT_URL} did not start; run `make run` or "
        f"`python manage.py localaws` and see {log_path}."
    )


def reset() -> str:
    """Empty the local AWS: live if it is answering (then bootstrap it again), else by removing its saved state.

    Says what it did."""
    endpoint = settings.AWS_ENDPOINT_URL or ""
    address = endpoint_address(endpoint)
    if address is None:
        raise StoreError(f"AWS_ENDPOINT_URL={endpoint!r} is not a loopback address: refusing to reset it.")
    if is_up(*address):
        # moto's own reset; the running server saves the emptied state within SNAPSHOT_SECONDS.
        import requests  # dev dependency, like moto

        requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
        bootstrap()
        return f"Emptied the running local AWS at {endpoint} and created its buckets and tables again."
    folder = data_dir()
    if Store.in_use(folder):
        raise StoreError(f"A local AWS on another port is using {folder}: stop it first.")
    shutil.rmtree(folder, ignore_errors=True)
    return f"Removed the local AWS's saved state ({folder})."


# --- Keeping the state on disk ------------------------------------------------------------------------------
# A snapshot of moto's backends, written after changes (at most every SNAPSHOT_SECONDS) and on stop, rather than
# moto's recorder: replaying every request ever made gets slower with each upload, and a replay re-runs requests
# against a newer clock. Object bodies are kept apart, one file per distinct content, written once and read only
# when fetched, so a snapshot rewrites only metadata however many photos there are, and start-up reads none.
# A kill -9 loses what changed since the last snapshot: at most SNAPSHOT_SECONDS of activity (or, with a state
# so big that one snapshot takes longer than a quarter of that, SNAPSHOT_SHARE times as long as one takes).

SNAPSHOT_SECONDS = 1.0
SNAPSHOT_SHARE = 4  # the pause after a snapshot is at least this many times as long as the snapshot took
# What the app uses locally. Not KMS, where DynamoDB makes its tables' key: a table keeps only the key's ARN,
# nothing here calls KMS, and moto's keys hold private keys that cannot be pickled.
PERSISTED_SERVICES = ("s3", "dynamodb")
# JSON-protocol services name the operation in X-Amz-Target; these change nothing.
READ_OPERATIONS = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")
BLOB_ATTRIBUTE = "_mediahub_blob"  # set on moto's FakeKey: the name of the file holding its body


class StoreError(Exception):
    """The saved state cannot be used: damaged, written by another moto version, or held by another process."""


def _changes_state(environ: dict) -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    return not operation.startswith(READ_OPERATIONS) if operation else True


class _Body:
    """A restored object's body, left in its file until something reads it: start-up reads no bodies, and memory
    holds only what is fetched. It stands in for the SpooledTemporaryFile a FakeKey keeps its body in, which moto
    only seeks, reads and closes once the key exists (a new body is always a new key)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.position = 0
        self.closed = False

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        self.position = position if whence == os.SEEK_SET else self.position + position
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError("read of closed file")  # what a disposed key's buffer raises
        with open(self.path, "rb") as file:
            file.seek(self.position)
            data = file.read(size)
        self.position += len(data)
        return data

    def close(self) -> None:
        self.closed = True


def _restore_key(blobs: Path, cls: type, state: dict, body: str) -> Any:
    key = cls.__new__(cls)
    key.__dict__.update(state, _value_buffer=_Body(blobs / body), lock=threading.Lock())
    key.__dict__[BLOB_ATTRIBUTE] = body  # so the next snapshot need not read and hash the body again
    return key


def _pickle_key(key: Any, blob_of: Callable[[Any], str]) -> tuple:
    """A FakeKey as (how to restore it, its state without the body, the body's file name)."""
    body = blob_of(key)
    state = {k: v for k, v in key.__dict__.items() if k not in ("_value_buffer", "lock", BLOB_ATTRIBUTE)}
    return _restore_key, (type(key), state, body)


class _Pickler(pickle.Pickler):
    """Pickles FakeKeys without their bodies, noting which body files the snapshot refers to."""

    def __init__(self, file, store: Store) -> None:
        from moto.s3.models import FakeKey

        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.store = store
        self.blobs: set[str] = set()
        # A dispatch table rather than reducer_override: the pickler looks types up in C, and only FakeKeys
        # (not the hundreds of thousands of other objects in a big state) call back into Python.
        self.dispatch_table = {**copyreg.dispatch_table, FakeKey: lambda key: _pickle_key(key, self.blob_of)}

    def blob_of(self, key: Any) -> str:
        name = self.store.blob_of(key)
        self.blobs.add(name)
        return name


class _Unpickler(pickle.Unpickler):
    """Restores FakeKeys with bodies left in `blobs` (the folder is this load's, not one written in the file)."""

    def __init__(self, file, blobs: Path) -> None:
        super().__init__(file)
        self.blobs = blobs

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == (__name__, _restore_key.__name__):
            return functools.partial(_restore_key, self.blobs)
        return super().find_class(module, name)


class Store:
    """moto's backends saved in `root`: state.pickle (a header, then everything but object bodies) and
    blobs/<sha256> (the bodies). Held by one process at a time (a lock file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / "state.pickle"
        self.blobs = root / "blobs"
        self.lock = threading.Lock()  # held by each request (one_request_at_a_time) and by each snapshot
        self.dirty = threading.Event()
        self._on_disk: set[str] = set()
        self._lock_file = None

    @staticmethod
    def in_use(root: Path) -> bool:
        try:
            with open(root / "lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return False
        except FileNotFoundError:
            return False
        except BlockingIOError:
            return True

    @staticmethod
    def saved_at(root: Path) -> float | None:
        """When the snapshot in `root` was taken (time.time()), read from its header alone; None without one."""
        try:
            with open(root / "state.pickle", "rb") as file:
                return pickle.load(file)["taken_at"]  # noqa: S301 (this machine's own file, like the SQLite one)
        except FileNotFoundError:
            return None

    def load(self) -> None:
        """Take the folder (refusing one another process holds), and restore its snapshot into moto's backends."""
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.root / "lock", "a")  # noqa: SIM115 (held for the life of the process)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"Another local AWS is using {self.root}: stop it first.") from None
        for leftover in self.root.glob("**/*.tmp"):  # a write a kill interrupted
            leftover.unlink()
        self._on_disk = {path.name for path in self.blobs.iterdir()}
        if not self.state.exists():
            return
        try:
            with open(self.state, "rb") as file:
                pickle.load(file)  # noqa: S301 (the header; this machine's own file, like the SQLite one)
                saved = _Unpickler(file, self.blobs).load()
        except Exception as exc:
            raise StoreError(
                f"The local AWS's saved state in {self.root} cannot be read ({exc!r}): `make reset` empties it."
            ) from exc
        _install(saved)

    def watch(self, app: Callable) -> Callable:
        """The WSGI app, noting requests that may have changed something."""

        def watched(environ: dict, start_response: Callable) -> Any:
            response = app(environ, start_response)
            if _changes_state(environ):
                self.dirty.set()
            return response

        self.dirty.set()  # save once soon after start: a request served before this wrapper was in place counts too
        return watched

    def save(self) -> None:
        """Write a snapshot atomically (a temporary file, then a rename), then drop bodies nothing refers to."""
        with self.lock:
            self.dirty.clear()
            temporary = self.state.with_suffix(".tmp")
            with open(temporary, "wb") as file:
                pickle.dump({"taken_at": time.time()}, file)
                pickler = _Pickler(file, self)
                pickler.dump(_backends())
            os.replace(temporary, self.state)
            for name in self._on_disk - pickler.blobs:
                (self.blobs / name).unlink(missing_ok=True)
            self._on_disk &= pickler.blobs

    def blob_of(self, key: Any) -> str:
        """The name of the file holding `key`'s body, written now if missing. A FakeKey's body never changes
        after it is made (moto makes a new key for each write), so its name is worked out once."""
        name = key.__dict__.get(BLOB_ATTRIBUTE)
        if name is None or name not in self._on_disk:
            try:
                value = key.value
            except ValueError:  # a deleted key's closed buffer (moto's own __getstate__ does the same)
                value = b""
            name = hashlib.sha256(value).hexdigest()
            if name not in self._on_disk:
                temporary = self.blobs / f"{name}.tmp"
                temporary.write_bytes(value)
                os.replace(temporary, self.blobs / name)
                self._on_disk.add(name)
            key.__dict__[BLOB_ATTRIBUTE] = name
        return name

    @contextlib.contextmanager
    def snapshots(self) -> Iterator[None]:
        """Save in the background while the block runs, after changes, at most every SNAPSHOT_SECONDS."""
        stop = threading.Event()

        def loop() -> None:
            interval = SNAPSHOT_SECONDS
            while not stop.wait(interval):
                if self.dirty.is_set():
                    started = time.monotonic()
                    try:
                        self.save()
                    except Exception:  # keep serving, and try again at the next interval
                        logging.getLogger(__name__).exception("Could not save the local AWS's state")
                        self.dirty.set()
                    # Requests wait while a snapshot is taken: however big the state, they get most of the time.
                    interval = max(SNAPSHOT_SECONDS, SNAPSHOT_SHARE * (time.monotonic() - started))

        thread = threading.Thread(target=loop, name="localaws-snapshots", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _backends() -> dict[str, dict[str, dict[str, Any]]]:
    """service -> account -> region -> moto's backend object, for the services kept on disk."""
    from moto.backends import get_backend

    return {
        service: {account: dict(regions) for account, regions in get_backend(service).items()}
        for service in PERSISTED_SERVICES
    }


def _install(saved: dict[str, dict[str, dict[str, Any]]]) -> None:
    from moto.backends import get_backend

    for service, accounts in saved.items():
        backends = get_backend(service)
        for account, regions in accounts.items():
            for region, backend in regions.items():
                dict.__setitem__(backends[account], region, backend)  # past moto's lazy creation of a fresh one
