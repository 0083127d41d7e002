"""What earlier runs did, so that the same command run again continues: a small JSON file.

{"version": 1, "site": URL, "files": {absolute path: {"size", "mtimeNs", "sha256", "id", "inParts", "done"}}}

An entry counts only while the file's size and modification time are unchanged; a changed file is a new file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from mediahub_cli.files import LocalFile

VERSION = 1


def default_path(site: str) -> Path:
    """One state file per site, in the user's cache folder ($XDG_CACHE_HOME, else ~/.cache)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mediahub" / f"uploads-{hashlib.sha256(site.encode()).hexdigest()[:12]}.json"


class State:
    def __init__(self, path: Path, site: str) -> None:
        self.path, self.site = path, site
        self.lock = threading.Lock()
        self.files: dict[str, dict] = load(path, site)

    def entry(self, local: LocalFile) -> dict | None:
        """The file's entry, if it was recorded for these very bytes (same size and modification time)."""
        entry = self.files.get(str(local.path))
        if entry and (entry.get("size"), entry.get("mtimeNs")) == (local.size, local.mtime_ns):
            return entry
        return None

    def remember(self, local: LocalFile, *, save: bool = True, **fields) -> None:
        """Record facts about the file (and forget those of an earlier version of it), then save at once (or at
        the next save: checksums of a whole library are saved together)."""
        with self.lock:
            entry = self.entry(local) or {"size": local.size, "mtimeNs": local.mtime_ns}
            entry.update(fields)
            self.files[str(local.path)] = entry
            if save:
                self._save()

    def save(self) -> None:
        with self.lock:
            self._save()

    def forget(self, local: LocalFile, *names: str) -> None:
        with self.lock:
            entry = self.files.get(str(local.path), {})
            for name in names:
                entry.pop(name, None)
            self._save()

    def _save(self) -> None:
        """Atomically (a rename), so a run killed mid-write leaves the previous state whole."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"version": VERSION, "site": self.site, "files": self.files}
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as fp:
            json.dump(document, fp, indent=1, sort_keys=True)
        os.replace(fp.name, self.path)


def load(path: Path, site: str) -> dict[str, dict]:
    """The recorded files, or none for a missing, unreadable or other site's state file (starting afresh only
    costs re-checking: files already in the library are still found by their checksum)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != VERSION or document.get("site") != site:
        return {}
    files = document.get("files")
    return files if isinstance(files, dict) else {}
