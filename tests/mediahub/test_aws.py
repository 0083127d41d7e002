from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from mediahub import aws

WHEN = datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)


def botocore_url(monkeypatch, bucket: str, key: str, params: dict) -> str:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: WHEN.replace(tzinfo=None))
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key, **params}, ExpiresIn=300
    )


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("renditions/7/abc/thumb.jpg", {}),
        ("uploads/7/a b/ü+%.jpg", {}),
        (
            "uploads/7/abc/original.jpg",
            {"ResponseContentDisposition": "attachment; filename=\"a b.jpg\"; filename*=UTF-8''a%20b.jpg"},
        ),
    ],
)
def test_our_presigned_get_signs_exactly_as_botocore(monkeypatch, key, params):
    ours = aws.presigned_get(
        settings.UPLOADS_BUCKET,
        key,
        expires=300,
        params={"response-content-disposition": params["ResponseContentDisposition"]} if params else None,
        now=WHEN,
    )
    theirs = botocore_url(monkeypatch, settings.UPLOADS_BUCKET, key, params)
    assert urlsplit(ours)[:3] == urlsplit(theirs)[:3]
    assert parse_qs(urlsplit(ours).query) == parse_qs(urlsplit(theirs).query)


def test_presigned_get_fetches_the_object(local_aws):
    aws.client("s3").put_object(Bucket=settings.RENDITIONS_BUCKET, Key="t/x y.txt", Body=b"hello")
    response = requests.get(aws.presigned_get(settings.RENDITIONS_BUCKET, "t/x y.txt", expires=60), timeout=10)
    assert response.content == b"hello"


@pytest.mark.parametrize(
    ("bucket", "host", "path"),
    [
        ("media-uploads", "media-uploads.s3.eu-west-1.amazonaws.com", "/k.jpg"),
        ("media.example.com", "s3.eu-west-1.amazonaws.com", "/media.example.com/k.jpg"),
    ],
)
def test_real_aws_links_use_virtual_hosts_unless_the_bucket_has_dots(settings, bucket, host, path):
    settings.AWS_ENDPOINT_URL = ""
    settings.AWS_REGION = "eu-west-1"
    url = urlsplit(aws.presigned_get(bucket, "k.jpg", expires=60, now=WHEN))
    assert (url.scheme, url.netloc, url.path) == ("https", host, path)
    assert "20261127/eu-west-1/s3/aws4_request" in parse_qs(url.query)["X-Amz-Credential"][0]
