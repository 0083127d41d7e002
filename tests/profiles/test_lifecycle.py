"""The machines in profiles/lifecycle.py against the code: every transition tried from every state, each refusal
leaving the record as it was, and each success ending in the row's target state."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from profiles import lifecycle
from profiles.lifecycle import ACCOUNT, AVATAR, IDLE, PENDING, PROCESSING
from profiles.models import AccountDeletion, Profile
from uploads.models import utcnow

pytestmark = pytest.mark.django_db

UID = "7"
KEY = f"avatars/{UID}/{'a' * 32}.jpg"
NEW_KEY = f"avatars/{UID}/{'b' * 32}.jpg"
LIVE = f"avatars/{UID}/{'c' * 32}.jpg"
ME = "this-run"

# The states a test can put a profile in: (machine state or None for "no record", how old a claim is).
AVATAR_SETUPS = {
    "no profile": (None, None),
    "idle": (IDLE, None),
    "idle (attribute missing)": ("missing", None),
    "pending": (PENDING, None),
    "processing": (PROCESSING, timedelta(seconds=1)),
    "processing, claim stale": (PROCESSING, lifecycle.CLAIM_TIMEOUT + timedelta(seconds=1)),
}


def set_up_avatar(state: str | None, claim_age: timedelta | None) -> None:
    if state is None:
        return
    profile = Profile(UID, avatar_key=LIVE, avatar_renditions={"64": {"files": {}}})
    if state != "missing":
        profile.avatar_state = state
    if state in (PENDING, PROCESSING):
        profile.pending_avatar_key = KEY
    if state == PROCESSING:
        profile.avatar_claim, profile.avatar_claimed_at = ME, utcnow() - claim_age
    profile.save()


AVATAR_WRITES = {
    "presign": lambda: lifecycle.presign(UID, NEW_KEY),
    "claim": lambda: lifecycle.claim(UID, KEY, "another-run") is not None,
    "release": lambda: lifecycle.release(UID, KEY, ME),
    "apply": lambda: lifecycle.apply(UID, KEY, ME, {"64": {"files": {}}}),
    "refuse": lambda: lifecycle.refuse(UID, KEY, ME, "Not a picture."),
    "clear": lambda: lifecycle.clear(UID, LIVE),
}


def snapshot() -> dict | None:
    try:
        return Profile.get(UID, consistent_read=True).serialize()
    except Profile.DoesNotExist:
        return None


def expected(name: str, setup: str) -> bool:
    state, claim_age = AVATAR_SETUPS[setup]
    machine_state = IDLE if state == "missing" else state
    if name == "claim" and state == PROCESSING:  # the row's condition: only a stale claim may be retaken
        return claim_age > lifecycle.CLAIM_TIMEOUT
    return AVATAR.allows(name, machine_state)


def test_every_avatar_transition_has_a_write_that_names_it():
    assert set(AVATAR_WRITES) == {t.name for t in AVATAR.transitions}
    for transition in AVATAR.transitions:
        assert getattr(lifecycle, transition.name).__doc__.startswith(f"{transition.name}:")


@pytest.mark.parametrize("setup", AVATAR_SETUPS)
@pytest.mark.parametrize("name", AVATAR_WRITES)
def test_avatar_transition_is_allowed_exactly_from_its_source_states(name, setup):
    set_up_avatar(*AVATAR_SETUPS[setup])
    before = snapshot()
    allowed = expected(name, setup)
    assert AVATAR_WRITES[name]() is allowed
    if allowed:
        assert Profile.get(UID, consistent_read=True).avatar_state == AVATAR.get(name).target
    else:
        assert snapshot() == before  # a refused write changes nothing, and never makes a record


def test_of_two_claims_only_the_first_wins():
    set_up_avatar(PENDING, None)
    assert lifecycle.claim(UID, KEY, "first") is not None
    assert lifecycle.claim(UID, KEY, "second") is None
    assert Profile.get(UID).avatar_claim == "first"


def test_a_run_whose_claim_was_retaken_loses_every_later_write():
    set_up_avatar(PROCESSING, lifecycle.CLAIM_TIMEOUT + timedelta(seconds=1))
    assert lifecycle.claim(UID, KEY, "retaker") is not None
    assert not lifecycle.apply(UID, KEY, ME, {})
    assert not lifecycle.refuse(UID, KEY, ME, "late")
    assert not lifecycle.release(UID, KEY, ME)
    assert Profile.get(UID).avatar_claim == "retaker"


def test_a_superseded_run_loses_its_apply_and_the_new_upload_stays_pending():
    set_up_avatar(PROCESSING, timedelta(seconds=1))
    assert lifecycle.presign(UID, NEW_KEY)
    assert not lifecycle.apply(UID, KEY, ME, {})
    profile = Profile.get(UID)
    assert (profile.avatar_key, profile.pending_avatar_key, profile.avatar_state) == (LIVE, NEW_KEY, PENDING)


def test_clear_loses_to_a_changed_avatar():
    set_up_avatar(IDLE, None)
    assert not lifecycle.clear(UID, NEW_KEY)
    assert Profile.get(UID).avatar_key == LIVE


# --- The account ------------------------------------------------------------------------------------------


def set_up_account(state: str, user: User) -> None:
    if state == lifecycle.DELETING:
        assert lifecycle.request_deletion(user.pk, total=0)
    elif state == lifecycle.DELETED:
        user.delete()


def account_state(user: User) -> str:
    row = User.objects.filter(pk=user.pk).first()
    if row is None:
        return lifecycle.DELETED
    if AccountDeletion.objects.filter(user=row).exists():
        assert not row.is_active
        return lifecycle.DELETING
    assert row.is_active
    return lifecycle.ACTIVE


def staff_delete(user: User) -> bool:
    row = User.objects.filter(pk=user.pk).first()
    if row is None:
        return False
    row.delete()  # as the admin does: the pre_delete receiver deletes the data first
    return True


ACCOUNT_WRITES = {
    "request-deletion": lambda user: lifecycle.request_deletion(user.pk, total=0),
    "finish-deletion": lambda user: lifecycle.finish_deletion(user.pk),
    "staff-delete": staff_delete,
}


def test_every_account_transition_has_a_write():
    assert set(ACCOUNT_WRITES) == {t.name for t in ACCOUNT.transitions}
    for name in ("request-deletion", "finish-deletion"):
        assert getattr(lifecycle, name.replace("-", "_")).__doc__.startswith(f"{name}:")


@pytest.mark.parametrize("state", list(ACCOUNT.states))
@pytest.mark.parametrize("name", ACCOUNT_WRITES)
def test_account_transition_is_allowed_exactly_from_its_source_states(name, state, alice):
    set_up_account(state, alice)
    allowed = ACCOUNT.allows(name, state)
    assert ACCOUNT_WRITES[name](alice) is allowed
    assert account_state(alice) == (ACCOUNT.get(name).target if allowed else state)
