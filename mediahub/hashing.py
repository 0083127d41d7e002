"""One way to store a secret token: its SHA-256, so a leaked table or database leaks no working token."""

from __future__ import annotations

import hashlib


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
