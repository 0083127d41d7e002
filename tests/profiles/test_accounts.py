import re
import socket
import time

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD, rate_limits

pytestmark = pytest.mark.django_db


def test_sign_up_sign_in_protected_page_sign_out(client):
    response = client.post(
        reverse("signup"),
        {"username": "carol", "email": "carol@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302

    response = client.post(reverse("login"), {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert b"carol" in page.content

    client.post(reverse("logout"))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_sign_up_rejects_mismatched_passwords_with_a_message(client):
    response = client.post(
        reverse("signup"), {"username": "dave", "email": "d@example.com", "password1": PASSWORD, "password2": "other"}
    )
    assert response.status_code == 200
    assert b"password fields didn" in response.content


def test_protected_page_redirects_anonymous_to_sign_in(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/"


def test_admin_is_reachable_by_staff_only(client, alice, staff):
    assert client.get("/admin/").status_code == 302
    client.force_login(alice)
    assert client.get("/admin/").status_code == 302
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200


def test_repeated_failed_sign_ins_lock_the_account_out_with_a_message(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    # Even the right password is refused until the lock-out expires.
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429


def test_lockout_expires_after_the_cool_off(client, alice, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    AccessAttempt.objects.update(attempt_time="2000-01-01T00:00:00Z")  # as if the cool-off had passed
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302


def test_admin_sign_in_is_throttled_too(client, staff, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/admin/login/", {"username": "staff", "password": "wrong"})
    assert response.status_code == 429


def test_password_reset_mails_a_link_that_sets_a_new_password(client, alice):
    client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "a new long password 1", "new_password2": "a new long password 1"},
    )
    assert response.status_code == 302
    assert client.post(reverse("login"), {"username": "alice", "password": "a new long password 1"}).status_code == 302


@pytest.fixture
def smtp_settings(settings):
    """Real SMTP mail (not the test outbox) to a server on this machine, whose port the test chooses."""

    def point_at(port: int) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False

    return point_at


def test_password_reset_says_when_the_mail_could_not_be_sent(client, alice, smtp_settings, caplog):
    with socket.socket() as probe:  # a port nothing listens on any more: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp_settings(port)
    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 200  # the form again, not the "check your e-mail" redirect
    assert "We could not send the e-mail; please try again later." in response.content.decode()
    assert "Could not send the password-reset e-mail" in caplog.text
    assert "ConnectionRefusedError" in caplog.text


def test_password_reset_gives_up_on_a_silent_mail_server_after_email_timeout(client, alice, smtp_settings, settings):
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        smtp_settings(silent.getsockname()[1])
        settings.EMAIL_TIMEOUT = 1
        started = time.monotonic()
        response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
        elapsed = time.monotonic() - started
    assert "We could not send the e-mail; please try again later." in response.content.decode()
    assert 1 <= elapsed < 5


def test_password_reset_for_an_unknown_address_still_says_check_your_e_mail(client, db, smtp_settings):
    smtp_settings(1)  # never contacted: no account has the address, so no mail is sent
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")


def test_password_change_requires_the_old_password(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "another long pass 2", "new_password2": "another long pass 2"},
    )
    assert response.status_code == 200
    assert b"old password was entered incorrectly" in response.content
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "another long pass 2", "new_password2": "another long pass 2"},
    )
    assert response.status_code == 302


# --- Rate limits on accounts (mediahub/ratelimit.py, profiles/signin.py) ---------------------------------------


def sign_up(client, username: str, **extra):
    data = {"username": username, "email": f"{username}@example.com", "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("signup"), data, **extra)


def assert_rate_limited(response, text: bytes) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many requests" in response.content and text in response.content
    assert b"try again after" in response.content


def test_the_21st_sign_up_from_one_address_is_refused_with_when_to_come_back(client, settings):
    assert settings.RATE_LIMITS["signup"] == (20, 3600)
    rate_limits(settings, {"signup": None})
    for n in range(20):
        assert sign_up(client, f"user{n}").status_code == 302
        client.post(reverse("logout"))
    assert_rate_limited(sign_up(client, "user20"), b"Too many sign-ups from your address")
    assert not User.objects.filter(username="user20").exists()
    assert sign_up(client, "user20", REMOTE_ADDR="198.51.100.2").status_code == 302  # another address is not held


def test_spraying_usernames_from_one_address_locks_the_address(client, alice, settings):
    rate_limits(settings, {"signin-ip": None})
    limit = settings.RATE_LIMITS["signin-ip"][0]
    for n in range(limit):  # one try per username: axes' username+address lock-out never trips
        response = client.post(reverse("login"), {"username": f"victim{n}", "password": "guess"})
        assert response.status_code == 200
    sprayer = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert_rate_limited(sprayer, b"Too many failed sign-ins from your address")
    elsewhere = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.3")
    assert elsewhere.status_code == 302


def test_a_username_guessed_at_from_many_addresses_is_slowed(client, alice, settings):
    limit, window = settings.RATE_LIMITS["signin-user"]
    rate_limits(settings, {"signin-user": None})
    for n in range(limit):
        response = client.post(reverse("login"), {"username": "alice", "password": "guess"}, REMOTE_ADDR=f"10.0.1.{n}")
        assert response.status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.2.1")
    assert_rate_limited(response, b"Too many failed sign-ins for this account")
    assert window <= 300  # by default slowed for one short window, never locked out for long
    other = client.post(reverse("login"), {"username": "bob", "password": "x"}, REMOTE_ADDR="10.0.2.1")
    assert other.status_code == 200


def test_guessing_the_old_password_on_password_change_is_refused(client, alice, settings):
    rate_limits(settings, {"password": None})
    client.force_login(alice)
    guess = {"old_password": "guess", "new_password1": "another long pass 2", "new_password2": "another long pass 2"}
    for _ in range(settings.RATE_LIMITS["password"][0]):
        assert client.post(reverse("password_change"), guess).status_code == 200
    right = {**guess, "old_password": PASSWORD}
    assert_rate_limited(client.post(reverse("password_change"), right), b"Too many password checks")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
