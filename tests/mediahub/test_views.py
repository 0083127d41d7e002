import re
from pathlib import Path

import requests
from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_answers_with_the_icon_not_a_404(live_server):
    response = requests.get(f"{live_server.url}/favicon.ico", timeout=10)
    assert response.history[0].status_code == 302
    assert response.history[0].headers["Location"] == static("favicon.ico")
    assert response.status_code == 200
    assert response.content == Path(finders.find("favicon.ico")).read_bytes()


def test_pages_link_the_icon_in_both_formats(client):
    page = client.get("/accounts/login/").content.decode()
    links = dict(re.findall(r'<link rel="icon" href="([^"]+)"[^>]*?(?:type="([^"]+)")?>', page))
    assert set(links) == {static("favicon.ico"), static("favicon.svg")}
    assert links[static("favicon.svg")] == "image/svg+xml"
    assert Path(finders.find("favicon.svg")).read_text().startswith("<svg")
