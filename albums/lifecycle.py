"""The lives of an album, its memberships and its share links: every state, every move, its condition.

This module owns every DynamoDB write to those records (the tables in `MACHINES`, rendered into
docs/state-machines.md). A membership row and the album's `item_count` change in one TransactWriteItems, so
the count never drifts from the rows; every counter ADD carries an existence condition, so no write recreates an
album that was deleted meanwhile.
"""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, TransactWriteError, UpdateError

from albums.models import Album, AlbumLink, AlbumState, Membership
from mediahub.dynamo import condition_failed, transaction
from mediahub.lifecycle import GONE, UNCHANGED, Machine, Transition
from uploads.lifecycle import Lost, _reasons
from uploads.models import MediaItem, Status, utcnow

ACTIVE, DELETING = AlbumState.ACTIVE, AlbumState.DELETING
MEMBER = "member"

ALBUM = Machine(
    record="Album (`Album`, table `albums`)",
    states={
        ACTIVE: "Listed and shown to its owner (and to holders of its links).",
        DELETING: "Being deleted: its memberships and links go first, the record last. Its media stay.",
    },
    transitions=(
        Transition("create", (), ACTIVE, ("owner",), "`id` does not exist", "a new id is drawn (uuid4 clash)"),
        Transition(
            "edit",
            (ACTIVE,),
            UNCHANGED,
            ("owner",),
            "`owner_id = <owner>` and `state = active` (name, description, order)",
            "404: the album is gone",
        ),
        Transition(
            "choose_cover",
            (ACTIVE,),
            UNCHANGED,
            ("owner",),
            "`owner_id = <owner>` and `state = active`, and in the same transaction the membership row exists",
            "404: the album or the item's membership is gone",
        ),
        Transition(
            "start_delete",
            (ACTIVE,),
            DELETING,
            ("owner", "account deletion"),
            "`owner_id = <owner>` and `state = active`",
            "404 if gone; a second delete finishes the first one's work",
        ),
        Transition(
            "finish_delete",
            (DELETING,),
            GONE,
            ("owner", "account deletion"),
            "record deleted if `state = deleting` (after every membership and link is gone)",
            "nothing: another delete finished it",
        ),
    ),
    notes=(
        "`item_count` moves only inside a membership's `add`, `remove` or `forget` transaction; the cover is set "
        "to the first item added (`if_not_exists`) and cleared (if it still names the item) when that item leaves.",
    ),
)

MEMBERSHIP = Machine(
    record="Membership (`Membership`, table `album-members`)",
    states={MEMBER: "The item is in the album (one row per album and item)."},
    transitions=(
        Transition(
            "add",
            (),
            MEMBER,
            ("owner",),
            "one transaction: row put if `(album_id, media_id)` does not exist; album `ADD item_count 1` if "
            "`state = active`; the item checked `owner_id = <owner>` and `status <> deleting`",
            "already in the album: reported as such, nothing written; album or item gone: 404",
        ),
        Transition(
            "remove",
            (MEMBER,),
            GONE,
            ("owner",),
            "one transaction: row deleted if it exists; album `ADD item_count -1` if the album exists",
            "nothing: it was not (or no longer) in the album",
        ),
        Transition(
            "forget",
            (MEMBER,),
            GONE,
            ("deletion", "album page"),
            "as `remove`; the row alone when its album is already gone",
            "nothing: it was already removed",
        ),
        Transition(
            "purge",
            (MEMBER,),
            GONE,
            ("owner", "account deletion"),
            "none: the album is `deleting` (no `add` can win), its rows go in batches",
        ),
    ),
    notes=(
        "Trashed (or otherwise not ready) items keep their rows, so a restore brings them back; album pages show "
        "`ready` items only. Deleting an item for good forgets its rows (`albums.services.forget_media`, from "
        "`uploads.services.delete_item`), found on the `by-media` index; an album page that meets a row whose "
        "item no longer exists forgets it too, which covers the index's propagation delay.",
    ),
)

ALBUM_LINK = Machine(
    record="Album link (`AlbumLink`, table `album-links`)",
    states={
        "active": "Usable: not revoked, not expired.",
        "revoked": "The owner revoked it.",
        "expired": "Past `expires_at` (derived from the clock, never written).",
    },
    transitions=(
        Transition(
            "share",
            (),
            "active",
            ("owner",),
            "`digest` does not exist; the album is the owner's and active; records whether downloads are allowed",
        ),
        Transition("revoke", ("active", "expired"), "revoked", ("owner",), "`digest` exists", "404: it is gone"),
    ),
    notes=(
        "Links are deleted with their album and forgotten by TTL 30 days after expiry. Downloads through a link "
        "hand out the item without its location, as an item's share link does, and count on the item.",
    ),
)

MACHINES = (ALBUM, MEMBERSHIP, ALBUM_LINK)


class AlreadyMember(Exception):
    """`add` found the row there: the item was in the album already."""


# --- Albums ---------------------------------------------------------------------------------------------------


def _active(owner_id: str):
    return (Album.owner_id == owner_id) & (Album.state == ACTIVE)


def _update_album(album: Album, actions: list, condition) -> None:
    try:
        album.update(actions=[*actions, Album.updated_at.set(utcnow())], condition=condition)
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(album.id) from None
        raise


def create(album: Album) -> None:
    album.save(condition=Album.id.does_not_exist())


def edit(album: Album, *, owner_id: str, name: str, description: str, order: str) -> None:
    actions = [Album.name.set(name), Album.description.set(description), Album.order.set(order)]
    _update_album(album, actions, _active(owner_id))
    album.name, album.description, album.order = name, description, order


def choose_cover(album: Album, *, owner_id: str, media_id: str) -> None:
    try:
        with transaction() as tx:
            tx.update(
                album,
                actions=[Album.cover_id.set(media_id), Album.updated_at.set(utcnow())],
                condition=_active(owner_id),
            )
            tx.condition_check(Membership, album.id, media_id, condition=Membership.media_id.exists())
    except TransactWriteError as exc:
        if any(_reasons(exc, 2)):
            raise Lost(album.id) from None
        raise
    album.cover_id = media_id


def start_delete(album: Album, *, owner_id: str) -> None:
    if album.state == DELETING:
        return
    _update_album(album, [Album.state.set(DELETING)], _active(owner_id))
    album.state = DELETING


def finish_delete(album: Album) -> None:
    try:
        album.delete(condition=Album.state == DELETING)
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


# --- Memberships ----------------------------------------------------------------------------------------------


def add(album: Album, item: MediaItem, *, taken: str) -> None:
    """The row, the album's count (and its cover, if it has none), and a check that the item is still the
    owner's and not being deleted: all or nothing. AlreadyMember when the row was there; Lost when the album or
    the item is gone."""
    row = Membership(album.id, item.id, taken=taken, added_at=utcnow())
    try:
        with transaction() as tx:
            tx.save(row, condition=Membership.media_id.does_not_exist())
            tx.update(
                album,
                actions=[
                    Album.item_count.add(1),
                    Album.cover_id.set(Album.cover_id | item.id),  # if_not_exists: the first item is the cover
                    Album.updated_at.set(utcnow()),
                ],
                condition=Album.state == ACTIVE,
            )
            tx.condition_check(
                MediaItem,
                item.id,
                condition=(MediaItem.owner_id == album.owner_id) & (MediaItem.status != Status.DELETING),
            )
    except TransactWriteError as exc:
        # PynamoDB sends condition checks first, then deletes, puts and updates: the reasons come in that order.
        item_failed, row_failed, album_failed = _reasons(exc, 3)
        if row_failed and not (album_failed or item_failed):
            raise AlreadyMember(item.id) from None
        if row_failed or album_failed or item_failed:
            raise Lost(album.id) from None
        raise


def remove(album_id: str, media_id: str) -> bool:
    """`remove` and `forget`: the row and one off the album's count, together; False when the row was not there
    (harmless)."""
    row = Membership(album_id, media_id)
    try:
        with transaction() as tx:
            tx.delete(row, condition=Membership.media_id.exists())
            tx.update(
                Album(album_id),
                actions=[Album.item_count.add(-1), Album.updated_at.set(utcnow())],
                condition=Album.id.exists(),
            )
    except TransactWriteError as exc:
        row_failed, album_failed = _reasons(exc, 2)
        if row_failed:
            return False
        if not album_failed:
            raise
        _delete_row(row)  # no album to count in (it is gone): the row alone
        return True
    _clear_cover(album_id, media_id)
    return True


def _delete_row(row: Membership) -> None:
    try:
        row.delete(condition=Membership.media_id.exists())
    except DeleteError as exc:
        if not condition_failed(exc):
            raise


def _clear_cover(album_id: str, media_id: str) -> None:
    """The cover goes with its item (if it still names it); the album then shows no picture until one is chosen."""
    try:
        Album(album_id).update(actions=[Album.cover_id.remove()], condition=Album.cover_id == media_id)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def purge(album: Album) -> int:
    """Every row of an album being deleted, in batches; a strongly consistent Query on the table's own key sees
    every `add` that won before the album turned `deleting` (none can win after)."""
    count = 0
    with Membership.batch_write() as batch:
        for row in Membership.query(album.id, consistent_read=True, attributes_to_get=["album_id", "media_id"]):
            batch.delete(row)
            count += 1
    return count


# --- Links ----------------------------------------------------------------------------------------------------


def share(link: AlbumLink) -> None:
    link.save(condition=AlbumLink.digest.does_not_exist())


def revoke(link: AlbumLink) -> None:
    try:
        link.update(actions=[AlbumLink.revoked_at.set(utcnow())], condition=AlbumLink.digest.exists())
    except UpdateError as exc:
        if condition_failed(exc):
            raise Lost(link.digest) from None
        raise


def forget_links(album: Album) -> None:
    with AlbumLink.batch_write() as batch:
        for link in AlbumLink.by_album.query(album.id):
            batch.delete(link)
