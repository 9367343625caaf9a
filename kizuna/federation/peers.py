"""Peers: other nodes this node trusts and exchanges with, configured by an administrator.

``add_peer`` makes the peer a subject like a person: a local account (``peer:<name>``, no password) whose API tokens
the peer presents when it reads from this node, with the entitlements agreed between the two organisations
(nations or groups, clearances, communities), and an organisation of its own that is the originator, on this node,
of everything the peer node signed. Every change is in the audit log. Errors are ``ServiceError`` with one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.errors import ServiceError
from kizuna.directory.models import Nation, NationGroup, Organisation, Role, User
from kizuna.directory.services import _check_clearances, _check_communities, create_token
from kizuna.directory.subjects import PEER_PREFIX
from kizuna.federation import keys
from kizuna.federation.models import Peer, PeerKey

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_NODE_ID = re.compile(r"^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class PeerKeyInfo:
    key_id: str
    public_key: str


def check_public_key(text: str) -> PeerKeyInfo:
    """A raw Ed25519 public key in base64 (as ``kizuna node show`` prints it), with its key id."""
    try:
        raw = keys.public_from_b64(text.strip())
    except ValueError:
        raise ServiceError(_("the public key must be a raw Ed25519 key in base64 (44 characters), as "
                             "'kizuna node show' prints it"), "public_key") from None
    return PeerKeyInfo(key_id=keys.key_id(raw), public_key=keys.public_b64(raw))


def _check_nations(nations: list[str]) -> list[str]:
    codes = sorted({n.strip().upper() for n in nations if n.strip()})
    if not codes:
        raise ServiceError(_("name at least one nation or group the peer is entitled to (e.g. JPN or NATO)"),
                           "nations")
    known = set(Nation.objects.filter(code__in=codes).values_list("code", flat=True))
    known |= set(NationGroup.objects.filter(code__in=codes).values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ServiceError(_("unknown nation or group %(codes)s") % {"codes": ", ".join(unknown)}, "nations")
    return codes


def check_url(url: str) -> str:
    """The TAXII URL as stored (ending in /), or a ServiceError on field taxii_url."""
    url = url.strip()
    if not url:
        return ""
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise ServiceError(_("the TAXII URL must be an http:// or https:// address of the peer's API root"),
                           "taxii_url")
    return url if url.endswith("/") else url + "/"


def add_peer(
    name: str,
    node_id: str,
    *,
    nations: list[str],
    clearances: dict[str, str] | None = None,
    communities: list[str] | None = None,
    public_keys: list[str] = (),  # type: ignore[assignment]
    taxii_url: str = "",
    credential: str = "",
    title: str = "",
    interval: int = 300,
    actor: str,
) -> Peer:
    """Configure a peer; nothing is written unless every part is valid."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise ServiceError(_("a peer name is 1 to 40 lower-case letters, digits and dashes, such as jpn-node"), "name")
    node_id = node_id.strip()
    if not _NODE_ID.match(node_id):
        raise ServiceError(_("the node id must be the peer's identity id, identity--<uuid>, as 'kizuna node show' "
                             "prints it"), "node_id")
    from kizuna.federation.services import node_identity

    if node_id == node_identity().stix_id:
        raise ServiceError(_("that node id is this node's own"), "node_id")
    codes = _check_nations(nations)
    clearances = {str(k).strip(): str(v).strip() for k, v in (clearances or {}).items()}
    _check_clearances(clearances)
    communities = sorted({c.strip() for c in communities or [] if c.strip()})
    _check_communities(communities)
    key_infos = [check_public_key(k) for k in public_keys]
    url = check_url(taxii_url)
    if url and not credential.strip():
        raise ServiceError(_("a peer with a TAXII URL needs the credential (API token) this node presents to it"),
                           "credential")
    if interval < 10:
        raise ServiceError(_("the sync interval must be at least 10 seconds"), "interval")
    if Peer.objects.filter(name=name).exists():
        raise ServiceError(_("peer %(name)s already exists") % {"name": name}, "name")
    if Peer.objects.filter(node_id=node_id).exists():
        raise ServiceError(_("a peer with node id %(id)s already exists") % {"id": node_id}, "node_id")
    org_code = f"NODE-{name.upper()}"[:32]
    if Organisation.objects.filter(code=org_code).exists():
        raise ServiceError(_("organisation %(code)s already exists; choose another peer name") % {"code": org_code},
                           "name")
    nation = next((c for c in codes if Nation.objects.filter(code=c).exists()), None)
    with transaction.atomic():
        org = Organisation.objects.create(code=org_code, name=f"Node {name} ({node_id[10:18]})"[:200],
                                          nation_id=nation, is_nato_body=nation is None)
        account = User(username=f"{PEER_PREFIX}{name}", nation_id=nation, organisation=org, role=Role.VIEWER,
                       clearances=clearances, communities=communities)
        account.set_unusable_password()
        account.save()
        peer = Peer.objects.create(
            name=name, node_id=node_id, title=title.strip()[:200], organisation=org, account=account,
            nations=codes, clearances=clearances, communities=communities, taxii_url=url,
            credential=credential.strip(), interval=interval,
        )
        for info in key_infos:
            PeerKey.objects.get_or_create(peer=peer, key_id=info.key_id, defaults={"public_key": info.public_key})
        audit.record(actor, "peer.add", "peer", [peer.pk], detail={
            "name": name, "node_id": node_id, "nations": codes, "clearances": clearances,
            "communities": communities, "taxii_url": url, "keys": [i.key_id for i in key_infos]})
    return peer


def get_peer(name: str) -> Peer:
    peer = Peer.objects.select_related("organisation", "account").filter(name=name.strip().lower()).first()
    if peer is None:
        raise ServiceError(_("no peer named %(name)s") % {"name": name}, "name")
    return peer


def add_key(peer: Peer, public_key: str, *, actor: str) -> PeerKey:
    """Trust one more public key of the peer (after it rotated); earlier keys stay trusted for what they signed."""
    info = check_public_key(public_key)
    with transaction.atomic():
        key, created = PeerKey.objects.get_or_create(peer=peer, key_id=info.key_id,
                                                     defaults={"public_key": info.public_key})
        if created:
            audit.record(actor, "peer.add-key", "peer", [peer.pk], detail={"key_id": info.key_id})
    return key


def update_peer(peer: Peer, *, actor: str, **changes: Any) -> Peer:
    """Change a peer's entitlements, URL, credential, interval or enabled flag (only the fields given)."""
    fields: dict[str, Any] = {}
    if "nations" in changes:
        fields["nations"] = _check_nations(list(changes["nations"]))
    if "clearances" in changes:
        clearances = {str(k).strip(): str(v).strip() for k, v in (changes["clearances"] or {}).items()}
        _check_clearances(clearances)
        fields["clearances"] = clearances
    if "communities" in changes:
        communities = sorted({c.strip() for c in changes["communities"] or [] if c.strip()})
        _check_communities(communities)
        fields["communities"] = communities
    if "taxii_url" in changes:
        fields["taxii_url"] = check_url(str(changes["taxii_url"]))
    if "credential" in changes:
        fields["credential"] = str(changes["credential"]).strip()
    if "interval" in changes:
        if int(changes["interval"]) < 10:
            raise ServiceError(_("the sync interval must be at least 10 seconds"), "interval")
        fields["interval"] = int(changes["interval"])
    if "enabled" in changes:
        fields["enabled"] = bool(changes["enabled"])
    if "title" in changes:
        fields["title"] = str(changes["title"]).strip()[:200]
    if fields.get("taxii_url", peer.taxii_url) and not fields.get("credential", peer.credential):
        raise ServiceError(_("a peer with a TAXII URL needs the credential (API token) this node presents to it"),
                           "credential")
    with transaction.atomic():
        for key, value in fields.items():
            setattr(peer, key, value)
        peer.save(update_fields=list(fields))
        # The account mirrors the entitlements (the subject is built from the peer; the account shows them).
        account = peer.account
        account.clearances, account.communities = peer.clearances, peer.communities
        account.is_active = peer.enabled
        account.save(update_fields=["clearances", "communities", "is_active"])
        shown = {k: ("(changed)" if k == "credential" else v) for k, v in fields.items()}
        audit.record(actor, "peer.update", "peer", [peer.pk], detail=shown)
    return peer


def peer_token(peer: Peer, *, actor: str) -> str:
    """A new API token for the peer's account: give it to the peer's administrator, who configures it as the
    credential their node presents here. Shown once; only its digest is stored."""
    _token, secret = create_token(peer.account, name=f"federation peer {peer.name}", actor=actor)
    return secret


def trusted_keys() -> dict[str, dict[str, bytes]]:
    """Public keys by node id and key id: this node's own (all, retired included) and every peer's."""
    from kizuna.federation.services import node_identity, public_keys

    out: dict[str, dict[str, bytes]] = {node_identity().stix_id: public_keys()}
    for node_id, kid, text in PeerKey.objects.values_list("peer__node_id", "key_id", "public_key"):
        out.setdefault(node_id, {})[kid] = keys.public_from_b64(text)
    return out
