"""The PynamoDB base every mediahub model builds on.

Table names, region and endpoint are read from settings when a table is used, not when the class is defined,
so a stage (or a test run) with its own table prefix never touches another's tables.
"""

from __future__ import annotations

import threading

from django.conf import settings
from pynamodb.connection import Connection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

registry: list[type[Model]] = []


class _SettingsMeta(type):
    @property
    def table_name(cls) -> str:
        return f"{settings.DYNAMODB_TABLE_PREFIX}{cls.base_name}"

    @property
    def host(cls) -> str | None:
        return settings.AWS_ENDPOINT_URL or None

    @property
    def region(cls) -> str:
        return settings.AWS_REGION


def table_meta(base_name: str) -> type:
    """The `Meta` for a model whose table is `<DYNAMODB_TABLE_PREFIX><base_name>`."""
    return _SettingsMeta(
        "Meta",
        (),
        {"base_name": base_name, "billing_mode": "PAY_PER_REQUEST", "connect_timeout_seconds": 5},
    )


def register(model: type[Model]) -> type[Model]:
    """Class decorator: the bootstrap command creates a table for every registered model."""
    registry.append(model)
    return model


def condition_failed(exc: Exception) -> bool:
    """A conditional write refused because its condition did not hold (not a fault: someone got there first)."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


_connections = threading.local()


def _connection() -> Connection:
    """One PynamoDB connection per thread and endpoint: a new one builds a botocore client, which costs about as
    much as the whole upload it serves (0.1-0.4 s; bench/uploads.py found it in every complete)."""
    key = (settings.AWS_REGION, settings.AWS_ENDPOINT_URL or None)
    cached = _connections.__dict__.setdefault("by_endpoint", {})
    if key not in cached:
        cached[key] = Connection(region=key[0], host=key[1])
    return cached[key]


def transaction() -> TransactWrite:
    """A TransactWriteItems on the endpoint the settings name: several records change together or not at all."""
    return TransactWrite(connection=_connection())
