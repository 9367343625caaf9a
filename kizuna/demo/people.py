"""The people of the demo scenario: NATO's liaison office in Tokyo and its partners' organisations (NATO, Japan,
Korea, Australia, New Zealand, Belgium and the United States), and users of each nation with different roles,
clearances and communities. Everything here is fictional.

Loading is idempotent: organisations and users that already exist (by code and username) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kizuna.demo.facts import ALL_COMMUNITIES, DEMO_PASSWORD
from kizuna.directory.models import Organisation, Role, User
from kizuna.directory.services import create_user, ensure_organisation


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name: str
    nation: str | None  # None: a NATO body
    names: dict[str, str] = field(default_factory=dict, hash=False)  # the name in Japanese, Korean and French


@dataclass(frozen=True)
class DemoUser:
    username: str
    nation: str
    organisation: str
    role: str
    clearance: str  # NATO policy level; "" for none
    communities: tuple[str, ...]
    language: str = "en"
    timezone: str = "UTC"


@dataclass
class People:
    """The demo users by username, and what loading them created."""

    users: dict[str, User] = field(default_factory=dict)
    organisations_created: int = 0
    created_users: list[str] = field(default_factory=list)


ORGANISATIONS = (
    DemoOrganisation("NATO-IS", "NATO International Staff", None, {
        "ja": "NATO国際事務局", "ko": "NATO 국제사무국", "fr": "Secrétariat international de l'OTAN"}),
    DemoOrganisation("JPN-MOD", "Japan Ministry of Defense", "JPN", {
        "ja": "防衛省", "ko": "일본 방위성", "fr": "ministère de la Défense du Japon"}),
    DemoOrganisation("JPN-NISC", "Japan National center of Incident readiness and Strategy for Cybersecurity", "JPN", {
        "ja": "内閣サイバーセキュリティセンター", "ko": "일본 내각사이버보안센터",
        "fr": "Centre national de préparation aux incidents et de stratégie pour la cybersécurité (Japon)"}),
    DemoOrganisation("AUS-ACSC", "Australian Cyber Security Centre", "AUS", {
        "ja": "オーストラリア・サイバーセキュリティ・センター", "ko": "호주 사이버보안센터",
        "fr": "Centre australien de cybersécurité"}),
    DemoOrganisation("NZL-NCSC", "New Zealand National Cyber Security Centre", "NZL", {
        "ja": "ニュージーランド国家サイバーセキュリティ・センター", "ko": "뉴질랜드 국가사이버보안센터",
        "fr": "Centre national de cybersécurité de Nouvelle-Zélande"}),
    DemoOrganisation("KOR-MND", "Republic of Korea Ministry of National Defense", "KOR", {
        "ja": "大韓民国国防部", "ko": "대한민국 국방부",
        "fr": "ministère de la Défense nationale de la République de Corée"}),
    DemoOrganisation("KOR-KISA", "Korea Internet & Security Agency", "KOR", {
        "ja": "韓国インターネット振興院", "ko": "한국인터넷진흥원", "fr": "Agence coréenne de l'internet et de la sécurité"}),
    DemoOrganisation("BEL-CCB", "Centre for Cybersecurity Belgium", "BEL", {
        "ja": "ベルギー・サイバーセキュリティ・センター", "ko": "벨기에 사이버보안센터",
        "fr": "Centre pour la Cybersécurité Belgique"}),
    DemoOrganisation("USA-CISA", "US Cybersecurity and Infrastructure Security Agency", "USA", {
        "ja": "米国サイバーセキュリティ・インフラストラクチャー安全保障庁", "ko": "미국 사이버보안·기반시설보안청",
        "fr": "Agence américaine de cybersécurité et de sécurité des infrastructures"}),
)

USERS = (
    DemoUser("admin", "BEL", "NATO-IS", Role.ADMIN, "RESTRICTED", ALL_COMMUNITIES, timezone="Europe/Brussels"),
    DemoUser("sophie", "BEL", "NATO-IS", Role.COORDINATOR, "RESTRICTED",
             ("CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO"), timezone="Asia/Tokyo"),
    DemoUser("pieter", "BEL", "BEL-CCB", Role.CONTRIBUTOR, "RESTRICTED", ("CYBER",), timezone="Europe/Brussels"),
    DemoUser("emily", "USA", "USA-CISA", Role.CONTRIBUTOR, "RESTRICTED", ("CYBER", "INDUSTRY"),
             timezone="America/New_York"),
    DemoUser("hanako", "JPN", "JPN-MOD", Role.COORDINATOR, "RESTRICTED", ("CYBER", "MARITIME", "HADR", "SPACE"),
             language="ja", timezone="Asia/Tokyo"),
    DemoUser("kenji", "JPN", "JPN-NISC", Role.CONTRIBUTOR, "UNCLASSIFIED", ("CYBER", "DISINFO"), timezone="Asia/Tokyo"),
    DemoUser("minjun", "KOR", "KOR-MND", Role.COORDINATOR, "RESTRICTED", ("CYBER", "MARITIME", "SPACE"),
             timezone="Asia/Seoul"),
    DemoUser("seoyeon", "KOR", "KOR-KISA", Role.CONTRIBUTOR, "UNCLASSIFIED", ("CYBER", "INDUSTRY"), timezone="Asia/Seoul"),
    DemoUser("olivia", "AUS", "AUS-ACSC", Role.CONTRIBUTOR, "RESTRICTED", ("CYBER", "MARITIME", "HADR"),
             timezone="Australia/Sydney"),
    DemoUser("aroha", "NZL", "NZL-NCSC", Role.CONTRIBUTOR, "UNCLASSIFIED", ("CYBER", "HADR"), timezone="Pacific/Auckland"),
    DemoUser("liam", "NZL", "NZL-NCSC", Role.VIEWER, "UNCLASSIFIED", (), timezone="Pacific/Auckland"),
)



def load_people() -> People:
    """Make the organisations and users that are not there yet (call inside a transaction)."""
    people = People()
    for org in ORGANISATIONS:
        if not Organisation.objects.filter(code=org.code).exists():
            ensure_organisation(org.code, org.name, org.nation, org.names)
            people.organisations_created += 1
        else:
            # An organisation made before it had names (NATO-IS is seeded by the directory) gets the demo's names.
            Organisation.objects.filter(code=org.code, names={}).update(names=org.names)
    for spec in USERS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = create_user(
                username=spec.username,
                nation=spec.nation,
                organisation=spec.organisation,
                clearances={"NATO": spec.clearance} if spec.clearance else {},
                communities=list(spec.communities),
                role=spec.role,
                password=DEMO_PASSWORD,
                email=f"{spec.username}@{spec.organisation.lower()}.demo.invalid",
                language=spec.language,
                timezone_name=spec.timezone,
                actor="demo",
            )
            people.created_users.append(spec.username)
        people.users[spec.username] = user
    return people
