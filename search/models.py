"""The search index: term rows per owner in DynamoDB (see docs/search.md for the key design and its costs)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from mediahub.dynamo import register, table_meta


@register
class SearchTerm(Model):
    """One row per distinct normalised word of an item (`term` = "<word>#<media id>"), carrying what a filter needs,
    so a word is one Query with `begins_with(term, <prefix>)` on the owner's partition. The owner is the hash key:
    no Query can reach another owner's rows.

    Rows whose `term` starts with "!" are not words (a word holds letters and digits only): "!camera#<camera>#<id>"
    marks an item taken with a camera, and "!cameras" holds the set of the owner's cameras, for the filter's list.
    """

    Meta = table_meta("search-terms")

    owner_id = UnicodeAttribute(hash_key=True)
    term = UnicodeAttribute(range_key=True)
    media_id = UnicodeAttribute(null=True)
    family = UnicodeAttribute(null=True)  # image, video or document
    camera = UnicodeAttribute(null=True)  # "make model", as the camera list shows it
    shot_at = UTCDateTimeAttribute(null=True)  # when it was taken (the results' order and the date filter)
    cameras = UnicodeSetAttribute(null=True)  # on the "!cameras" row only
