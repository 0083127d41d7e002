import pytest

from tests.conftest import create_and_upload, jpeg_bytes, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(client, alice):
    client.force_login(alice)
    ids = [create_and_upload(client, jpeg_bytes(), name=f"photo {n}")["id"] for n in range(3)]
    post_json(client, f"/api/media/{ids[0]}/complete")
    client.logout()
    return ids


def test_media_list_is_staff_only(client, alice):
    client.force_login(alice)
    response = client.get("/admin/media/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_admin_index_links_to_media_items(client, staff):
    client.force_login(staff)
    assert "/admin/media/" in client.get("/admin/").content.decode()


def test_media_list_filters_by_status_and_owner(client, staff, items):
    client.force_login(staff)
    pending = client.get("/admin/media/", {"status": "pending"}).content.decode()
    assert "photo 1" in pending and "photo 2" in pending and "photo 0" not in pending
    uploaded = client.get("/admin/media/", {"status": "uploaded"}).content.decode()
    assert "photo 0" in uploaded and "photo 1" not in uploaded
    by_owner = client.get("/admin/media/", {"owner": "alice"}).content.decode()
    assert all(f"photo {n}" in by_owner for n in range(3))
    assert "No items." in client.get("/admin/media/", {"owner": "nobody"}).content.decode()


def test_admin_can_requeue_and_delete_an_item(client, staff, items):
    client.force_login(staff)
    url = f"/admin/media/{items[0]}/"
    assert "photo 0" in client.get(url).content.decode()
    response = client.post(url, {"action": "reprocess"}, follow=True)
    assert "Processing re-queued." in response.content.decode()
    response = client.post(url, {"action": "delete"}, follow=True)
    assert "Deleted" in response.content.decode()
    assert client.get(url).status_code == 404
