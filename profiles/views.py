"""Account and profile pages: sign-up, the own profile with its avatar widget, public profiles, account deletion."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from mediahub import ratelimit
from mediahub.errors import STORAGE_DOWN, STORAGE_ERRORS, NotFound
from mediahub.http import owner_id
from profiles import services, tokens
from profiles.forms import ApiTokenForm, DeleteAccountForm, PasswordResetForm, ProfileForm, SignUpForm
from uploads.filetypes import allowed_types, is_image

MAIL_NOT_SENT = "We could not send the e-mail; please try again later."


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        ratelimit.limit("signup", ratelimit.client_ip(request))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to mediahub, {user.username}.")
        return redirect("home")
    context = {"form": form, "title": "Create your account", "submit_label": "Sign up"}
    return render(request, "registration/signup.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, except that it says so when the mail could not be sent instead of claiming it was.

    (Only an address with an account gets a mail, so while mail is failing this tells that the address has one.)"""

    form_class = PasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        response = super().form_valid(form)
        if form.send_failed:
            form.add_error(None, MAIL_NOT_SENT)
            return self.form_invalid(form)
        return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user_id = owner_id(request)
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
        "tokens": request.user.api_tokens.all(),
        "token_form": ApiTokenForm(),
    }
    return render(request, "profiles/profile.html", context)


@login_required
@require_POST
@never_cache  # the page shows the new token: no cache, proxy or back button may keep it
def token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A token needs a name (60 characters at most) and a scope.")
        return redirect("profile")
    record, token = tokens.token_create(request.user, **form.cleaned_data)
    # Rendered, not redirected: the token is shown this once and never stored in a cookie or the session.
    return render(request, "profiles/token_created.html", {"record": record, "token": token})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if tokens.token_revoke(request.user, token_id):
        messages.success(request, "Token revoked: it no longer works.")
    return redirect("profile")


@login_required
def public_profile(request: HttpRequest, username: str) -> HttpResponse:
    user = get_object_or_404(User, username=username, is_active=True)
    shown = services.get_profile(str(user.pk), default_name=user.username)
    context = {"shown_user": user, "profile": shown, "avatar": services.avatar_urls(shown, "256")}
    return render(request, "profiles/public.html", context)


def password_checked(view: Callable) -> Callable:
    """A page whose POST checks the signed-in user's password: limited per user (settings.RATE_LIMITS "password"),
    so a stolen session cannot guess the password it lacks."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            ratelimit.limit("password", owner_id(request))
        return view(request, *args, **kwargs)

    return wrapper


@login_required
@password_checked
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token = services.account_delete_request(request.user)
        except STORAGE_ERRORS:
            messages.error(request, f"Your account was not deleted. {STORAGE_DOWN}")
            return redirect("delete-account")
        logout(request)  # the account is already deactivated: every other session and token stops working too
        return redirect("delete-account-progress", token)
    context = {"form": form, "title": "Delete your account", "submit_label": "Delete my account for good"}
    return render(request, "profiles/delete.html", context)


def delete_account_progress(request: HttpRequest, token: str) -> HttpResponse:
    """Signed out by now: the signed token in the address says whose deletion this is."""
    try:
        progress = services.account_delete_progress(token)
    except NotFound:
        raise Http404("No such account deletion.") from None
    return render(request, "profiles/deletion_progress.html", {"progress": progress})
