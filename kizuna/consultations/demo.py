"""The consultations part of ``kizuna demo``: two dialogue series of the Tokyo liaison office, with a past meeting whose
agenda, minutes, decisions and actions are published (one action overdue, one due in two days), the next meeting with
a published agenda and its automatic "review of actions", a later meeting still in draft, a cancelled one, and a
NATO–Korea staff talk that Japanese users do not see.

Dates are placed relative to the day the demo is loaded, so the calendar always has something this month. Everything
is written through the services (versions, audit, STIX forms, notifications as for any other write). Loading is
idempotent: a series that exists (by title and originator) is left as it is, with its meetings.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from kizuna.consultations import services
from kizuna.consultations.models import ActionStatus, Meeting, MeetingMode, Rsvp, Series
from kizuna.directory.models import Organisation, User
from kizuna.labels import Label

BRUSSELS = "Europe/Brussels"
TOKYO = "Asia/Tokyo"
LINK = "https://vtc.kizuna.demo.invalid/room/"


def _label(releasable_to: tuple[str, ...], classification: str = "UNCLASSIFIED", tlp: str = "GREEN",
           communities: tuple[str, ...] = ()) -> Label:
    categories: dict[str, list[str] | tuple[str, ...] | set[str]] = {"releasable_to": list(releasable_to)}
    if communities:
        categories["communities"] = list(communities)
    return Label.build("NATO", classification, categories, tlp, [])


NATO_IP4 = _label(("NATO", "IP4"))
NATO_IP4_RESTRICTED = _label(("NATO", "IP4"), "RESTRICTED", "AMBER")
NATO_JPN = _label(("NATO", "JPN"), "RESTRICTED", "AMBER")
NATO_KOR = _label(("NATO", "KOR"), "RESTRICTED", "AMBER")


def _at(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def load_consultations_demo(users: dict[str, User]) -> int:
    """Create the demo series and meetings that do not exist yet; return how many series were created."""
    created = 0
    if _cyber_series(users):
        created += 1
    if _space_series(users):
        created += 1
    _korea_talks(users)
    return created


def _exists(title: str, author: User) -> bool:
    return Series.objects.filter(title=title, originator_id=author.organisation_id).exists()


def _cyber_series(users: dict[str, User]) -> bool:
    sophie, hanako, minjun, olivia, aroha, pieter, emily = (
        users[n] for n in ("sophie", "hanako", "minjun", "olivia", "aroha", "pieter", "emily"))
    title = "NATO–IP4 Cyber Defence Consultations"
    if _exists(title, sophie):
        return False
    today = timezone.now().date()
    # Every fourth Tuesday from a Tuesday 5 weeks ago, 09:00 in Brussels: 17:00 in Tokyo and Seoul, evening in
    # Canberra and Wellington — the hour that is inside working hours somewhere for everybody but Wellington.
    first = _next_weekday(today - timedelta(days=35), 1)
    series = services.do_create_series(sophie, services.SeriesInput(
        title=title, label=NATO_IP4, time_zone=BRUSSELS, rrule="FREQ=WEEKLY;INTERVAL=4;BYDAY=TU",
        first_date=first, start_time=time(9, 0), duration_minutes=90, focus_areas=["cyber", "disinfo"],
        nations=["NATO", "JPN", "KOR", "AUS", "NZL", "USA"], chair=sophie,
    ))
    attendees = [sophie, hanako, minjun, olivia, aroha, pieter, emily]
    past, upcoming, later = (first + timedelta(weeks=4 * k) for k in (1, 2, 3))

    held = services.do_create_meeting(sophie, services.MeetingInput(
        title="Cyber Defence Consultations — session 2", label=NATO_IP4, start=_at(past, 9, 0, BRUSSELS),
        end=_at(past, 10, 30, BRUSSELS), time_zone=BRUSSELS, mode=MeetingMode.HYBRID,
        place="NATO Liaison Office, Tokyo", link=LINK + "cyber-2", series=series, attendees=attendees,
    ))
    items = [
        services.do_add_agenda_item(sophie, held, "Opening and adoption of the agenda", NATO_IP4, "Chair", 10),
        services.do_add_agenda_item(sophie, held, "Ransomware against port logistics: shared indicators",
                                    NATO_IP4_RESTRICTED, "Japan (JPN-MOD)", 30),
        services.do_add_agenda_item(sophie, held, "Exercise planning: Locked Shields participation", NATO_IP4,
                                    "Australia (AUS-ACSC)", 30),
    ]
    services.do_publish_agenda(sophie, held)
    services.do_add_minutes(sophie, held, "The chair welcomed the delegations; the agenda was adopted without change.",
                         NATO_IP4, items[0])
    services.do_add_minutes(sophie, held, "Japan presented the intrusion set seen at two container terminals. "
                         "**Korea** and **Australia** reported the same infrastructure.", NATO_IP4_RESTRICTED, items[1])
    services.do_add_minutes(sophie, held, "Australia outlined the timeline; New Zealand will join as observer.",
                         NATO_IP4, items[2])
    services.do_record_decision(sophie, held, "Indicators of the port intrusion set are shared over the TAXII feed within "
                             "24 hours of confirmation.", NATO_IP4_RESTRICTED, items[1])
    services.do_publish_minutes(sophie, held)
    for user, answer in ((hanako, Rsvp.ACCEPTED), (minjun, Rsvp.ACCEPTED), (olivia, Rsvp.TENTATIVE)):
        services.do_rsvp(user, held, answer)
    kisa = Organisation.objects.get(code="KOR-KISA")
    services.do_create_action(sophie, "Circulate the port intrusion indicators as a STIX bundle", NATO_IP4_RESTRICTED,
                              meeting=held, owner_user=hanako, due=today - timedelta(days=4))
    services.do_create_action(sophie, "Propose dates for the Locked Shields planning call", NATO_IP4, meeting=held,
                              owner_user=olivia, due=today + timedelta(days=2))
    services.do_create_action(sophie, "Share the KISA takedown playbook", NATO_IP4, meeting=held,
                              owner_organisation=kisa, due=today + timedelta(days=12))
    done = services.do_create_action(sophie, "Send the session 1 minutes to capitals", NATO_IP4, meeting=held,
                                     owner_user=sophie, due=past - timedelta(days=3))
    services.do_set_action_status(sophie, done, ActionStatus.DONE)

    nxt = services.do_create_meeting(sophie, services.MeetingInput(
        title="Cyber Defence Consultations — session 3", label=NATO_IP4, start=_at(upcoming, 9, 0, BRUSSELS),
        end=_at(upcoming, 10, 30, BRUSSELS), time_zone=BRUSSELS, mode=MeetingMode.VIRTUAL,
        link=LINK + "cyber-3", series=series, attendees=attendees,
    ))
    services.do_add_agenda_item(sophie, nxt, "Disinformation around the typhoon relief effort", NATO_IP4,
                                "New Zealand (NZL-NCSC)", 30)
    services.do_add_agenda_item(sophie, nxt, "Space weather and satellite ground stations", NATO_IP4,
                                "United States (USA-CISA)", 20)
    services.do_publish_agenda(sophie, nxt)
    services.do_rsvp(hanako, nxt, Rsvp.ACCEPTED)

    draft = services.do_create_meeting(sophie, services.MeetingInput(
        title="Cyber Defence Consultations — session 4", label=NATO_IP4, start=_at(later, 9, 0, BRUSSELS),
        end=_at(later, 10, 30, BRUSSELS), time_zone=BRUSSELS, mode=MeetingMode.VIRTUAL,
        link=LINK + "cyber-4", series=series, attendees=attendees,
    ))
    services.do_add_agenda_item(sophie, draft, "Lessons from the national exercises (draft)", NATO_IP4, "Chair", 45)
    return True


def _space_series(users: dict[str, User]) -> bool:
    hanako, sophie, kenji = users["hanako"], users["sophie"], users["kenji"]
    title = "NATO–Japan Space Dialogue"
    if _exists(title, hanako):
        return False
    today = timezone.now().date()
    first = _next_weekday(today + timedelta(days=6), 3)
    series = services.do_create_series(hanako, services.SeriesInput(
        title=title, label=NATO_JPN, time_zone=TOKYO, rrule="FREQ=MONTHLY;INTERVAL=3;BYDAY=TH;BYSETPOS=2",
        first_date=first, start_time=time(16, 0), duration_minutes=120, focus_areas=["space", "edt"],
        nations=["NATO", "JPN"], chair=hanako,
    ))
    services.do_create_meeting(hanako, services.MeetingInput(
        title="Space Dialogue — space situational awareness data sharing", label=NATO_JPN,
        start=_at(first, 16, 0, TOKYO), end=_at(first, 18, 0, TOKYO), time_zone=TOKYO,
        mode=MeetingMode.IN_PERSON, place="Ministry of Defense, Ichigaya, Tokyo", series=series,
        attendees=[hanako, sophie],
    ))
    cancelled = services.do_create_meeting(hanako, services.MeetingInput(
        title="Space Dialogue — working lunch", label=NATO_JPN, start=_at(first + timedelta(days=1), 12, 0, TOKYO),
        end=_at(first + timedelta(days=1), 13, 30, TOKYO), time_zone=TOKYO, mode=MeetingMode.IN_PERSON,
        place="NATO Liaison Office, Tokyo", series=series, attendees=[hanako, sophie],
    ))
    services.do_cancel_meeting(hanako, cancelled, "merged into the main session")
    del kenji  # kenji (JPN, UNCLASSIFIED) cannot see a RESTRICTED dialogue: he is not invited
    return True


def _korea_talks(users: dict[str, User]) -> None:
    minjun, sophie = users["minjun"], users["sophie"]
    title = "NATO–ROK maritime security staff talks"
    if Meeting.objects.filter(title=title, originator_id=minjun.organisation_id).exists():
        return
    day = _next_weekday(timezone.now().date() + timedelta(days=3), 2)
    services.do_create_meeting(minjun, services.MeetingInput(
        title=title, label=NATO_KOR, start=_at(day, 10, 0, "Asia/Seoul"), end=_at(day, 12, 0, "Asia/Seoul"),
        time_zone="Asia/Seoul", mode=MeetingMode.VIRTUAL, link=LINK + "rok-maritime", attendees=[minjun, sophie],
    ))
