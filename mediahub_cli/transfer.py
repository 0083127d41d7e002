"""The storage side: the file's bytes straight to S3, through the URLs the site signed, streamed from disk."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from mediahub_cli.api import ApiError, with_retries
from mediahub_cli.files import Reader

TIMEOUT = 300  # seconds without a byte moving before a transfer is given up (and retried)


class Sent:
    """Reports the file's bytes as they go (not the form's own), and takes them back if the attempt fails."""

    def __init__(self, report: Callable[[int], None], skip: int, size: int) -> None:
        self.report, self.skip, self.size = report, skip, size
        self.read = self.reported = 0

    def __call__(self, n: int) -> None:
        self.read += n
        now = min(max(self.read - self.skip, 0), self.size)
        self.report(now - self.reported)
        self.reported = now

    def undo(self) -> None:
        self.report(-self.reported)
        self.read = self.reported = 0


def post_file(upload: dict, path: Path, size: int, report: Callable[[int], None], backoff: float) -> None:
    """The presigned POST: every field, then the file (last, as S3 wants it), as multipart/form-data."""
    boundary = uuid.uuid4().hex
    head = b"".join(form_field(boundary, name, value) for name, value in upload["fields"].items())
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\n'.encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    sent = Sent(report, len(head), size)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def send() -> requests.Response:
        body = Reader([head, (path, 0, size), tail], sent)
        return requests.post(upload["url"], data=body, headers=headers, timeout=TIMEOUT)

    check(with_retries(send, backoff, on_retry=sent.undo), sent)


def form_field(boundary: str, name: str, value: str) -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def put_part(signed: dict, path: Path, offset: int, length: int, report: Callable[[int], None], backoff: float):
    """One part's bytes to its presigned PUT URL, with the headers signed into it (its SHA-256)."""
    sent = Sent(report, 0, length)

    def send() -> requests.Response:
        body = Reader([(path, offset, length)], sent)
        return requests.put(signed["url"], data=body, headers=signed["headers"], timeout=TIMEOUT)

    check(with_retries(send, backoff, on_retry=sent.undo), sent)


def check(response: requests.Response, sent: Sent) -> None:
    if response.status_code >= 300:
        sent.undo()
        raise ApiError(
            response.status_code, f"Storage refused the bytes ({response.status_code}): {s3_message(response)}"
        )


def s3_message(response: requests.Response) -> str:
    """S3's <Message> (or its <Code>) from an XML error body."""
    for tag in ("Message", "Code"):
        if found := re.search(rf"<{tag}>(.*?)</{tag}>", response.text or "", re.S):
            return found.group(1)
    return response.reason or "no reason given"
