"""The avatar API, the contract a mobile app uses: presign, upload to S3 with that Content-Type, complete."""

from django.http import HttpRequest, JsonResponse

from mediahub import ratelimit
from mediahub.api import api_view, errors, form_errors, json_body
from mediahub.http import owner_id
from profiles import services
from profiles.forms import AvatarRequestForm


@json_body
def presign(request: HttpRequest, body: dict) -> JsonResponse:
    form = AvatarRequestForm(body)
    if not form.is_valid():
        return form_errors(form)
    ratelimit.limit("upload", owner_id(request))
    return JsonResponse(services.avatar_presign(owner_id(request), content_type=form.cleaned_data["contentType"]))


@json_body
def complete(request: HttpRequest, body: dict) -> JsonResponse:
    key = body.get("key")
    if not isinstance(key, str) or not key:
        return errors(400, key="The key of the uploaded avatar is required.")
    profile = services.avatar_complete(owner_id(request), key=key)
    return JsonResponse(
        {"key": profile.avatar_key, "avatar": {size: services.avatar_urls(profile, size) for size in ("64", "256")}}
    )


avatar = api_view({"POST": presign})
avatar_complete = api_view({"POST": complete})
