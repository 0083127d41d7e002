"""The site's JSON API over HTTP: one function per call, and retries with backoff for what may pass."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ATTEMPTS = 6  # 1 + 2 + 4 + 8 + 16 s of backoff: half a minute of outage is ridden out
MAX_WAIT = 60.0  # a Retry-After longer than this is cut to it (the rate windows are at most a minute)
CHECKSUMS_PER_LOOKUP = 50  # the server's limit for GET /api/media/?sha256=
EMPTY_SHA256 = (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # never stored: empty files are refused
)


class ApiError(Exception):
    """The server (or storage) refused, or kept failing: `message` is what it said, for a person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Unusable(Exception):
    """The URL or the token cannot work for any file: the run stops (exit status 2)."""


@dataclass
class Api:
    url: str  # the site's origin, e.g. https://media.example.org (no trailing slash)
    token: str
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    timeout: float = 60.0
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def session(self) -> requests.Session:
        """One session (and connection pool) per thread: requests does not promise a shared one is safe."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        send = lambda: self.session().request(  # noqa: E731
            method, self.url + path, headers=headers, timeout=self.timeout, **kwargs
        )
        return with_retries(send, self.backoff)


def with_retries(send: Callable[[], requests.Response], backoff: float, on_retry: Callable[[], None] = lambda: None):
    """`send()` until it answers with something other than 429 or 5xx, waiting longer each time (Retry-After when
    given); the last answer after ATTEMPTS, or ApiError(0) if the network kept failing."""
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            response = send()
        except (requests.ConnectionError, requests.Timeout) as exc:
            if last:
                raise ApiError(0, f"network error: {exc}") from exc
            wait = None
        else:
            if response.status_code not in RETRY_STATUSES or last:
                return response
            wait = retry_after(response)
        on_retry()
        time.sleep(min(MAX_WAIT, wait if wait is not None else backoff * 2**attempt * random.uniform(0.8, 1.2)))  # noqa: S311 (jitter)
    raise AssertionError("unreachable")


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def message_of(response: requests.Response) -> str:
    """The server's own words: every message of its {"errors": {field: [...]}} body, else the status."""
    try:
        errors = response.json().get("errors") or {}
        messages = [m for values in errors.values() for m in values if isinstance(m, str)]
    except (ValueError, AttributeError):
        messages = []
    return " ".join(messages) or f"HTTP {response.status_code} {response.reason}"


def expect(response: requests.Response, *ok: int) -> requests.Response:
    """The response if its status is one of `ok`; Unusable for 401/403 (no file can go in), else ApiError."""
    if response.status_code in ok:
        return response
    if response.status_code in (401, 403):
        raise Unusable(f"The site refused the token ({response.status_code}): {message_of(response)}")
    raise ApiError(response.status_code, message_of(response))


# --- The calls ----------------------------------------------------------------------------------------------------


def probe(api: Api) -> None:
    """Unusable unless `api.url` is a mediahub site that takes `api.token`: one cheap lookup."""
    try:
        response = api.call("GET", "/api/media/", params={"sha256": EMPTY_SHA256})
    except ApiError as exc:
        raise Unusable(f"Cannot reach {api.url}: {exc.message}") from None
    try:
        looks_right = "items" in response.json() or "errors" in response.json()
    except ValueError:
        looks_right = False
    if not looks_right:
        raise Unusable(f"{api.url} does not answer as a mediahub site (HTTP {response.status_code} at /api/media/).")
    expect(response, 200)


def lookup(api: Api, checksums: list[str]) -> dict[str, dict]:
    """SHA-256 (hex) -> one of the caller's items in the library with that file, for those that have one."""
    found: dict[str, dict] = {}
    for batch in batched(checksums, CHECKSUMS_PER_LOOKUP):
        response = expect(api.call("GET", "/api/media/", params={"sha256": ",".join(batch)}), 200)
        for item in response.json()["items"]:
            found.setdefault(item["sha256"], item)
    return found


def batched(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def create(api: Api, **fields) -> dict:
    """POST /api/media/: {id, upload: {url, fields}} or {id, multipart: {uploadId, partSize, partCount}}."""
    return expect(api.call("POST", "/api/media/", json=fields), 201).json()


def get_item(api: Api, media_id: str) -> dict | None:
    response = api.call("GET", f"/api/media/{media_id}")
    return None if response.status_code == 404 else expect(response, 200).json()


def delete_item(api: Api, media_id: str) -> None:
    expect(api.call("DELETE", f"/api/media/{media_id}"), 204, 404)


def sign_parts(api: Api, media_id: str, numbers: list[int], checksums: list[str]) -> list[dict]:
    body = {"partNumbers": numbers, "checksums": checksums}
    return expect(api.call("POST", f"/api/media/{media_id}/parts", json=body), 200).json()["parts"]


def list_parts(api: Api, media_id: str) -> dict:
    """{partSize, partCount, parts: [{partNumber, size, etag}]}; ApiError 404 (gone) or 409 (upload over)."""
    return expect(api.call("GET", f"/api/media/{media_id}/parts"), 200).json()


def complete(api: Api, media_id: str) -> requests.Response:
    """202 with the item, 422 refused (errors.file), 409 parts missing: the caller reads which."""
    return expect(api.call("POST", f"/api/media/{media_id}/complete"), 202, 409, 422)
