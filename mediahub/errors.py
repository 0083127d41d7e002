"""Domain errors: what services raise and every adapter (pages, the JSON API, tasks, Lambda handlers) understands.

They live below the HTTP layer, so a service never imports a view module to say "no".
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException


class StorageUnavailable(Exception):
    """Storage failed in a way that may pass: try again later."""


STORAGE_ERRORS = (ClientError, BotoCoreError, PynamoDBException, StorageUnavailable)
STORAGE_DOWN = "Storage is unavailable right now; please try again in a moment."


class Refusal(Exception):
    """A request that cannot be done, with a message for a person: the page shows it, the API returns it."""

    http_status = 400
    field = "__all__"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(Refusal):
    http_status = 404
    field = "id"


class Conflict(Refusal):
    http_status = 409
    field = "status"


class RateLimited(Refusal):
    """Too many requests of one kind in a window: refused until the window ends, `retry_after` seconds from now."""

    http_status = 429
    field = "rate"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
