"""The search page and GET /api/search: results, paging, and a clear message for every bad input."""

from __future__ import annotations

import pytest

from tests.search.helpers import ready_item


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


BAD = [
    ({"q": "   "}, "__all__", "Type a word to search for, or choose a type, a camera or dates."),
    ({"q": "### !!"}, "q", "Search for words: letters or digits."),
    ({"q": " ".join(f"word{n}" for n in range(9))}, "q", "A search takes at most 8 words (9 given)."),
    ({"q": " ".join(f"w{n:04}" for n in range(3000))}, "q", "A search is at most 500 characters (17999 given)."),
    ({"q": "a b"}, "q", "Type at least 2 letters or digits of a word: “a” is too short to search for."),
    ({"from": "yesterday"}, "from", "Write dates as YYYY-MM-DD, like 2026-12-31."),
    ({"from": "2026-02-30"}, "from", "Write dates as YYYY-MM-DD, like 2026-12-31."),
    ({"to": "9999-12-31"}, "to", "Choose a date between 1800 and 2200."),
    (
        {"from": "2026-12-02", "to": "2026-12-01"},
        "to",
        "The end date (2026-12-01) is before the start date (2026-12-02).",
    ),
    ({"type": "spreadsheet"}, "type", "Select a valid choice. spreadsheet is not one of the available choices."),
    ({"q": "sun", "cursor": "forged"}, "cursor", "That page link is not valid."),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_bad_input_is_400_json_naming_the_field(alice_client, query, field, message):
    response = alice_client.get("/api/search", query)
    assert response.status_code == 400
    assert response.json() == {"errors": {field: [message]}}


@pytest.mark.parametrize(("query", "field", "message"), BAD)
def test_bad_input_is_a_message_on_the_page(alice_client, query, field, message):
    response = alice_client.get("/search/", query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_api_finds_by_prefix_and_says_which_words_it_left_out(alice_client):
    item = ready_item(alice_client, "Sunset on the pier", file_name="DSC_0042.jpg")
    body = alice_client.get("/api/search", {"q": "a SUN dsc"}).json()
    assert [found["id"] for found in body["items"]] == [item.id]
    assert body["nextCursor"] is None and body["tooBroad"] is None and body["ignored"] == ["a"]
    assert alice_client.get("/api/search", {"q": "sun", "type": "video"}).json()["items"] == []


def test_injection_like_input_is_only_ever_words(alice_client):
    item = ready_item(alice_client, "Rock#n#roll")
    for attempt in ("rock#", "#roll", "' OR 1=1 --", "begins_with(term, '')", "🎸 rock", "R\u0308OCK"):
        response = alice_client.get("/api/search", {"q": attempt})
        assert response.status_code == 200, attempt
        assert {found["id"] for found in response.json()["items"]} <= {item.id}, attempt
    assert alice_client.get("/api/search", {"q": "rock\x00"}).json() == {
        "errors": {"q": ["Null characters are not allowed."]}
    }
    very_long = "rock" + "x" * 400
    assert alice_client.get("/api/search", {"q": very_long}).json()["items"] == []


def test_the_page_shows_results_as_cards_and_the_cameras_to_choose(alice_client):
    item = ready_item(alice_client, "Lighthouse", make="FUJIFILM", model="X-T4")
    page = alice_client.get("/search/", {"q": "light"}).content.decode()
    assert f"/media/{item.id}/" in page and 'data-testid="media-card"' in page
    assert "<option selected>FUJIFILM X-T4</option>" not in page and "<option>FUJIFILM X-T4</option>" in page
    empty = alice_client.get("/search/", {"q": "nothing"}).content.decode()
    assert "Nothing of yours matches this search." in empty


def test_an_empty_search_page_asks_for_nothing_yet(alice_client):
    response = alice_client.get("/search/")
    assert response.status_code == 200 and 'data-testid="search-errors"' not in response.content.decode()


def test_signed_out_the_page_asks_to_sign_in_and_the_api_is_401(client):
    assert client.get("/search/?q=x").status_code == 302
    assert client.get("/api/search?q=x").status_code == 401


def test_the_header_has_a_search_box(alice_client):
    assert 'role="search"' in alice_client.get("/").content.decode()
