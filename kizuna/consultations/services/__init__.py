"""Every write to consultations, as ``do_*`` functions in a transaction, one module per entity: ``series``,
``meetings`` (with answers to invitations and the publication of an agenda or minutes as a whole), ``agenda``,
``minutes`` (parts and decisions), ``actions``, and ``sharing`` (the STIX forms stored for peers, and the rows made from
what peers send). ``common`` holds the checks they share.

The rules, as for reports: only contributors write, and only the organisers of a meeting or series change it and its
parts (an action's owner may move its status and notes); nothing is written on a cancelled meeting; nobody may write a
label they could not see themselves; every invited attendee (chair, person owning an action) must be able to see the
record's label (checked with the label engine before anything is written); after each write the record is re-read
through ``visible_to(author)`` inside the transaction and everything rolls back if that fails; every write is
audited and versioned here and only here, its STIX form stored after the re-check and its notifications recorded in
the same transaction. A copy received from a peer is read-only here. Bad input raises ``ServiceError`` naming the
field, with nothing written.

The names below are the public surface (``from kizuna.consultations.services import do_create_meeting``).
"""

from kizuna.consultations.models import MAX_MEETING
from kizuna.consultations.services.actions import (
    do_create_action,
    do_set_action_status,
    do_update_action,
)
from kizuna.consultations.services.agenda import (
    do_add_agenda_item,
    do_delete_agenda_item,
    do_publish_agenda,
    do_unpublish_agenda,
    do_update_agenda_item,
)
from kizuna.consultations.services.common import MAX_TEXT, MAX_TITLE
from kizuna.consultations.services.meetings import (
    MeetingInput,
    do_cancel_meeting,
    do_create_meeting,
    do_rsvp,
    do_update_meeting,
)
from kizuna.consultations.services.minutes import (
    do_add_minutes,
    do_delete_decision,
    do_delete_minutes,
    do_publish_minutes,
    do_record_decision,
    do_unpublish_minutes,
    do_update_decision,
    do_update_minutes,
)
from kizuna.consultations.services.series import SeriesInput, do_create_series, do_update_series
from kizuna.consultations.services.sharing import do_publish, do_publish_all, do_publish_related, do_receive

__all__ = [
    "MAX_MEETING",
    "MAX_TEXT",
    "MAX_TITLE",
    "MeetingInput",
    "SeriesInput",
    "do_add_agenda_item",
    "do_add_minutes",
    "do_cancel_meeting",
    "do_create_action",
    "do_create_meeting",
    "do_create_series",
    "do_delete_agenda_item",
    "do_delete_decision",
    "do_delete_minutes",
    "do_publish",
    "do_publish_agenda",
    "do_publish_all",
    "do_publish_minutes",
    "do_publish_related",
    "do_receive",
    "do_record_decision",
    "do_rsvp",
    "do_set_action_status",
    "do_unpublish_agenda",
    "do_unpublish_minutes",
    "do_update_action",
    "do_update_agenda_item",
    "do_update_decision",
    "do_update_meeting",
    "do_update_minutes",
    "do_update_series",
]
