"""The reports part of ``kizuna demo``: reports and best-practice papers on the office's work (cyber defence, maritime
security, disaster relief, space, emerging technologies, disinformation, China's strategic developments, economic and
technology cooperation) under a spread of labels, so that a Japanese and a Korean user logged in side by side see
different content. Everything here is fictional.

Loading is idempotent: reports that already exist (by title and originator) are left exactly as they are, so a
second run changes nothing. Reports are written through ``do_create_report`` so that versions and audit entries are
made as for any other report. Registered as the module's demo loader in ``apps.ready``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kizuna.core.focus import FocusArea
from kizuna.directory.models import User
from kizuna.directory.subjects import subject_for
from kizuna.labels import Label
from kizuna.reports.models import Report, ReportKind, ReportStatus
from kizuna.reports.services import ReportInput, do_add_comment, do_create_report, do_update_report


@dataclass(frozen=True)
class DemoReport:
    title: str
    author: str
    label: Label
    focus_areas: tuple[str, ...]
    summary: str
    body: str
    kind: str = ReportKind.REPORT
    comments: tuple[tuple[str, str], ...] = ()
    # A later revision by the author (new summary), so the report shows a version history.
    revised_summary: str = ""


def _label(
    releasable_to: tuple[str, ...],
    communities: tuple[str, ...] = (),
    classification: str = "UNCLASSIFIED",
    tlp: str = "GREEN",
    recipients: tuple[str, ...] = (),
) -> Label:
    categories: dict[str, list[str] | tuple[str, ...] | set[str]] = {"releasable_to": list(releasable_to)}
    if communities:
        categories["communities"] = list(communities)
    return Label.build("NATO", classification, categories, tlp, list(recipients))


NATO_IP4 = ("NATO", "IP4")
F = FocusArea
BP = ReportKind.BEST_PRACTICE

REPORTS: tuple[DemoReport, ...] = (
    DemoReport(
        "NATO and the Indo-Pacific partners: first year of the Tokyo liaison office",
        "sophie", _label(NATO_IP4, tlp="CLEAR"), (F.STRATEGIC, F.CYBER),
        "What the liaison office in Tokyo set out to do, what it has done with Australia, Japan, New Zealand and the "
        "Republic of Korea, and the priorities for next year.",
        """## Why an office in Tokyo

The security of the Euro-Atlantic and the Indo-Pacific is connected. Russia's invasion of Ukraine and China's
growing military power concern NATO members and partners alike. The liaison office gives the Alliance a permanent
presence in the region and a platform for **regular consultations** with Australia, Japan, New Zealand and the
Republic of Korea (the IP4).

## What the year brought

- Quarterly consultations on **cyber defence**, **space** and **emerging technologies**.
- Practical cooperation on **maritime security** and **disaster relief**, building on each partner's strengths.
- A shared reporting space (this system) where partners share reports and best practice under labels that say who
  may read them.

## Priorities for next year

1. Deepen threat-information exchange between national CERTs and NATO.
2. Joint work on countering disinformation aimed at the partnership.
3. Explore economic and technology cooperation, including defence-industrial links.
""",
        comments=(("hanako", "Japan MoD welcomes the summary; we propose adding space to the Q2 consultation agenda."),
                  ("minjun", "Korea MND supports this. We can host the maritime session in Busan.")),
    ),
    DemoReport(
        "Best practice: coordinated vulnerability disclosure across national CERTs",
        "seoyeon", _label(NATO_IP4, ("CYBER",)), (F.CYBER,),
        "How KISA coordinates disclosure of vulnerabilities that affect several nations, and a checklist partners "
        "can adopt.", """## The problem

A vulnerability in a product used across the region is often reported to one national CERT first. Without
coordination, vendors receive conflicting timelines and defenders in other nations learn of it from the press.

## What works

- **One coordinator per case**, agreed within 48 hours of the first report.
- A shared, labelled case record; partner CERTs join with the releasability the reporter agrees to.
- Embargo dates aligned with the vendor; **TLP:AMBER** until the fix ships, then **TLP:CLEAR**.

## Checklist

| Step | Owner | Deadline |
|------|-------|----------|
| Acknowledge the reporter | receiving CERT | 2 working days |
| Identify affected partners | coordinator | 5 working days |
| Agree the disclosure date | coordinator and vendor | 30 days |
""", kind=BP,
    ),
    DemoReport(
        "Ransomware campaign against Indo-Pacific port operators: indicators and mitigations",
        "olivia", _label(NATO_IP4, ("CYBER",), tlp="AMBER"), (F.CYBER, F.MARITIME),
        "A ransomware group has targeted terminal-operating systems at three regional ports since March. Indicators, "
        "the intrusion path and recommended mitigations.", """## Summary

Since March the ACSC has observed a ransomware affiliate targeting **terminal-operating systems** at ports in the
region. Initial access came through exposed remote-access gateways without multi-factor authentication.

## Intrusion path

1. Password spraying against VPN gateways.
2. Lateral movement with legitimate administration tools.
3. Exfiltration of cargo manifests before encryption (double extortion).

## Mitigations

- Enforce **phishing-resistant MFA** on every remote-access path.
- Segment operational technology from the corporate network.
- Keep offline, tested backups of the terminal-operating system.

Indicators are shared separately in the threat-exchange feed under the same label.
""",
        comments=(("seoyeon", "KISA has seen the same infrastructure in scanning against two Korean logistics firms."),),
    ),
    DemoReport(
        "Ship-to-ship transfer observations in the East China Sea, third quarter",
        "hanako", _label(NATO_IP4, ("MARITIME",), "RESTRICTED", "AMBER"), (F.MARITIME,),
        "Japan Maritime Self-Defense Force sightings of suspected illicit ship-to-ship transfers, with positions, "
        "vessel characteristics and patterns.", """## Observations

During the quarter, patrol aircraft observed **seven** suspected ship-to-ship (STS) transfers in international waters
of the East China Sea. In five cases the receiving tanker had switched off its AIS transponder before the transfer.

## Patterns

- Transfers at night, in the lee of islands, in sea state 2 or below.
- Flag changes within the last twelve months for four of the vessels.
- Repeated use of the same two rendezvous areas.

## Requests to partners

Partners with satellite imagery of the rendezvous areas are invited to share it under the same label so that the
vessels can be identified.
""", revised_summary="Japan Maritime Self-Defense Force sightings of suspected illicit ship-to-ship transfers, with "
        "positions, vessel characteristics and patterns. Revised: two further sightings added.",
    ),
    DemoReport(
        "Ship-to-ship transfers in the Yellow Sea: Korean monitoring summary",
        "minjun", _label(("NATO", "KOR"), ("MARITIME",), "RESTRICTED", "AMBER"), (F.MARITIME,),
        "Republic of Korea Navy monitoring of suspected sanctions-evading transfers; shared with NATO only.",
        """## Summary

The Republic of Korea Navy tracked **four** suspected ship-to-ship transfers of refined petroleum in the Yellow Sea.
Two involved vessels already designated under UN sanctions.

## Method

Coastal radar tracks were fused with AIS data; gaps in AIS longer than six hours near known rendezvous areas
triggered a patrol tasking.

## Handling

This report is releasable to NATO only; it is not to be passed to other partners without Korean consent.
""",
    ),
    DemoReport(
        "Detecting ship-to-ship transfers from the air: Japan MoD methods note",
        "hanako", _label(("NATO", "JPN"), ("MARITIME",), "RESTRICTED", "AMBER"), (F.MARITIME,),
        "How Japanese patrol aircraft detect and document ship-to-ship transfers; shared with NATO only.",
        """## Detection

- Cueing from AIS gaps and unusual loitering patterns.
- Electro-optical and infrared imagery at night, with the hose connection as the decisive evidence.

## Documentation

Each sighting is recorded with position, time, both vessels' names and IMO numbers where legible, and imagery
suitable for publication once the case is closed.
""",
    ),
    DemoReport(
        "Best practice: sharing AIS anomalies for maritime domain awareness",
        "olivia", _label(NATO_IP4, ("MARITIME",)), (F.MARITIME,),
        "A simple format and routine for partners to exchange AIS anomalies that may indicate illicit activity.",
        """## Why

Each navy sees only its own waters. Anomalies such as AIS spoofing, identity swaps and long dark periods become
meaningful when joined up across the region.

## The routine

1. Export anomalies daily as STIX observed-data with the vessel's MMSI and IMO numbers.
2. Label them **REL TO NATO, IP4 // MARITIME**.
3. Review the joined picture weekly in the maritime working group.
""", kind=BP,
    ),
    DemoReport(
        "Lessons from the Noto Peninsula earthquake response",
        "hanako", _label(NATO_IP4, ("HADR",), tlp="CLEAR"), (F.HADR,),
        "What worked and what did not in the Self-Defense Forces' response to the January earthquake, for partners "
        "planning disaster relief.", """## What worked

- Rapid deployment of helicopters to isolated villages when roads were cut.
- Pre-agreed arrangements with private ferry operators for heavy equipment.

## What did not

- Situational awareness: damage reports arrived by many channels and were hard to merge.
- Offers of foreign assistance were hard to match to actual needs in the first days.

## Recommendation

A shared register of requests for assistance and offers, with one coordinator, would have saved days.
""",
    ),
    DemoReport(
        "Best practice: pre-positioning relief supplies in the Pacific",
        "olivia", _label(NATO_IP4, tlp="CLEAR"), (F.HADR,),
        "Where and how to pre-position relief stocks before the cyclone season, from Australian and New Zealand "
        "experience.", """## Principles

- Stocks close to the likely need, but outside the likely damage.
- Standard kits that every partner's aircraft can carry.
- One shared inventory, updated monthly.

## Cyclone season checklist

1. Confirm stock levels in Brisbane, Auckland and Nadi.
2. Rehearse the request-for-assistance procedure with Pacific island governments.
3. Agree landing rights in advance.
""", kind=BP,
    ),
    DemoReport(
        "Space situational awareness: data-sharing arrangements with partners",
        "minjun", _label(NATO_IP4, ("SPACE",)), (F.SPACE,),
        "Options for exchanging space-surveillance data between NATO and the IP4, and a proposed first step.",
        """## Options

1. Bilateral arrangements with each partner (today's situation).
2. A shared catalogue of conjunction warnings, labelled per object.
3. Joint tasking of sensors during crises.

## Proposal

Start with option 2: conjunction warnings are low-risk to share and high in value for every satellite operator.
""",
    ),
    DemoReport(
        "Korean satellite launch programme: implications for space situational awareness",
        "minjun", _label(("NATO", "KOR"), ("SPACE",), "RESTRICTED", "AMBER"), (F.SPACE, F.STRATEGIC),
        "Planned Korean launches over the next two years and what they mean for the shared space picture; NATO only.",
        """## Planned launches

The Republic of Korea plans several launches of reconnaissance satellites over the next two years.

## Implications

- More objects in sun-synchronous orbits that partners will want to track.
- Opportunities to share tasking of Korean sensors with NATO during crises.
""",
    ),
    DemoReport(
        "Principles for artificial intelligence in military decision support",
        "sophie", _label(NATO_IP4), (F.EDT,),
        "NATO's principles of responsible use of AI, read against partners' national approaches, with practical "
        "guidance for projects.", """## Principles

Lawfulness, responsibility and accountability, explainability and traceability, reliability, governability and
bias mitigation.

## In practice

- Name a responsible owner for every model in use.
- Keep a record of the data a model was trained on.
- Test with the people who will use it, in the conditions they will use it in.
""", kind=BP,
    ),
    DemoReport(
        "Quantum-safe cryptography: NATO migration roadmap",
        "sophie", _label(("NATO",), ("EDT",), tlp="AMBER"), (F.EDT, F.CYBER),
        "The Alliance's timetable for moving to post-quantum cryptography; NATO members only for now.",
        """## Timetable

1. Inventory of cryptographic dependencies.
2. Hybrid key exchange in new systems.
3. Retirement of classical-only algorithms in long-lived systems.

Partners will be briefed once the roadmap is agreed.
""",
    ),
    DemoReport(
        "Disinformation narratives about the NATO office in Tokyo",
        "kenji", _label(NATO_IP4, ("DISINFO",), tlp="AMBER"), (F.DISINFO,),
        "Narratives, channels and amplification patterns observed since the office was announced.",
        """## Narratives

- "NATO is bringing war to Asia."
- "Japan is giving up its pacifist constitution under NATO pressure."

## Channels

State-affiliated media accounts seeded the narratives; networks of inauthentic accounts amplified them within hours.
Most activity used the DISARM techniques *T0049 Flooding the information space* and *T0056 Dismiss*.

## Recommendation

Respond with facts about the office's actual tasks (consultations, cyber, disaster relief), not with rebuttals of
each claim.
""",
    ),
    DemoReport(
        "Countering foreign information manipulation: a DISARM-based playbook",
        "sophie", _label(NATO_IP4, tlp="CLEAR"), (F.DISINFO,),
        "A short playbook, built on the DISARM framework, that partner governments can adapt.",
        """## Detect

Describe incidents with DISARM tactics and techniques so that partners can compare them.

## Decide

Not every falsehood needs an answer. Weigh reach, harm and the risk of amplifying it.

## Respond

Prefer pre-bunking and transparent communication; coordinate timing with partners.
""", kind=BP,
    ),
    DemoReport(
        "China's strategic rocket force: modernisation and silo field expansion",
        "sophie", _label(NATO_IP4, (), "RESTRICTED", "AMBER"), (F.STRATEGIC,),
        "An assessment of the growth of China's strategic rocket forces, its new missile silo fields, and Russia's "
        "assistance.", """## Findings

- China is **expanding, modernising and diversifying** its nuclear forces, including large new silo fields.
- Russian assistance is accelerating parts of the programme.
- The growth contradicts China's advocacy of nuclear disarmament by the United States and Russia.

## Implications for the partnership

The developments concern NATO members and partners alike and call for closer consultation on deterrence and arms
control.
""", revised_summary="An assessment of the growth of China's strategic rocket forces, its new missile silo fields, "
        "and Russia's assistance. Updated with imagery-derived silo counts.",
    ),
    DemoReport(
        "China's nuclear doctrine and its disarmament advocacy: an Alliance assessment",
        "sophie", _label(("NATO",), (), "RESTRICTED", "AMBER"), (F.STRATEGIC,),
        "Internal Alliance assessment of the gap between China's declared no-first-use doctrine and its force "
        "expansion; NATO only.", """## Assessment

China's declared doctrine remains no-first-use, but the size and posture of the forces under construction point to
a wider range of options.

## Handling

NATO only. A partner version is in preparation.
""",
    ),
    DemoReport(
        "Japan's assessment of China's nuclear expansion, for NATO",
        "hanako", _label(("NATO", "JPN"), (), "RESTRICTED", "AMBER+STRICT"), (F.STRATEGIC,),
        "Japan Ministry of Defense assessment shared with NATO; TLP:AMBER+STRICT: not to be passed beyond the "
        "recipient's own organisation.", """## Key judgements

1. The expansion of China's arsenal will continue through the decade.
2. Regional deterrence requires closer coordination between Japan and the Alliance.

**TLP:AMBER+STRICT**: recipients may share this only within their own organisation.
""",
    ),
    DemoReport(
        "Defence-industrial cooperation between NATO members and Japanese companies",
        "sophie", _label(("NATO", "JPN")), (F.ECONOMIC,),
        "Opportunities for trade, investment and technology transfer between NATO members' and Japanese defence "
        "industries.", """## Opportunities

- Joint development where Japanese and Allied firms have complementary strengths (sensors, shipbuilding,
  electronics).
- Improved market access through the removal of trade barriers and fair and open procurement.

## Next steps

An industry day in Tokyo, with the Japanese Acquisition, Technology & Logistics Agency.
""",
    ),
    DemoReport(
        "Export-control alignment for emerging technologies: workshop outcomes",
        "emily", _label(NATO_IP4, ("INDUSTRY",)), (F.ECONOMIC, F.EDT),
        "Outcomes of the workshop on aligning export controls for semiconductors, quantum and AI among NATO members "
        "and partners.", """## Outcomes

- A shared list of technologies where controls should match.
- A contact point in each government for licence questions from industry.

## Open questions

How to treat dual-use research collaborations between universities.
""",
    ),
    DemoReport(
        "Phishing campaign impersonating Korean defence research institutes",
        "seoyeon", _label(("NATO", "KOR"), ("CYBER",), tlp="AMBER"), (F.CYBER,),
        "Spear-phishing e-mails posing as Korean defence research institutes, targeting researchers; indicators "
        "and advice.", """## The campaign

E-mails invite researchers to review a "joint paper"; the attachment installs a remote-access tool.

## Advice

- Verify unexpected invitations by telephone.
- Block the sender domains listed in the attached indicator file.
""",
    ),
    DemoReport(
        "Intrusion attempt against Japanese government e-mail",
        "kenji", _label(("NATO", "JPN"), ("CYBER",), tlp="AMBER+STRICT"), (F.CYBER,),
        "NISC incident summary of an intrusion attempt against a government e-mail service; AMBER+STRICT.",
        """## Incident

A zero-day in an e-mail gateway was used against a Japanese government service. The attempt was detected and
contained; no data is known to have left the network.

## Sharing

**TLP:AMBER+STRICT**: only within the recipient's own organisation.
""",
    ),
    DemoReport(
        "Active compromise at a partner ministry: coordination note",
        "kenji", _label(("NATO", "JPN"), ("CYBER",), tlp="RED", recipients=("org:NATO-IS",)), (F.CYBER,),
        "TLP:RED coordination note between NISC and NATO International Staff on an ongoing compromise.",
        """## Status

Containment is in progress. Do not contact the affected ministry directly.

## Coordination

NISC leads; NATO International Staff provides analysis support. The next call is tomorrow at 09:00 JST.
""",
    ),
    DemoReport(
        "Locked Shields: lessons from partner participation",
        "pieter", _label(NATO_IP4, ("CYBER",)), (F.CYBER,),
        "What teams from the IP4 learned at the live-fire cyber defence exercise, and how to prepare next time.",
        """## Lessons

- Practise the reporting chain, not only the technical defence.
- Bring legal and communications staff into the team.
- Rehearse hand-overs between shifts.
""", kind=BP,
    ),
    DemoReport(
        "Securing undersea cables: resilience best practice",
        "olivia", _label(NATO_IP4, ("MARITIME", "CYBER")), (F.MARITIME, F.CYBER),
        "Protecting undersea data cables and their landing stations against sabotage and cyber attack.",
        """## Physical

Monitor vessels loitering over cable routes; agree repair-ship arrangements in advance.

## Cyber

Segment landing-station management networks; monitor them as critical infrastructure.
""", kind=BP,
    ),
    DemoReport(
        "Supply-chain compromise of managed service providers: advisory",
        "aroha", _label(NATO_IP4, ("CYBER",), tlp="CLEAR"), (F.CYBER,),
        "NCSC New Zealand advisory on intrusions reaching government customers through managed service providers.",
        """## Advice

- Review the access your providers hold; remove what is not needed.
- Require MFA and logging on every provider account.
- Ask providers how they would tell you of a compromise.
""",
    ),
    DemoReport(
        "Trilateral cyber dialogue: United States, Japan and the Republic of Korea",
        "emily", _label(("USA", "JPN", "KOR"), ("CYBER",), tlp="AMBER"), (F.CYBER,),
        "Summary of the trilateral dialogue on cyber threats from state actors and cryptocurrency theft.",
        """## Topics

- Cryptocurrency theft funding weapons programmes.
- Protection of critical infrastructure.
- Joint attribution statements.
""",
    ),
    DemoReport(
        "Hybrid threats to supply chains between Europe and the Indo-Pacific: a Belgian perspective",
        "pieter", _label(("NATO",)), (F.ECONOMIC, F.CYBER),
        "How disruption of Indo-Pacific supply chains affects European ports and industry; NATO only.",
        """## Observations

Port of Antwerp-Bruges operators report rising cyber reconnaissance against logistics platforms linked to Asian
routes.
""",
    ),
)



def load_reports_demo(users: dict[str, Any]) -> int:
    """Load the reports that are not there yet; returns how many were created."""
    created = sum(1 for report in REPORTS if _load_report(report, users))
    # Reports loaded before reports travelled to peers get their STIX form now (new ones have it already).
    from kizuna.reports.services import do_publish_all as publish_all

    publish_all()
    return created


def _load_report(spec: DemoReport, users: dict[str, User]) -> bool:
    author = users[spec.author]
    if Report.objects.filter(title=spec.title, originator_id=author.organisation_id).exists():
        return False
    report = do_create_report(
        author,
        ReportInput(
            title=spec.title,
            label=spec.label,
            summary=spec.summary,
            body=spec.body,
            kind=spec.kind,
            focus_areas=[str(area) for area in spec.focus_areas],
        ),
    )
    if spec.revised_summary:
        report = do_update_report(author, report, summary=spec.revised_summary)
    for username, text in spec.comments:
        do_add_comment(users[username], report, text)
    return True



def active_report_counts(user: User) -> tuple[int, int]:
    """How many active reports the user may see, and how many there are (the demo's table of logins)."""
    total = Report.objects.filter(status=ReportStatus.ACTIVE).count()
    return Report.objects.visible_to(subject_for(user)).filter(status=ReportStatus.ACTIVE).count(), total


def visible_report_titles(user: User) -> set[str]:
    """Titles of the active reports the user may see (the side-by-side difference of ``kizuna demo``)."""
    return set(
        Report.objects.visible_to(subject_for(user)).filter(status=ReportStatus.ACTIVE).values_list("title", flat=True)
    )
