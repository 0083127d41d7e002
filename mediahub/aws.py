"""One place that builds boto3 clients: lazily, once per service and endpoint, from settings.

Pointed at the emulator (AWS_ENDPOINT_URL set) or at real AWS, callers do not change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings


class AwsError(Exception):
    """An AWS call failed. `transient` says whether trying again later may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@lru_cache(maxsize=16)
def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    # The emulator on loopback cannot serve virtual-hosted bucket names, so path style there.
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        signature_version="s3v4",
    )
    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def client(service: str) -> Any:
    """A cached boto3 client for `service` on the endpoint the settings name."""
    return _client(service, settings.AWS_ENDPOINT_URL or None, settings.AWS_REGION)
