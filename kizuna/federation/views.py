"""The peer administration pages (issue 4), for users with the admin role only: this node's identity for other
nodes' administrators to copy, each peer's sync status per collection, "test connection" and "sync now", adding a
peer (with its first token, shown once), its keys, and its quarantine.

Anyone else gets 404, like anything they may not see. Every change goes through ``kizuna.federation.peers``, which
audits it. A quarantined object's content is never read here (the query leaves the column out): its label may not
be the administrator's to read.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kizuna.core.errors import ServiceError
from kizuna.core.paging import decode_cursor, encode_cursor
from kizuna.directory.models import Role, User
from kizuna.federation import cards, peers, sync, tasks
from kizuna.federation.client import EVERYTHING, PeerError
from kizuna.federation.forms import CardForm, KeyForm, PeerForm, split_codes
from kizuna.federation.models import Peer, QuarantinedObject, SyncCursor
from kizuna.federation.services import active_key, node_identity
from kizuna.jobs import queue

log = logging.getLogger(__name__)

QUARANTINE_PAGE = 50
# What the quarantine list reads: everything but ``data``, the object as received.
_QUARANTINE_FIELDS = ("id", "received_at", "stix_id", "stix_type", "modified", "claimed_node", "verdict", "reason")


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_active or user.role != Role.ADMIN:
        raise Http404("not found")  # a page a user may not see does not exist for them
    return user


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _admin(request)
        return view(request, *args, **kwargs)

    return wrapper


def _peer(name: str) -> Peer:
    try:
        return peers.get_peer(name)
    except ServiceError:
        raise Http404("not found") from None


def is_syncing(peer: Peer) -> bool:
    """A sync of the peer is waiting or running: a "sync now" job in the queue, or any sync holding its lease."""
    return tasks.pending_sync_now(peer.pk) or sync.is_running(peer)


def wait_for_sync(peer: Peer, timeout: float) -> bool:
    """Wait for the "sync now" jobs of the peer to end, running them here when no worker has (tests, the command
    line); False on timeout."""
    return all(queue.wait(task_id, timeout) for task_id in tasks.sync_now_jobs(peer.pk))


def _lag(last_success: datetime | None, now: datetime) -> str:
    if last_success is None:
        return "—"
    seconds = (now - last_success).total_seconds()
    if seconds < 60:
        return _("%(seconds)d s") % {"seconds": max(0, int(seconds))}
    return timesince(last_success, now, depth=2)


def _collection_title(collection: str) -> str:
    return _("everything") if collection == EVERYTHING else collection


def _status_rows(peer: Peer, cursors: list[SyncCursor], now: datetime) -> list[dict[str, Any]]:
    """One row per configured collection (those never pulled included) and per cursor left from earlier ones."""
    by_collection = {c.collection: c for c in cursors}
    wanted = [str(c) for c in peer.collections or [EVERYTHING]]
    names = wanted + [c for c in by_collection if c not in wanted]
    rows = []
    for name in names:
        cursor = by_collection.get(name)
        stale = False
        if cursor is not None and cursor.last_success is not None and peer.taxii_url and peer.enabled:
            stale = (now - cursor.last_success).total_seconds() > 2 * peer.interval + 60
        rows.append({
            "collection": name, "title": _collection_title(name), "cursor": cursor,
            "lag": _lag(cursor.last_success if cursor else None, now), "stale": stale,
            "failing": cursor is not None and cursor.errors > 0, "configured": name in wanted,
        })
    return rows


def _identity_context() -> dict[str, Any]:
    return {"node": node_identity(), "key": active_key()}


@never_cache
@require_GET
@admin_only
def index(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    peer_list = list(Peer.objects.select_related("organisation").annotate(quarantine_count=Count("quarantine")))
    cursors: dict[int, list[SyncCursor]] = {}
    for cursor in SyncCursor.objects.filter(peer__in=peer_list).order_by("collection"):
        cursors.setdefault(cursor.peer_id, []).append(cursor)
    rows = [{"peer": p, "collections": _status_rows(p, cursors.get(p.pk, []), now), "syncing": is_syncing(p)}
            for p in peer_list]
    return render(request, "federation/index.html", {**_identity_context(), "rows": rows, "now": now})


def _add_service_error(form: PeerForm, exc: ServiceError) -> None:
    form.add_error(form.field_for(exc.field), exc.message)


def _slug(name: str) -> str:
    """A peer name suggested from a node's name: lower-case letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].strip("-")


def _from_card(request: HttpRequest) -> tuple[PeerForm, CardForm]:
    """The new-peer form filled from the node card uploaded or pasted (or the card form with its error)."""
    card_form = CardForm(request.POST, request.FILES)
    form = PeerForm()
    if card_form.is_valid():
        try:
            card = card_form.card()
        except ServiceError as exc:
            card_form.add_error(None, exc.message)
        else:
            form = PeerForm(initial={
                "name": _slug(card.name), "node_id": card.node_id, "title": card.name,
                "public_key": card.public_keys[0] if card.public_keys else "", "taxii_url": card.taxii_url,
                "nations": card.nation, "interval": 300})
            messages.info(request, _("Filled in from the node card of %(name)s. Check the entitlements, then add "
                                     "the peer.") % {"name": card.name or card.node_id})
    return form, card_form


def _test_form(request: HttpRequest, form: PeerForm) -> None:
    """"Test connection" before the peer exists: the TAXII URL and credential as typed, nothing saved."""
    url, credential = form.data.get("taxii_url", "").strip(), form.data.get("credential", "").strip()
    if not url:
        messages.error(request, _("Give the peer's TAXII URL to test the connection."))
        return
    try:
        summary = sync.test_connection(Peer(name="new", taxii_url=peers.check_url(url), credential=credential))
    except (PeerError, ServiceError) as exc:
        messages.error(request, _("Test failed: %(error)s") % {"error": exc})
    else:
        messages.success(request, _("Test: %(summary)s") % {"summary": summary})


@never_cache
@require_http_methods(["GET", "POST"])
@admin_only
def peer_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    action = request.POST.get("action", "add") if request.method == "POST" else ""
    card_form = CardForm()
    if action == "card":
        form, card_form = _from_card(request)
        status = 200 if not card_form.errors else 400
        return render(request, "federation/peer_form.html",
                      {"form": form, "card_form": card_form, **_identity_context()}, status=status)
    form = PeerForm(request.POST or None)
    if action == "test":
        _test_form(request, form)
        return render(request, "federation/peer_form.html",
                      {"form": form, "card_form": card_form, **_identity_context()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # One transaction: a peer is never left without the token its administrator was to be given.
            with transaction.atomic():
                peer = peers.add_peer(
                    data["name"], data["node_id"], nations=split_codes(data["nations"]),
                    clearances=form.clearances(), communities=list(data["communities"]),
                    public_keys=[data["public_key"]] if data["public_key"].strip() else [],
                    taxii_url=data["taxii_url"], credential=data["credential"], title=data["title"],
                    interval=int(data["interval"]), actor=user.username,
                )
                secret = peers.peer_token(peer, actor=user.username)
        except ServiceError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, _("Peer %(name)s is added.") % {"name": peer.name})
            # Rendered, not redirected: the token is shown this once and stored nowhere but as its digest.
            return _render_peer(request, peer, new_secret=secret)
    status = 400 if request.method == "POST" else 200
    return render(request, "federation/peer_form.html", {"form": form, "card_form": card_form,
                                                         **_identity_context()}, status=status)


@never_cache
@require_GET
@admin_only
def node_card(request: HttpRequest) -> HttpResponse:
    """This node's card as a file, with its TAXII URL as this request reached the node."""
    card = cards.this_node(request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(json.dumps(card, indent=2) + "\n", content_type="application/json")
    name = _slug(str(card["name"])) or "node"
    response["Content-Disposition"] = f'attachment; filename="{name}.kizuna-node.json"'
    return response


def _quarantine_page(peer: Peer, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, keyset paged over (received_at, id); ``data`` is never selected."""
    qs = QuarantinedObject.objects.filter(peer=peer).order_by("-received_at", "-id")
    if cursor:
        try:
            at, pk = decode_cursor(cursor)
        except ServiceError:
            raise Http404("not found") from None
        qs = qs.filter(Q(received_at__lte=at), Q(received_at__lt=at) | Q(id__lt=pk))
    rows = list(qs.values(*_QUARANTINE_FIELDS)[: QUARANTINE_PAGE + 1])
    more = len(rows) > QUARANTINE_PAGE
    rows = rows[:QUARANTINE_PAGE]
    return rows, encode_cursor(rows[-1]["received_at"], rows[-1]["id"]) if more and rows else None


def _render_peer(request: HttpRequest, peer: Peer, status: int = 200, **extra: Any) -> HttpResponse:
    now = timezone.now()
    cursor = request.GET.get("after") if request.method == "GET" else None
    quarantine, next_cursor = _quarantine_page(peer, cursor)
    context: dict[str, Any] = {
        "peer": peer, "keys": list(peer.keys.all()), "collections": _status_rows(peer, list(peer.cursors.all()), now),
        "quarantine": quarantine, "quarantine_total": peer.quarantine.count(), "next_cursor": next_cursor,
        "first_page": bool(cursor), "syncing": is_syncing(peer), "key_form": KeyForm(),
        "account": peer.account,
    }
    context.update(extra)
    return render(request, "federation/peer_detail.html", context, status=status)


@never_cache
@require_GET
@admin_only
def peer_detail(request: HttpRequest, name: str) -> HttpResponse:
    return _render_peer(request, _peer(name))


def _back(request: HttpRequest, peer: Peer) -> HttpResponse:
    """Back to the page the button was on: the peer's own page or the list."""
    if request.POST.get("from") == "peer":
        return redirect("federation:peer", name=peer.name)
    return redirect(reverse("federation:index") + f"#peer-{peer.name}")


@require_POST
@admin_only
def peer_test(request: HttpRequest, name: str) -> HttpResponse:
    peer = _peer(name)
    try:
        summary = sync.test_connection(peer)
    except PeerError as exc:
        messages.error(request, _("Test of %(name)s failed: %(error)s") % {"name": peer.name, "error": exc})
    else:
        messages.success(request, _("Test of %(name)s: %(summary)s") % {"name": peer.name, "summary": summary})
    return _back(request, peer)


@require_POST
@admin_only
def peer_sync(request: HttpRequest, name: str) -> HttpResponse:
    peer = _peer(name)
    if not peer.taxii_url:
        messages.error(request, _("Peer %(name)s has no TAXII URL: nothing is pulled from it.") % {"name": peer.name})
        return _back(request, peer)
    with transaction.atomic():
        busy = is_syncing(peer)
        if not busy:
            queue.enqueue(tasks.sync_peer_now, peer.pk)
    if busy:
        messages.warning(request, _("A sync of %(name)s is already running.") % {"name": peer.name})
    else:
        messages.success(request, _("Sync of %(name)s started. Reload this page to see its progress.")
                         % {"name": peer.name})
    return _back(request, peer)


@require_POST
@admin_only
def peer_enabled(request: HttpRequest, name: str) -> HttpResponse:
    user = _admin(request)
    peer = _peer(name)
    enabled = request.POST.get("enabled") == "1"
    try:
        peers.update_peer(peer, enabled=enabled, actor=user.username)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, (_("Peer %(name)s is enabled.") if enabled else _("Peer %(name)s is disabled."))
                         % {"name": peer.name})
    return _back(request, peer)


@never_cache
@require_POST
@admin_only
def peer_add_key(request: HttpRequest, name: str) -> HttpResponse:
    user = _admin(request)
    peer = _peer(name)
    form = KeyForm(request.POST)
    if form.is_valid():
        try:
            key = peers.add_key(peer, form.cleaned_data["public_key"], actor=user.username)
        except ServiceError as exc:
            form.add_error("public_key" if exc.field == "public_key" else None, exc.message)
        else:
            messages.success(request, _("Key %(key)s of %(name)s is trusted.") % {"key": key.key_id, "name": peer.name})
            return redirect("federation:peer", name=peer.name)
    return _render_peer(request, peer, status=400, key_form=form)


@never_cache
@require_POST
@admin_only
def peer_new_token(request: HttpRequest, name: str) -> HttpResponse:
    user = _admin(request)
    peer = _peer(name)
    if not peer.enabled:  # its account is inactive: a token would be refused on every use
        messages.error(request, _("Peer %(name)s is disabled: enable it before giving it a new token.")
                       % {"name": peer.name})
        return redirect("federation:peer", name=peer.name)
    try:
        secret = peers.peer_token(peer, actor=user.username)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("federation:peer", name=peer.name)
    return _render_peer(request, peer, new_secret=secret)
