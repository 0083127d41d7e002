"""Account and profile pages: sign-up, the own profile with its avatar widget, public profiles, account deletion."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from mediahub.api import STORAGE_DOWN, STORAGE_ERRORS
from profiles import services
from profiles.forms import DeleteAccountForm, ProfileForm, SignUpForm
from uploads.filetypes import allowed_types, is_image


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to mediahub, {user.username}.")
        return redirect("home")
    context = {"form": form, "title": "Create your account", "submit_label": "Sign up"}
    return render(request, "registration/signup.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user_id = str(request.user.pk)
    current = services.get_profile(user_id, default_name=request.user.username)
    form = ProfileForm(request.POST or None, initial={"display_name": current.display_name, "bio": current.bio})
    if request.method == "POST" and form.is_valid():
        services.profile_update(user_id, **form.cleaned_data)
        messages.success(request, "Profile saved.")
        return redirect("profile")
    context = {
        "form": form,
        "profile": current,
        "avatar": services.avatar_urls(current, "256"),
        "avatar_types": ",".join(t for t in allowed_types() if is_image(t)),
        "avatar_max_size": settings.AVATAR_MAX_SIZE,
    }
    return render(request, "profiles/profile.html", context)


@login_required
def public_profile(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username, is_active=True)
    shown = services.get_profile(str(user.pk), default_name=user.username)
    context = {"shown_user": user, "profile": shown, "avatar": services.avatar_urls(shown, "256")}
    return render(request, "profiles/public.html", context)


@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            request.user.delete()  # the pre_delete receiver removes media, avatars and the profile first
        except STORAGE_ERRORS:
            messages.error(request, f"Your account was not deleted. {STORAGE_DOWN}")
            return redirect("delete-account")
        logout(request)
        messages.success(request, "Your account and everything in it are deleted.")
        return redirect("login")
    context = {"form": form, "title": "Delete your account", "submit_label": "Delete my account for good"}
    return render(request, "profiles/delete.html", context)
