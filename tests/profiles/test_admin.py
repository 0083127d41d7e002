import pytest
from django.conf import settings

from mediahub.aws import client as aws_client
from profiles.admin import CLEAR_AVATAR, VIEW
from profiles.models import Profile
from tests.conftest import jpeg_bytes
from tests.profiles.test_api import change_avatar
from uploads.admin import VIEW as VIEW_MEDIA

pytestmark = pytest.mark.django_db


@pytest.fixture
def avatar(client, alice) -> str:
    """alice's avatar (the key of its original), its renditions made."""
    client.force_login(alice)
    key, response = change_avatar(client, jpeg_bytes())
    assert response.status_code == 200
    client.logout()
    return key


def avatar_renditions(user) -> list:
    listing = aws_client("s3").list_objects_v2(Bucket=settings.RENDITIONS_BUCKET, Prefix=f"avatars/{user.pk}/")
    return listing.get("Contents", [])


def assert_avatar_kept(user, key: str) -> None:
    assert Profile.get(str(user.pk)).avatar_key == key
    assert avatar_renditions(user)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "not staff"])
def test_profile_pages_and_clearing_send_non_staff_to_the_admin_sign_in(client, alice, bob, avatar, signed_in):
    if signed_in:
        client.force_login(bob)
    url = f"/admin/profiles/{alice.pk}/"
    for response in (client.get("/admin/profiles/"), client.get(url), client.post(url, {"action": "clear-avatar"})):
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    assert_avatar_kept(alice, avatar)


def test_staff_without_permissions_is_refused_profiles_and_cannot_clear_an_avatar(client, alice, staff_with, avatar):
    client.force_login(staff_with())
    url = f"/admin/profiles/{alice.pk}/"
    assert client.get("/admin/profiles/").status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "clear-avatar"}).status_code == 403
    assert client.post("/admin/profiles/999999/", {"action": "clear-avatar"}).status_code == 403  # before any read
    assert_avatar_kept(alice, avatar)


def test_profile_permissions_can_be_granted_in_the_admin(client, staff):
    client.force_login(staff)
    picker = client.get("/admin/auth/group/add/").content.decode()
    assert "Can view profiles" in picker and "Can clear avatars" in picker


def test_admin_index_shows_profiles_only_to_who_may_view_them(client, staff_with):
    client.force_login(staff_with(VIEW_MEDIA))
    index = client.get("/admin/").content.decode()
    assert "/admin/media/" in index and "/admin/profiles/" not in index
    client.force_login(staff_with(VIEW))
    index = client.get("/admin/").content.decode()
    assert "/admin/profiles/" in index and "/admin/media/" not in index


def test_view_permission_shows_profiles_but_cannot_clear_an_avatar(client, alice, staff_with, avatar):
    client.force_login(staff_with(VIEW))
    assert "alice" in client.get("/admin/profiles/").content.decode()
    url = f"/admin/profiles/{alice.pk}/"
    page = client.get(url).content.decode()
    assert 'data-testid="admin-avatar"' in page
    assert 'value="clear-avatar"' not in page
    assert f"/admin/auth/user/{alice.pk}/" not in page  # no link to a user page this staff member may not open
    assert client.post(url, {"action": "clear-avatar"}).status_code == 403
    assert_avatar_kept(alice, avatar)


def test_clear_avatar_permission_clears_an_avatar(client, alice, staff_with, avatar):
    client.force_login(staff_with(VIEW, CLEAR_AVATAR))
    url = f"/admin/profiles/{alice.pk}/"
    assert 'value="clear-avatar"' in client.get(url).content.decode()
    response = client.post(url, {"action": "clear-avatar"}, follow=True)
    assert "The avatar of alice is cleared." in response.content.decode()
    assert Profile.get(str(alice.pk)).avatar_key is None
    assert avatar_renditions(alice) == []


def test_superuser_sees_every_profile_entry_and_button(client, alice, staff, avatar):
    client.force_login(staff)
    assert "/admin/profiles/" in client.get("/admin/").content.decode()
    page = client.get(f"/admin/profiles/{alice.pk}/").content.decode()
    assert 'value="clear-avatar"' in page and f"/admin/auth/user/{alice.pk}/" in page
