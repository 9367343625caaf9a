"""The one inbox page (every module's notifications, or one module's), mark read / mark all read, the page of one
digest, and the e-mail choice of the account page.

Each entry is shown only while its record is visible to the reader (``queries.inbox`` asks the record's module);
the page's banner and chips carry the labels of the records shown. The older per-module addresses
(``/consultations/inbox/``, ``/threats/inbox/``) are this page limited to their module.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kizuna.core import audit
from kizuna.core.access import label_display, label_of
from kizuna.core.errors import ServiceError
from kizuna.notifications import digests, queries, registry, services
from kizuna.notifications.models import EmailMode, Notification
from kizuna.notifications.registry import Entry
from kizuna.web.banner import chip_class, note_labels
from kizuna.web.shortcuts import signed_in_user

INBOX_LIMIT = queries.INBOX_LIMIT


def _module(request: HttpRequest, module: str | None) -> str | None:
    """The module the page is limited to: fixed by the address, or chosen with ``?module=``; an unknown one is a 404."""
    chosen = module or request.GET.get("module", "") or None
    if chosen is not None and registry.resolver(chosen) is None:
        raise Http404("not found")
    return chosen


def audit_entries(request: HttpRequest, username: str, entries: list[Entry], page: str = "inbox") -> None:
    """One "list" entry per kind of record shown (the notifications, or what the module audits instead); also used by
    the dashboard's panels that show entries."""
    targets: dict[str, list[int]] = defaultdict(list)
    labels: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        target, pk = entry.audit or ("notification", entry.notification.pk)
        targets[target].append(pk)
        if entry.label is not None:
            labels[target].add(entry.label.pk)
    for target, ids in targets.items():
        label_id = next(iter(labels[target])) if len(labels[target]) == 1 else None
        audit.record(username, "list", target, ids, label_id, audit.client_address(request), {"page": page})


@login_required
@require_GET
@never_cache
def inbox_page(request: HttpRequest, module: str | None = None, unread_first: bool = True,
               read_url: str = "notifications:mark_read") -> HttpResponse:
    user = signed_in_user(request)
    chosen = _module(request, module)
    resolvers = registry.modules()
    for name, resolver in resolvers.items():
        # E.g. consultations' reminders of the reader's own due actions: shown without a worker running.
        if resolver.refresh is not None and chosen in (None, name):
            resolver.refresh(user)
    entries = queries.inbox(user, chosen, unread_first=unread_first, limit=INBOX_LIMIT)
    labels = [e.label for e in entries if e.label is not None]
    note_labels(request, *labels)
    if entries:
        audit_entries(request, user.username, entries)
    rows = [{"entry": e,
             "label": label_display(label_of(e.label)) if e.label is not None else "",
             "chip": chip_class(e.label.policy, e.label.classification) if e.label is not None else ""}
            for e in entries]
    tabs = [{"module": "", "name": _("All"), "url": reverse("notifications:inbox"), "current": chosen is None}]
    tabs += [{"module": name, "name": str(resolver.name), "url": reverse("notifications:inbox") + f"?module={name}",
              "current": chosen == name} for name, resolver in resolvers.items()]
    settings = [{"url": reverse(r.settings[0]), "name": str(r.settings[1])} for name, r in resolvers.items()
                if r.settings is not None and chosen in (None, name)]
    return render(request, "notifications/inbox.html", {
        "rows": rows, "settings": settings, "unread": sum(1 for e in entries if e.unread), "limit": INBOX_LIMIT, "tabs": tabs,
        "module": chosen or "", "read_url": reverse(read_url)})


@login_required
@require_POST
def mark_read(request: HttpRequest, module: str | None = None, back: str = "notifications:inbox") -> HttpResponse:
    """Mark one notification read (``id``) or all of them (no ``id``; of one module when the address or ``module``
    names one), then go back to the inbox. Another user's id changes nothing."""
    user = signed_in_user(request)
    chosen = module or request.POST.get("module", "") or None
    raw = request.POST.get("id", "").strip()
    if raw:
        if not raw.isdigit():
            raise Http404("not found")
        services.mark_read(user, [int(raw)])
    elif services.mark_read(user, module=chosen):
        messages.success(request, _("All notifications are marked read."))
    target = reverse(back)
    if module is None and chosen is not None and registry.resolver(chosen) is not None:
        target += f"?module={chosen}"
    return redirect(target)


@login_required
@require_GET
@never_cache
def digest_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One digest of the reader's: the notifications it held that the reader may see now, oldest first. Another
    person's digest, or an id that is no digest, is a 404."""
    user = signed_in_user(request)
    note = Notification.objects.filter(user=user, module=services.DIGEST_MODULE, pk=pk).first()
    if note is None:
        raise Http404("not found")
    held = list(queries.visible(user).filter(pk__in=digests.ids_of(note)).order_by("created_at", "id"))
    entries = queries.entries_of(user, held)
    note_labels(request, *(e.label for e in entries if e.label is not None))
    if entries:
        audit_entries(request, user.username, entries, page="digest")
    services.mark_read(user, [note.pk])
    rows = [{"entry": e,
             "label": label_display(label_of(e.label)) if e.label is not None else "",
             "chip": chip_class(e.label.policy, e.label.classification) if e.label is not None else ""}
            for e in entries]
    return render(request, "notifications/digest.html", {
        "digest": note, "title": services.digest_title(note.kind, len(entries)), "rows": rows})


class EmailModeForm(forms.Form):
    email_mode = forms.ChoiceField(label=gettext_lazy("E-mail"), choices=EmailMode.choices, widget=forms.RadioSelect)


@login_required
@require_POST
def email_settings(request: HttpRequest) -> HttpResponse:
    """Save how notifications of every module reach the reader by e-mail (the account page's section); back to the
    account page."""
    user = signed_in_user(request)
    form = EmailModeForm(request.POST)
    if form.is_valid():
        try:
            services.set_email_mode(user, form.cleaned_data["email_mode"], actor=user.username,
                                    address=audit.client_address(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your email setting is saved."))
    else:
        messages.error(request, _("Choose one of the e-mail settings."))
    return redirect(reverse("web:account") + "#email")
