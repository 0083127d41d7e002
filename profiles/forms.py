from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from profiles.models import ApiToken
from profiles.services import accepts_as_avatar
from uploads.forms import TextField, check_file_name


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
