"""Staff pages for profiles (PynamoDB, so custom admin views): a page of users with their profiles; clear an avatar.

Being staff only opens the admin: each page and the button ask their own permission (profiles.ProfileAccess).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from mediahub.errors import Conflict
from profiles import services
from profiles.models import Profile

VIEW = "profiles.view_profile"
CLEAR_AVATAR = "profiles.clear_avatar"


@permission_required(VIEW, raise_exception=True)
def profile_list(request: HttpRequest) -> HttpResponse:
    """Users page by page from Django's database, their profiles in one BatchGet per page (never a Scan)."""
    page = Paginator(User.objects.order_by("username"), 50).get_page(request.GET.get("page"))
    profiles = {p.user_id: p for p in Profile.batch_get([str(u.pk) for u in page])}
    rows = [{"user": u, "profile": profiles.get(str(u.pk))} for u in page]
    context = {**admin.site.each_context(request), "title": "Profiles", "rows": rows, "page": page}
    return render(request, "admin/profiles/profile_list.html", context)


def profile_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    """The page and its button at one address; the action is checked before the user is even read."""
    action = request.POST.get("action") if request.method == "POST" else None
    return ACTIONS.get(action, profile_page)(request, user_id)


@permission_required(VIEW, raise_exception=True)
def profile_page(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    profile = services.get_profile(str(user.pk), default_name=user.username)
    context = {
        **admin.site.each_context(request),
        "title": f"Profile of {user.username}",
        "shown_user": user,
        "profile": profile,
        "avatar": services.avatar_urls(profile, "256"),
    }
    return render(request, "admin/profiles/profile_detail.html", context)


@permission_required(CLEAR_AVATAR, raise_exception=True)
def avatar_clear(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    try:
        services.avatar_clear(str(user.pk))
    except Conflict as exc:  # an upload is being processed: the avatar may change under us
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The avatar of {user.username} is cleared.")
    return redirect("admin-profile-detail", user.pk)


ACTIONS = {"clear-avatar": avatar_clear}


def urls() -> list:
    return [
        path("profiles/", admin.site.admin_view(profile_list), name="admin-profile-list"),
        path("profiles/<int:user_id>/", admin.site.admin_view(profile_detail), name="admin-profile-detail"),
    ]
