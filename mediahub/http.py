"""Small request helpers shared by pages and the JSON API."""

from __future__ import annotations

from django.http import HttpRequest


def owner_id(request: HttpRequest) -> str:
    """The signed-in user's id as the DynamoDB records store it (a string)."""
    return str(request.user.pk)
