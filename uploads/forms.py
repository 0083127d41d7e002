"""Validation of what a person or a script asks to upload; the same rules for the page, the API and the no-JS form."""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import UTC, timedelta

from django import forms
from django.conf import settings

from mediahub.errors import Refusal
from uploads.filetypes import allowed_types, declared_type, human_size
from uploads.models import utcnow
from uploads.multipart import MAX_PARTS, PARTS_PER_CALL

NAME_MAX = 200
CAPTION_MAX = 2000
FILE_NAME_MAX = 255
MAX_KEEP_DAYS = 3650


class TextField(forms.CharField):
    """A CharField that takes text only: a JSON body's number, list or object is refused, not stored as its repr."""

    KINDS = {bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}

    def to_python(self, value):
        if value is not None and not isinstance(value, str):
            kind = self.KINDS.get(type(value), type(value).__name__)
            raise forms.ValidationError(f"This must be text, not {kind}.", code="not_text")
        return super().to_python(value)


def check_file_name(value: str) -> str:
    """A plain file name: no folders, no control characters, no markup, at most 255 characters."""
    if "/" in value or "\\" in value:
        raise forms.ValidationError("The file name must not contain folders (/ or \\).")
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise forms.ValidationError("The file name contains control characters.")
    if "<" in value or ">" in value:
        raise forms.ValidationError("The file name must not contain < or >.")
    if len(value) > FILE_NAME_MAX:
        raise forms.ValidationError(f"The file name is {len(value)} characters long; the limit is {FILE_NAME_MAX}.")
    if value in (".", ".."):
        raise forms.ValidationError("That is not a file name.")
    return value


def check_content_type(value: str) -> str:
    if value not in allowed_types():
        accepted = ", ".join(sorted(allowed_types()))
        raise forms.ValidationError(f"Files of type {value or 'unknown'} are not accepted. Accepted: {accepted}.")
    return value


def check_size(value: int) -> int:
    if value <= 0:
        raise forms.ValidationError("The file is empty.")
    if value > settings.MAX_UPLOAD_SIZE:
        raise forms.ValidationError(
            f"The file is {human_size(value)}; the limit is {human_size(settings.MAX_UPLOAD_SIZE)}."
        )
    return value


class MediaFieldsForm(forms.Form):
    """The name and caption a person gives an item."""

    name = TextField(max_length=NAME_MAX)
    caption = TextField(max_length=CAPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class UploadRequestForm(MediaFieldsForm):
    """A request for a presigned upload: the file is described, not sent."""

    # camelCase: these are the JSON API's field names.
    fileName = TextField(strip=False, validators=[check_file_name])
    contentType = TextField(validators=[check_content_type])
    size = forms.IntegerField(validators=[check_size])
    deleteAfterDays = forms.IntegerField(required=False, min_value=1, max_value=MAX_KEEP_DAYS)


class IntegerListField(forms.Field):
    """A JSON array of whole numbers, each in [min_value, max_value], at most `max_items` of them, no repeats."""

    def __init__(self, *, min_value: int, max_value: int, max_items: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.min_value, self.max_value, self.max_items = min_value, max_value, max_items

    def clean(self, value):
        value = super().clean(value)
        if not isinstance(value, list) or not value or any(type(n) is not int for n in value):
            raise forms.ValidationError("Give a list of whole numbers, e.g. [1, 2, 3].")
        if len(value) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items} at a time; ask again for the rest.")
        if len(set(value)) != len(value):
            raise forms.ValidationError("Each part number once.")
        if not all(self.min_value <= n <= self.max_value for n in value):
            raise forms.ValidationError(f"Part numbers go from {self.min_value} to {self.max_value}.")
        return value


SHA256_BASE64 = re.compile(r"[A-Za-z0-9+/]{43}=")


class ChecksumListField(forms.Field):
    """A JSON array of SHA-256 digests, base64 (44 characters), as S3's x-amz-checksum-sha256 header takes them."""

    def clean(self, value):
        value = super().clean(value)
        if not isinstance(value, list) or not all(isinstance(c, str) and SHA256_BASE64.fullmatch(c) for c in value):
            raise forms.ValidationError("Give each part's SHA-256 digest, base64-encoded (44 characters).")
        return value


CHECKSUMS_PER_LOOKUP = 50  # 50 hex digests make a 3.3 kB query string, well inside every URL limit on the way
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


def comma_list(text: str, *, most: int, pattern: re.Pattern, plural: str, wrong: str) -> list[str]:
    """`a,b,c` from a query string: at most `most` values, each matching `pattern`; `wrong` says why one does not
    (with its {position})."""
    values = text.split(",")
    if len(values) > most:
        raise forms.ValidationError(f"At most {most} {plural} at a time ({len(values)} given); ask again for the rest.")
    for position, value in enumerate(values, 1):
        if not pattern.fullmatch(value):
            raise forms.ValidationError(wrong.format(position=position))
    return values


class ChecksumLookupForm(forms.Form):
    """`?sha256=<hex>,<hex>,…`: which of these files (by SHA-256) the caller already has."""

    sha256 = TextField(strip=False)
    cursor = TextField(required=False)

    def clean_sha256(self) -> list[str]:
        values = comma_list(
            self.cleaned_data["sha256"],
            most=CHECKSUMS_PER_LOOKUP,
            pattern=SHA256_HEX,
            plural="checksums",
            wrong="Checksum {position} is not a SHA-256 digest: give each as 64 hexadecimal digits, separated by "
            "commas.",
        )
        return [value.lower() for value in values]

    def clean_cursor(self) -> str:
        if self.cleaned_data["cursor"]:
            raise forms.ValidationError("A checksum lookup is answered in one page: leave out the cursor.")
        return ""


# BatchGetItem's own limit: one call answers them all. 100 ids make a 3.3 kB query string.
STATUS_IDS_PER_CALL = 100
MEDIA_ID = re.compile(r"[0-9a-f]{32}")


class StatusLookupForm(forms.Form):
    """`?ids=<id>,<id>,…`: where these items are now (the pages follow items still being processed)."""

    ids = TextField(strip=False)

    def clean_ids(self) -> list[str]:
        values = comma_list(
            self.cleaned_data["ids"],
            most=STATUS_IDS_PER_CALL,
            pattern=MEDIA_ID,
            plural="ids",
            wrong="Id {position} is not an item id: give each as the API gave it (32 lowercase hexadecimal digits), "
            "separated by commas.",
        )
        return list(dict.fromkeys(values))


class PartsRequestForm(forms.Form):
    """Which parts of an upload in parts to sign, and each one's SHA-256 (S3 checks the bytes against it)."""

    partNumbers = IntegerListField(min_value=1, max_value=MAX_PARTS, max_items=PARTS_PER_CALL)
    checksums = ChecksumListField()

    def clean(self) -> dict:
        data = super().clean()
        numbers, checksums = data.get("partNumbers"), data.get("checksums")
        if numbers is not None and checksums is not None and len(numbers) != len(checksums):
            self.add_error("checksums", f"Give one checksum per part number: {len(numbers)}, in the same order.")
        return data


class DirectUploadForm(MediaFieldsForm):
    """The same upload without JavaScript: the file comes through Django."""

    file = forms.FileField()
    delete_after_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_KEEP_DAYS, label="Delete after (days)", help_text="Optional."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_file_name(upload.name)
        upload.content_type = check_content_type(declared_type(upload.content_type, upload.name))
        check_size(upload.size)
        if upload.size > settings.MULTIPART_THRESHOLD:
            raise forms.ValidationError(
                f"Without JavaScript, files of up to {human_size(settings.MULTIPART_THRESHOLD)} can be uploaded; "
                f"this one is {human_size(upload.size)}. Turn JavaScript on to upload it in parts."
            )
        return upload


# --- The no-JavaScript upload on Lambda ---------------------------------------------------------------------
# API Gateway hands Lambda a multipart body base64-encoded (4 bytes for every 3), inside an event of at most 6 MB
# (Lambda's request payload limit) that also carries the headers and the request context.
LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024
LAMBDA_EVENT_ALLOWANCE = 256 * 1024
LAMBDA_DIRECT_UPLOAD_MAX = (LAMBDA_PAYLOAD_LIMIT - LAMBDA_EVENT_ALLOWANCE) * 3 // 4


def direct_upload_limit() -> int | None:
    """The largest request the no-JavaScript form can take here: bounded on Lambda (whose runtime sets
    AWS_LAMBDA_FUNCTION_NAME), None elsewhere (MAX_UPLOAD_SIZE still applies to the file)."""
    return LAMBDA_DIRECT_UPLOAD_MAX if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else None


def check_direct_upload_length(content_length: str | None) -> None:
    """Refuse, from its declared length alone, a no-JavaScript upload too large for this host."""
    limit = direct_upload_limit()
    length = int(content_length) if (content_length or "").isdigit() else 0
    if limit is not None and length > limit:
        raise Refusal(
            f"Without JavaScript, an upload here can be at most {human_size(limit)}, and this one is "
            f"{human_size(length)}. Turn JavaScript on to use the uploader: it sends files of up to "
            f"{human_size(settings.MULTIPART_THRESHOLD)} straight to storage."
        )


class ShareForm(forms.Form):
    LIFETIMES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}

    expires = forms.ChoiceField(
        choices=[("1h", "1 hour"), ("1d", "1 day"), ("7d", "7 days"), ("custom", "Until…")], initial="1d"
    )
    until = forms.DateTimeField(
        required=False,
        label="Until (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="With “Until…”: at most 30 days from now.",
    )
    max_downloads = forms.IntegerField(required=False, min_value=1, max_value=100_000, label="Download limit")
    original = forms.BooleanField(
        required=False,
        label="Share the original as it is (with its location, if it has one)",
        help_text="Otherwise the link shares a copy without location data (a video that records a place can only "
        "be shared as the original).",
    )

    def clean(self) -> dict:
        data = super().clean()
        choice = data.get("expires")
        if choice == "custom":
            until = data.get("until")
            if until is None:
                raise forms.ValidationError("Choose when the link expires.")
            data["expires_at"] = until if until.tzinfo else until.replace(tzinfo=UTC)
        elif choice:
            data["expires_at"] = utcnow() + self.LIFETIMES[choice]
        return data
