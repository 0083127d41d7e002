import logging

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.template import loader

from profiles.models import ApiToken
from profiles.services import accepts_as_avatar
from uploads.forms import TextField, check_file_name

logger = logging.getLogger(__name__)


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="For password resets only.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ProfileForm(forms.Form):
    display_name = TextField(max_length=50, required=False, help_text="How others see you (50 characters).")
    bio = TextField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="500 characters."
    )


class AvatarRequestForm(forms.Form):
    """The avatar API's request: a plain file name and an image type mediahub accepts."""

    fileName = TextField(strip=False, validators=[check_file_name])  # camelCase: the API's field names
    contentType = TextField()

    def clean_contentType(self) -> str:
        value = self.cleaned_data["contentType"]
        if not accepts_as_avatar(value):
            raise forms.ValidationError(f"{value or 'This type'} is not an image type mediahub accepts for avatars.")
        return value


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password, to confirm.")

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class ApiTokenForm(forms.Form):
    name = TextField(max_length=60, help_text="What uses it, e.g. “backup script”.")
    scope = forms.ChoiceField(choices=ApiToken.SCOPES, initial=ApiToken.READ)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, except that a reset mail the server could not send is remembered, not only logged.

    Django's own send_mail logs and swallows the error, and its view then says the mail is on its way."""

    send_failed = False

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ) -> None:
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name:
            message.attach_alternative(loader.render_to_string(html_email_template_name, context), "text/html")
        try:
            message.send()
        except Exception:  # as broad as Django's: refused, timed out (EMAIL_TIMEOUT), rejected, TLS failure
            logger.exception("Could not send the password-reset e-mail to user %s", context["user"].pk)
            self.send_failed = True
