from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing

from mediahub.aws import client as aws_client
from profiles import services, tokens
from profiles.models import ApiToken, Profile
from tests.conftest import PASSWORD, create_and_upload, jpeg_bytes, rate_limits
from tests.profiles.test_api import change_avatar
from tests.profiles.test_services import account_with_everything, assert_nothing_left
from uploads.models import MediaItem

pytestmark = pytest.mark.django_db


def test_every_user_has_a_profile_made_on_first_read(client, alice):
    client.force_login(alice)
    assert client.get("/profile/").status_code == 200
    assert Profile.get(str(alice.pk)).display_name == "alice"


def test_profile_edit_saves_and_escapes_html(client, alice, bob):
    client.force_login(alice)
    response = client.post("/profile/", {"display_name": "Alice <b>A</b>", "bio": "<script>x()</script>"}, follow=True)
    assert "Profile saved." in response.content.decode()
    client.force_login(bob)
    page = client.get("/u/alice/").content.decode()
    assert "Alice &lt;b&gt;A&lt;/b&gt;" in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page
    assert "<script>x()" not in page


def test_profile_fields_have_length_limits(client, alice):
    client.force_login(alice)
    response = client.post("/profile/", {"display_name": "x" * 51, "bio": "y" * 501})
    text = response.content.decode()
    assert "at most 50 characters" in text
    assert "at most 500 characters" in text


def test_a_user_edits_only_their_own_profile(client, alice, bob):
    client.force_login(bob)
    client.post("/profile/", {"display_name": "Bob", "bio": ""})
    assert Profile.get(str(bob.pk)).display_name == "Bob"
    client.force_login(alice)
    client.get("/profile/")
    assert Profile.get(str(alice.pk)).display_name == "alice"


def test_public_profile_is_for_signed_in_users_only(client, alice):
    assert client.get("/u/alice/").status_code == 302
    client.force_login(alice)
    assert client.get("/u/nobody/").status_code == 404


def test_navigation_shows_initials_without_an_avatar_and_the_picture_with_one(client, alice):
    client.force_login(alice)
    client.post("/profile/", {"display_name": "Alice Liddell", "bio": ""})
    page = client.get("/").content.decode()
    assert '<span class="initials" aria-label="Alice Liddell">AL</span>' in page
    change_avatar(client, jpeg_bytes())
    page = client.get("/").content.decode()
    nav = page[page.index('data-testid="nav-avatar"') :][:600]
    assert f"/avatars/{alice.pk}/" in nav
    assert "64.jpg" in nav


def test_account_deletion_needs_the_password(client, alice):
    client.force_login(alice)
    response = client.post("/accounts/delete/", {"password": "wrong"})
    assert "That is not your password." in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()


def test_account_deletion_leaves_nothing_behind_and_says_so_when_it_is_true(client, alice, bob, settings, monkeypatch):
    client.force_login(bob)
    bobs = create_and_upload(client, jpeg_bytes(), name="bob's")
    uid = account_with_everything(client, alice, settings)
    # Lambda mode outside Lambda runs the asynchronous invocation here and now, as Zappa's @task does.
    settings.PROCESSING_MODE = "lambda"
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))

    response = client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert "Account deleted" in page
    assert "Nothing of your account is left." in page
    assert_nothing_left(uid)
    assert MediaItem.get(bobs["id"]).name == "bob's"  # other people's things stay


def test_account_deletion_signs_out_at_once_and_shows_its_progress(client, alice, monkeypatch):
    queued = []
    monkeypatch.setattr(services.dispatch, "run_job", lambda *args: queued.append(args))
    client.force_login(alice)
    for _ in range(3):
        create_and_upload(client, jpeg_bytes())
    token = tokens.token_create(alice, name="script", scope=ApiToken.WRITE)[1]

    response = client.post("/accounts/delete/", {"password": PASSWORD})
    progress = response["Location"]
    assert queued == [(services.DELETE_TASK, services.DELETE_LAMBDA_TASK, alice.pk)]
    assert client.get("/profile/").status_code == 302  # signed out
    signing_in = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert signing_in.status_code == 200  # the form again, not a redirect: the account is deactivated
    assert client.get("/profile/").status_code == 302
    assert client.get("/api/media/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert "0 of 3</strong>" in client.get(progress).content.decode()

    assert services.account_delete_run(alice.pk) == "settling"
    page = client.get(progress).content.decode()
    assert "3 of 3</strong>" in page
    assert "a last check runs" in page
    monkeypatch.setattr(services, "DELETION_SETTLE", timedelta(0))
    assert services.account_delete_run(alice.pk) == "deleted"
    assert "Nothing of your account is left." in client.get(progress).content.decode()


def test_a_made_up_or_active_accounts_progress_page_is_404(client, alice):
    assert client.get("/accounts/delete/progress/made-up/").status_code == 404
    active = signing.dumps(alice.pk, salt=services.PROGRESS_SALT)
    assert client.get(f"/accounts/delete/progress/{active}/").status_code == 404


def test_account_deletion_with_storage_down_keeps_the_account(client, alice, monkeypatch):
    def down(*args, **kwargs):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "later"}}, "Query")

    monkeypatch.setattr(services.MediaItem.by_owner, "count", down)
    client.force_login(alice)
    response = client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    assert "Your account was not deleted." in response.content.decode()
    assert User.objects.get(pk=alice.pk).is_active


def test_deleting_a_user_in_the_admin_removes_their_data_too(client, alice, staff, settings):
    uid = account_with_everything(client, alice, settings)
    client.force_login(staff)
    client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"})
    assert_nothing_left(uid)


def test_admin_lists_profiles_and_clears_an_avatar(client, alice, staff):
    client.force_login(alice)
    change_avatar(client, jpeg_bytes())
    client.force_login(staff)
    assert "alice" in client.get("/admin/profiles/").content.decode()
    assert "/admin/profiles/" in client.get("/admin/").content.decode()
    url = f"/admin/profiles/{alice.pk}/"
    assert 'data-testid="admin-avatar"' in client.get(url).content.decode()
    response = client.post(url, {"action": "clear-avatar"}, follow=True)
    assert "avatar of alice is cleared" in response.content.decode()
    assert Profile.get(str(alice.pk)).avatar_key is None
    assert "Contents" not in aws_client("s3").list_objects_v2(
        Bucket=settings.RENDITIONS_BUCKET, Prefix=f"avatars/{alice.pk}/"
    )


def test_profile_admin_is_staff_only(client, alice):
    client.force_login(alice)
    assert client.get("/admin/profiles/").status_code == 302


def test_guessing_the_password_on_account_deletion_is_refused(client, alice, settings):
    rate_limits(settings, {"password": None})
    client.force_login(alice)
    for _ in range(settings.RATE_LIMITS["password"][0]):
        assert "That is not your password." in client.post("/accounts/delete/", {"password": "guess"}).content.decode()
    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many password checks" in response.content.decode()
    assert User.objects.filter(pk=alice.pk).exists()


def test_the_page_showing_a_new_api_token_is_never_stored(client, alice):
    client.force_login(alice)
    response = client.post("/profile/tokens/", {"name": "backup script", "scope": "read"})
    assert response.status_code == 200 and 'data-testid="new-token"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_page_showing_a_new_api_token_has_a_copy_button(client, alice):
    client.force_login(alice)
    page = client.post("/profile/tokens/", {"name": "ci", "scope": "write"}).content.decode()
    assert 'data-copy="new-token"' in page and 'aria-live="polite"' in page and "js/copy.js" in page
