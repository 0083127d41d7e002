"""Writing a ZIP straight into S3: a non-seekable sink that sends the bytes as a multipart upload, part by part,
and the names the entries get.

Python's zipfile writes to a sink it cannot seek by putting each entry's sizes and CRC in a data descriptor after
its bytes; the central directory (a few dozen bytes an entry) is the only thing it keeps until the end. So memory
holds at most one part being filled and one being sent, whatever the ZIP's size, and nothing touches the disk.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings

from mediahub.aws import client

MIN_PART = 5 * 1024**2  # S3's smallest part but the last


class S3PartWriter:
    """A write-only, non-seekable file object whose bytes become the object at `key` in the renditions bucket.

    Each full part is sent while the next one fills (one upload in flight), so reading the originals and writing
    the ZIP overlap. `close()` completes the multipart upload; `abort()` drops it and every part sent.
    """

    def __init__(self, key: str, *, part_size: int) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"parts must be at least {MIN_PART} bytes")
        self.key, self.part_size, self.size = key, part_size, 0
        self._buffer = bytearray()
        self._parts: list[dict] = []
        self._sending: Future | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zip-part")
        self._upload_id = client("s3").create_multipart_upload(
            Bucket=settings.RENDITIONS_BUCKET, Key=key, ContentType="application/zip"
        )["UploadId"]

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= self.part_size:
            with memoryview(self._buffer) as view:
                part = bytes(view[: self.part_size])  # one copy, not a slice's and then bytes()'s
            del self._buffer[: self.part_size]
            self._send(part)
        return len(data)

    def flush(self) -> None:
        """zipfile flushes after each entry; parts go out only when full (S3 wants 5 MiB but the last)."""

    def _send(self, part: bytes) -> None:
        self._wait()
        number = len(self._parts) + 1
        self._parts.append({"PartNumber": number})
        self._sending = self._pool.submit(self._upload, number, part)

    def _upload(self, number: int, part: bytes) -> None:
        answer = client("s3").upload_part(
            Bucket=settings.RENDITIONS_BUCKET, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._parts[number - 1]["ETag"] = answer["ETag"]

    def _wait(self) -> None:
        if self._sending is not None:
            sending, self._sending = self._sending, None
            sending.result()  # a failed part raises here, in the writer's thread

    def close(self) -> None:
        """Send what is left as the last part and join the parts into the object."""
        if self._buffer or not self._parts:
            self._send(bytes(self._buffer))
            self._buffer = bytearray()
        self._wait()
        self._pool.shutdown()
        client("s3").complete_multipart_upload(
            Bucket=settings.RENDITIONS_BUCKET,
            Key=self.key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        """Give up: the part in flight finishes or fails, then S3 drops the upload and its parts. Idempotent."""
        with contextlib.suppress(Exception):  # the upload is dropped whatever the part in flight did
            self._wait()
        self._pool.shutdown()
        try:
            client("s3").abort_multipart_upload(
                Bucket=settings.RENDITIONS_BUCKET, Key=self.key, UploadId=self._upload_id
            )
        except client("s3").exceptions.NoSuchUpload:
            pass


# --- Entry names ----------------------------------------------------------------------------------------------

NAME_MAX = 150  # characters: well inside every file system's 255 bytes, with room for " (999)"
# What Windows refuses in a name (and the separators every unzipper splits on).
UNSAFE = re.compile(r'[/\\<>:"|?*]')
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}


def safe_name(name: str, fallback: str) -> str:
    """One path segment any unzipper writes where it is told: no folders (so no `..` or absolute paths), no
    control or format characters, nothing Windows refuses; `fallback` if nothing usable is left."""
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else c for c in name)
    name = UNSAFE.sub("_", name).strip(" .")  # Windows drops trailing dots and spaces; a leading dot hides a file
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].upper() in RESERVED:
        stem = f"_{stem}"
    ext = ext[:16]
    stem = stem[: NAME_MAX - len(ext) - 1]
    name = f"{stem}.{ext}" if ext and stem else (stem or ext)
    return name if name.strip("_ ") else fallback


def unique_names(names: list[str]) -> list[str]:
    """The names made distinct as a file manager does: `photo.jpg`, `photo (2).jpg`, ... Compared without case,
    as on Windows and macOS, where `A.jpg` and `a.jpg` would overwrite each other."""
    taken: set[str] = set()
    out = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, dot, ext = name, "", ""
        candidate, n = name, 1
        while candidate.casefold() in taken:
            n += 1
            candidate = f"{stem} ({n}){dot}{ext}"
        taken.add(candidate.casefold())
        out.append(candidate)
    return out
