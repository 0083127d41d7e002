from django.http import HttpRequest

from mediahub.errors import STORAGE_ERRORS
from profiles.services import initials, navigation


def navigation_bar(request: HttpRequest) -> dict:
    """The signed-in user's name and avatar for the navigation bar; a page still renders if storage is down."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    try:
        return {"nav": navigation(user)}
    except STORAGE_ERRORS:
        return {"nav": {"name": user.username, "initials": initials(user.username), "avatar": None}}
