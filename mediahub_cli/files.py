"""The local side: which files to send, what they are, their checksums, and bounded reads of their bytes."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024  # every read is at most this: memory stays bounded whatever the file's size
SNIFF_BYTES = 64
# What mediahub accepts, told by the first bytes as the server tells it (uploads/filetypes.py; a test keeps the
# two equal): (offset, signature, MIME type). ISO media files are told by their brand, below.
SIGNATURES = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
)
ISO_BRANDS = {b"avif": "image/avif", b"avis": "image/avif", b"qt  ": "video/quicktime"}
ISO_BRANDS.update(
    dict.fromkeys(
        (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash", b"iso5", b"iso6", b"MSNV"), "video/mp4"
    )
)
# HEIF still-image brands, major or compatible (uploads/filetypes.py says why these and not the sequence brands).
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis"}
HEIF_IMAGE_BRAND = b"mif1"
ACCEPTED = "JPEG, PNG, WebP, GIF, AVIF, HEIC, MP4, QuickTime, WebM and PDF"


class Unsendable(Exception):
    """A file that cannot be sent as it is (unreadable, empty, not a type mediahub accepts): reported, skipped."""


@dataclass(frozen=True)
class LocalFile:
    path: Path  # absolute
    root: Path | None  # the folder named on the command line it was found in, None for a file named itself
    size: int
    mtime_ns: int
    content_type: str

    @property
    def shown(self) -> str:
        return shown(self.path)


def shown(path: Path) -> str:
    """A path as a person reads it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def sniff(head: bytes) -> str | None:
    """The MIME type of a file mediahub accepts, from its first bytes; None for anything else."""
    for offset, signature, content_type in SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return ISO_BRANDS.get(head[8:12]) or heif_type(head)
    return None


def heif_type(head: bytes) -> str | None:
    """AVIF, HEIC or HEIF by the ftyp box's major and compatible brands (an iPhone's: major heic; others: mif1)."""
    end = min(int.from_bytes(head[:4], "big"), len(head))
    brands = {head[8:12], *(head[offset : offset + 4] for offset in range(16, end - 3, 4))}
    if b"avif" in brands:
        return "image/avif"
    if brands & HEIC_BRANDS:
        return "image/heic"
    return "image/heif" if HEIF_IMAGE_BRAND in brands else None


def discover(paths: list[str]) -> Iterator[tuple[Path, Path | None] | tuple[str, str]]:
    """Each file to consider as (path, root folder or None), folders walked recursively in name order; a path
    that is neither yields (path, problem). Hidden files and folders inside a folder (.DS_Store, .git) are left
    out; a hidden file named on the command line is not."""
    for given in paths:
        path = Path(given).absolute()
        if path.is_dir():
            yield from ((file, path) for file in walk(path))
        elif path.is_file():
            yield path, None
        else:
            yield given, "No such file or folder." if not path.exists() else "Not a regular file."


def walk(folder: Path) -> Iterator[Path]:
    for parent, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and (Path(parent) / name).is_file():
                yield Path(parent) / name


def inspect(path: Path, root: Path | None) -> LocalFile:
    """What the file is, from its first bytes; Unsendable with the reason if it cannot be sent."""
    try:
        stat = path.stat()
        with path.open("rb") as fp:
            head = fp.read(SNIFF_BYTES)
    except OSError as exc:
        raise Unsendable(f"Cannot read it: {exc.strerror or exc}.") from None
    if stat.st_size == 0:
        raise Unsendable("The file is empty.")
    content_type = sniff(head)
    if content_type is None:
        guessed = mimetypes.guess_type(path.name)[0] or "unknown"
        raise Unsendable(f"Not a type mediahub accepts ({guessed}); it accepts {ACCEPTED}.")
    return LocalFile(path, root, stat.st_size, stat.st_mtime_ns, content_type)


def chunks(path: Path, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The bytes of `path` from `offset`, `length` of them (all by default), CHUNK at a time."""
    with path.open("rb") as fp:
        fp.seek(offset)
        left = length if length is not None else float("inf")
        while left > 0:
            chunk = fp.read(int(min(CHUNK, left)))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def sha256_hex(path: Path, on_read: Callable[[int], None] = lambda n: None) -> str:
    digest = hashlib.sha256()
    for chunk in chunks(path):
        digest.update(chunk)
        on_read(len(chunk))
    return digest.hexdigest()


def part_checksum(path: Path, offset: int, length: int) -> str:
    """A part's SHA-256, base64, as S3's x-amz-checksum-sha256 header (and the server) take it."""
    digest = hashlib.sha256()
    for chunk in chunks(path, offset, length):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


class Reader:
    """A file-like view of `length` bytes of a file from `offset`, for a request body: requests sends it with its
    Content-Length, reading a block at a time, and `on_read` hears of every block sent."""

    def __init__(self, pieces: list[bytes | tuple[Path, int, int]], on_read: Callable[[int], None]) -> None:
        self.pieces = pieces  # bytes, or (path, offset, length) read from disk when reached
        self.length = sum(p[2] if isinstance(p, tuple) else len(p) for p in pieces)
        self.on_read = on_read
        self._stream = self._blocks()
        self._block, self._at = b"", 0

    def __len__(self) -> int:
        return self.length

    def _blocks(self) -> Iterator[bytes]:
        for piece in self.pieces:
            yield from (chunks(*piece) if isinstance(piece, tuple) else [piece])

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all that is left when negative); copies only what it returns."""
        out, wanted = [], size if size >= 0 else self.length
        while wanted > 0:
            if self._at >= len(self._block):
                self._block, self._at = next(self._stream, b""), 0
                if not self._block:
                    break
            piece = self._block[self._at : self._at + wanted]
            self._at += len(piece)
            wanted -= len(piece)
            out.append(piece)
        data = b"".join(out)
        self.on_read(len(data))
        return data
