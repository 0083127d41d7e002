"""Account pages: Django's auth views with our templates, plus sign-up."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from profiles import views

FORM = "form_page.html"
MESSAGE = "registration/message_page.html"


def _message(title: str, text: str, link_url: str = "", link_label: str = "") -> dict:
    return {"title": title, "text": text, "link_url": link_url, "link_label": link_label}


urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("delete/", views.delete_account, name="delete-account"),
    path("delete/progress/<str:token>/", views.delete_account_progress, name="delete-account-progress"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, extra_context={"title": "Sign in", "submit_label": "Sign in"}
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        views.password_checked(
            auth_views.PasswordChangeView.as_view(
                template_name=FORM, extra_context={"title": "Change your password", "submit_label": "Change password"}
            )
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name=MESSAGE, extra_context=_message("Password changed", "Your new password is in effect.")
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        views.PasswordResetView.as_view(
            template_name=FORM,
            extra_context={"title": "Reset your password", "submit_label": "Send reset link"},
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name=MESSAGE,
            extra_context=_message(
                "Check your e-mail", "If an account has that address, a link to choose a new password is on its way."
            ),
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            extra_context={"title": "Choose a new password", "submit_label": "Set password"}
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name=MESSAGE,
            extra_context=_message("Password set", "You can sign in with it now.", reverse_lazy("login"), "Sign in"),
        ),
        name="password_reset_complete",
    ),
]
