import pytest

from tests.conftest import create_and_upload, jpeg_bytes, post_json
from uploads import storage
from uploads.admin import CHANGE, DELETE, VIEW
from uploads.models import MediaItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(client, alice):
    client.force_login(alice)
    ids = [create_and_upload(client, jpeg_bytes(), name=f"photo {n}")["id"] for n in range(3)]
    post_json(client, f"/api/media/{ids[0]}/complete")
    client.logout()
    return ids


def assert_still_there(media_id: str) -> None:
    item = MediaItem.get(media_id)
    assert storage.head_original(item.object_key) is not None


def test_media_list_is_staff_only(client, alice):
    client.force_login(alice)
    response = client.get("/admin/media/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "not staff"])
def test_media_pages_and_actions_send_non_staff_to_the_admin_sign_in(client, alice, items, signed_in):
    if signed_in:
        client.force_login(alice)
    url = f"/admin/media/{items[0]}/"
    for response in (
        client.get("/admin/media/"),
        client.get(url),
        client.post(url, {"action": "delete"}),
        client.post(url, {"action": "reprocess"}),
    ):
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    assert_still_there(items[0])


def test_staff_without_permissions_is_refused_every_media_page_and_action(client, staff_with, items):
    client.force_login(staff_with())
    url = f"/admin/media/{items[0]}/"
    assert client.get("/admin/media/").status_code == 403
    assert client.get("/admin/media/", {"owner": "alice"}).status_code == 403
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert client.post(url, {"action": "reprocess"}).status_code == 403
    assert_still_there(items[0])


def test_refusal_comes_before_the_item_is_read_so_ids_cannot_be_probed(client, staff_with):
    client.force_login(staff_with())
    assert client.get("/admin/media/no-such-id/").status_code == 403
    assert client.post("/admin/media/no-such-id/", {"action": "delete"}).status_code == 403


def test_media_permissions_can_be_granted_in_the_admin(client, staff):
    client.force_login(staff)
    picker = client.get("/admin/auth/group/add/").content.decode()
    assert all(name in picker for name in ("Can view media items", "Can re-queue media", "Can delete media items"))


def test_admin_index_links_to_media_items(client, staff):
    client.force_login(staff)
    assert "/admin/media/" in client.get("/admin/").content.decode()


def test_admin_index_shows_media_items_only_to_who_may_view_them(client, staff_with):
    client.force_login(staff_with())
    assert "/admin/media/" not in client.get("/admin/").content.decode()
    client.force_login(staff_with(VIEW))
    assert "/admin/media/" in client.get("/admin/").content.decode()


def test_view_permission_lists_and_shows_but_neither_deletes_nor_requeues(client, staff_with, items):
    client.force_login(staff_with(VIEW))
    assert all(f"photo {n}" in client.get("/admin/media/", {"owner": "alice"}).content.decode() for n in range(3))
    url = f"/admin/media/{items[0]}/"
    page = client.get(url).content.decode()
    assert "photo 0" in page
    assert 'value="delete"' not in page and 'value="reprocess"' not in page
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert client.post(url, {"action": "reprocess"}).status_code == 403
    assert_still_there(items[0])


def test_delete_permission_deletes_but_does_not_requeue(client, staff_with, items):
    client.force_login(staff_with(VIEW, DELETE))
    url = f"/admin/media/{items[0]}/"
    page = client.get(url).content.decode()
    assert 'value="delete"' in page and 'value="reprocess"' not in page
    assert client.post(url, {"action": "reprocess"}).status_code == 403
    response = client.post(url, {"action": "delete"}, follow=True)
    assert "Deleted “photo 0” and all its files." in response.content.decode()
    assert client.get(url).status_code == 404


def test_change_permission_requeues_but_does_not_delete(client, staff_with, items):
    client.force_login(staff_with(VIEW, CHANGE))
    url = f"/admin/media/{items[0]}/"
    page = client.get(url).content.decode()
    assert 'value="reprocess"' in page and 'value="delete"' not in page
    assert client.post(url, {"action": "delete"}).status_code == 403
    assert_still_there(items[0])
    assert "Processing re-queued." in client.post(url, {"action": "reprocess"}, follow=True).content.decode()


def test_media_list_filters_by_status_and_owner(client, staff, items):
    client.force_login(staff)
    pending = client.get("/admin/media/", {"status": "pending"}).content.decode()
    assert "photo 1" in pending and "photo 2" in pending and "photo 0" not in pending
    uploaded = client.get("/admin/media/", {"status": "uploaded"}).content.decode()
    assert "photo 0" in uploaded and "photo 1" not in uploaded
    by_owner = client.get("/admin/media/", {"owner": "alice"}).content.decode()
    assert all(f"photo {n}" in by_owner for n in range(3))
    assert "No items." in client.get("/admin/media/", {"owner": "nobody"}).content.decode()


def test_superuser_can_requeue_and_delete_an_item(client, staff, items):
    client.force_login(staff)
    url = f"/admin/media/{items[0]}/"
    page = client.get(url).content.decode()
    assert "photo 0" in page and 'value="delete"' in page and 'value="reprocess"' in page
    response = client.post(url, {"action": "reprocess"}, follow=True)
    assert "Processing re-queued." in response.content.decode()
    response = client.post(url, {"action": "delete"}, follow=True)
    assert "Deleted" in response.content.decode()
    assert client.get(url).status_code == 404
