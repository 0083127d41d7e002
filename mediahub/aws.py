"""One place that builds boto3 clients: lazily, once per service and endpoint, from settings.

Pointed at the emulator (AWS_ENDPOINT_URL set) or at real AWS, callers do not change.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.config import Config
from django.conf import settings


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


# --- Presigned GET links, signed here -----------------------------------------------------------------------
# botocore spends about 0.6 ms per presigned URL (endpoint rules, event hooks); a gallery page needs a hundred.
# Query-string SigV4 for a GET is a few HMACs, so we sign those links ourselves (checked against botocore's
# output in tests/mediahub/test_aws.py).

_UNRESERVED = "-_.~"


@lru_cache(maxsize=1)
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@lru_cache(maxsize=8)
def _signing_key(secret: str, datestamp: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (datestamp, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _s3_location(bucket: str, key: str) -> tuple[str, str, str]:
    """(scheme, host, path) of an object, path style on an emulator or for dotted bucket names."""
    endpoint = settings.AWS_ENDPOINT_URL
    if endpoint:
        parts = urlsplit(endpoint)
        return parts.scheme, parts.netloc, f"/{bucket}/{quote(key, safe='/' + _UNRESERVED)}"
    region = settings.AWS_REGION
    if "." in bucket:
        return "https", f"s3.{region}.amazonaws.com", f"/{bucket}/{quote(key, safe='/' + _UNRESERVED)}"
    return "https", f"{bucket}.s3.{region}.amazonaws.com", f"/{quote(key, safe='/' + _UNRESERVED)}"


def presigned_get(
    bucket: str, key: str, *, expires: int, params: dict[str, str] | None = None, now: datetime | None = None
) -> str:
    """A SigV4 query-signed GET URL for an S3 object, valid `expires` seconds from `now`."""
    creds = _session().get_credentials().get_frozen_credentials()
    now = now or datetime.now(UTC)
    amz_date, datestamp = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{datestamp}/{settings.AWS_REGION}/s3/aws4_request"
    scheme, host, path = _s3_location(bucket, key)
    query = {
        **(params or {}),
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{creds.access_key}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(expires),
        "X-Amz-SignedHeaders": "host",
    }
    if creds.token:
        query["X-Amz-Security-Token"] = creds.token
    canonical_query = "&".join(
        f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}" for k, v in sorted(query.items())
    )
    canonical_request = f"GET\n{path}\n{canonical_query}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signing_key = _signing_key(creds.secret_key, datestamp, settings.AWS_REGION)
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{scheme}://{host}{path}?{canonical_query}&X-Amz-Signature={signature}"
