"""The label picker: a form field and widget that produce a ``kizuna.labels.Label``, and the plain-words account of
who will be able to see an item with a given label (shown before saving, and on every detail page).

The picker posts plain fields (``<name>_classification``, ``<name>_releasable_to`` ..., ``<name>_preset``) so it works
without JavaScript: a preset other than "custom" is expanded on the server and replaces the releasability choices.
``labelpicker.js`` only fills the fields when a preset is clicked; htmx asks ``/reports/label-preview/`` for the
preview whenever the picker changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.access import check_label, label_display, may_subject_see, registry
from kizuna.directory import disclosure
from kizuna.directory.models import Nation, NationGroup, Organisation, User
from kizuna.directory.subjects import subject_for
from kizuna.labels import TLP, Label, LabelError, Policy
from kizuna.web.banner import chip_class

DEFAULT_POLICY = "NATO"
RELEASABLE = "releasable_to"
COMMUNITIES = "communities"
CUSTOM = "custom"

# TLP 2.0 (FIRST) in one line each. In Kizuna only RED changes who can see an item; the others say what a reader
# may do with it afterwards.
TLP_MEANINGS: dict[str, Promise] = {
    TLP.CLEAR.value: _("No limit: recipients may share it with anyone, including the public."),
    TLP.GREEN.value: _("Recipients may share it within their community, but not publicly."),
    TLP.AMBER.value: _("Recipients may share it within their organisation and with its clients who need to know."),
    TLP.AMBER_STRICT.value: _(
        "Only the recipient's own organisation may pass it on: not to clients, partners or anyone outside it."
    ),
    TLP.RED.value: _("Only the named recipients may see it, and they may not pass it on."),
}


@dataclass(frozen=True)
class Preset:
    key: str
    title: Promise | str
    releasable_to: tuple[str, ...]


def presets_for(user: User | None) -> list[Preset]:
    """The one-click choices of releasability; "my nation only" needs a nationality."""
    items = [
        Preset("nato_ip4", _("NATO + IP4 (all partners)"), ("IP4", "NATO")),
        Preset("nato", _("NATO only"), ("NATO",)),
        Preset("ip4", _("IP4 only"), ("IP4",)),
    ]
    if user is not None and user.nation_id:
        items.append(Preset("own_nation", format_lazy(_("My nation only ({})"), user.nation_id), (user.nation_id,)))
    return items


@dataclass
class LabelChoice:
    """What the picker posted, before it becomes a Label; kept as posted so a form with errors shows it again."""

    policy: str = DEFAULT_POLICY
    classification: str = ""
    releasable_to: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    tlp: str = TLP.AMBER.value
    recipients: str = ""
    preset: str = CUSTOM

    @classmethod
    def from_label(cls, label: Label) -> LabelChoice:
        return cls(
            policy=label.policy,
            classification=label.classification,
            releasable_to=list(label.category(RELEASABLE)),
            communities=list(label.category(COMMUNITIES)),
            tlp=label.tlp.value,
            recipients=", ".join(label.recipients),
        )

    def expanded(self, user: User | None) -> LabelChoice:
        """Apply the preset, if one was chosen: it replaces the releasability choices."""
        preset = next((p for p in presets_for(user) if p.key == self.preset), None)
        if preset is None:
            return self
        return LabelChoice(self.policy, self.classification, list(preset.releasable_to), list(self.communities),
                           self.tlp, self.recipients, self.preset)


_LIST_GROUP_UP_TO = 8
_PRINCIPAL = re.compile(r"^(user|org):[\w.@+\-]{1,150}$")


def parse_recipients(text: str) -> list[str]:
    """``user:NAME`` or ``org:CODE``, separated by commas or spaces; a bare name means a user."""
    result: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        if not raw:
            continue
        principal = raw if ":" in raw else f"user:{raw}"
        if not _PRINCIPAL.match(principal):
            raise LabelError(gettext("%(value)s is not a recipient; write user:NAME or org:CODE") % {"value": raw})
        kind, name = principal.split(":", 1)
        # Who is in the directory is shared (kizuna/directory/disclosure.py): naming an unknown person is no oracle.
        exists = (disclosure.people().filter(username=name) if kind == "user"
                  else Organisation.objects.filter(code=name)).exists()
        if not exists:
            raise LabelError(gettext("there is no %(kind)s %(name)s") % {
                "kind": gettext("user") if kind == "user" else gettext("organisation"), "name": name})
        result.append(principal)
    return result


def choice_to_label(choice: LabelChoice, user: User | None) -> Label:
    """Build and check the label (policy, values, node maximum); LabelError carries a message for the user."""
    choice = choice.expanded(user)
    policy = registry().get(choice.policy)
    if policy is None:
        raise LabelError(gettext("unknown policy %(policy)s") % {"policy": choice.policy})
    if not choice.classification:
        raise LabelError(gettext("choose a classification"))
    tlp = choice.tlp or TLP.AMBER.value
    recipients = parse_recipients(choice.recipients)
    if tlp == TLP.RED.value and not recipients:
        raise LabelError(gettext("TLP:RED needs at least one named recipient"))
    if tlp != TLP.RED.value and recipients:
        raise LabelError(gettext("recipients are only used with TLP:RED; clear them or choose TLP:RED"))
    label = Label.build(choice.policy, choice.classification,
                        {RELEASABLE: choice.releasable_to, COMMUNITIES: choice.communities}, tlp, recipients)
    check_label(label)
    return label


def allowed_classifications(policy: Policy) -> list[tuple[str, str]]:
    """The policy's levels up to the node's maximum (items above it are refused anyway)."""
    maximum = settings.KIZUNA_MAX_CLASSIFICATION.get(policy.identifier)
    top = policy.rank(maximum) if maximum and policy.has_classification(maximum) else -1
    return [(c.name, c.display) for i, c in enumerate(policy.classifications) if i <= top]


def _nation_names(codes: list[str]) -> dict[str, str]:
    return {n.code: n.localised_name for n in Nation.objects.filter(code__in=codes)}


@dataclass
class Audience:
    """Who can see an item with a label, in plain words."""

    text: str
    includes_user: bool
    nations: list[str]
    error: str = ""
    # Named TLP:RED recipients as the author may know them (directory.disclosure): who cannot see it, and whose
    # clearance and communities the author may not learn.
    recipients_left_out: list[str] = field(default_factory=list)
    recipients_undisclosed: list[str] = field(default_factory=list)


def describe(label: Label, user: User | None, add_own_organisation: bool = True) -> Audience:
    """"Visible to people of Japan, Republic of Korea, if they are cleared to NATO UNCLASSIFIED or higher and belong to
    CYBER." plus whether ``user`` is included. Before saving (``add_own_organisation``), a TLP:RED label is described
    as the service will save it: with the author's organisation added as a recipient."""
    reg = registry()
    policy = reg.require(label.policy)
    rel = list(label.category(RELEASABLE))
    groups = {g.code: g for g in NationGroup.objects.filter(code__in=rel).prefetch_related("members")}
    codes = {c for c in rel if c not in groups}
    for group in groups.values():
        codes.update(m.code for m in group.members.all())
    names = _nation_names(sorted(codes))
    nations = sorted((names.get(c, c) for c in codes), key=str.casefold)
    # Large groups are named with their size rather than listed (32 names hide the point); small ones are listed.
    # Lists go through the "list separator" message so Japanese gets 、 rather than ", ".
    comma = pgettext("list separator", ", ")
    phrases: list[str] = []
    covered: set[str] = set()
    for code in sorted(groups):
        members = sorted(m.code for m in groups[code].members.all())
        covered.update(members)
        if len(members) > _LIST_GROUP_UP_TO:
            phrases.append(gettext("all %(count)d %(group)s nations") % {"count": len(members), "group": code})
        else:
            listed = comma.join(sorted((names.get(m, m) for m in members), key=str.casefold))
            phrases.append(gettext("the %(group)s nations (%(names)s)") % {"group": code, "names": listed})
    phrases.extend(sorted((names.get(c, c) for c in codes - covered if c not in groups), key=str.casefold))
    # Each sentence form is one message, so a translator can order and punctuate it as a whole.
    values = {"nations": comma.join(phrases), "level": policy.classification(label.classification).display,
              "communities": gettext(" and ").join(label.category(COMMUNITIES))}
    if rel and values["communities"]:
        text = gettext("Visible to people of %(nations)s, if they are cleared to %(level)s or higher and belong to "
                       "%(communities)s.") % values
    elif rel:
        text = gettext("Visible to people of %(nations)s, if they are cleared to %(level)s or higher.") % values
    elif values["communities"]:
        text = gettext("Visible to people of any nation, if they are cleared to %(level)s or higher and belong to "
                       "%(communities)s.") % values
    else:
        text = gettext("Visible to people of any nation, if they are cleared to %(level)s or higher.") % values
    sentences = [text]
    effective = label
    if label.tlp is TLP.RED:
        if add_own_organisation and user is not None and user.organisation is not None:
            effective = label.with_recipient(f"org:{user.organisation.code}")
        sentences.append(gettext("Only these recipients among them: %(recipients)s.") % {
            "recipients": comma.join(effective.recipients)})
    sentences.append(str(TLP_MEANINGS[label.tlp.value]))
    # Sentences follow one another with a space in English and none in Japanese.
    text = sentences[0]
    for sentence in sentences[1:]:
        text = pgettext("one sentence after another", "%(first)s %(next)s") % {"first": text, "next": sentence}
    included = user is not None and may_subject_see(subject_for(user), effective)
    left_out, undisclosed = _named_recipients(effective, user)
    return Audience(text=text, includes_user=included, nations=nations, recipients_left_out=left_out,
                    recipients_undisclosed=undisclosed)


def _named_recipients(label: Label, viewer: User | None) -> tuple[list[str], list[str]]:
    """The ``user:`` recipients of a TLP:RED label who may not see it, and those whose access depends on what
    ``viewer`` may not learn. Answered only within the directory's rule, so the preview is no clearance oracle."""
    if label.tlp is not TLP.RED:
        return [], []
    names = sorted(r.split(":", 1)[1] for r in label.recipients if r.startswith("user:"))
    left_out: list[str] = []
    undisclosed: list[str] = []
    for person in disclosure.people().filter(username__in=names).order_by("username"):
        access = disclosure.access_as_known_to(viewer, person, label)
        if access is disclosure.Access.NO:
            left_out.append(person.username)
        elif access is disclosure.Access.UNDISCLOSED and (viewer is None or person.pk != viewer.pk):
            undisclosed.append(person.username)
    return left_out, undisclosed


def preview_for(choice: LabelChoice, user: User | None) -> dict[str, Any]:
    """Template context for the preview fragment: the display string and the audience, or the reason it is invalid."""
    try:
        label = choice_to_label(choice, user)
    except LabelError as exc:
        return {"error": str(exc)}
    return {"display": label_display(label), "chip": chip_class(label.policy, label.classification),
            "audience": describe(label, user)}


class LabelPickerWidget(forms.Widget):
    """Renders presets, classification, releasable-to, communities, TLP and recipients, and the preview."""

    template_name = "web/label_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.user: User | None = None

    def value_from_datadict(self, data: Any, files: Any, name: str) -> LabelChoice:
        def many(key: str) -> list[str]:
            getlist = getattr(data, "getlist", None)
            values = getlist(key) if getlist else data.get(key, [])
            return [str(v) for v in (values if isinstance(values, list) else [values]) if v]

        return LabelChoice(
            policy=str(data.get(f"{name}_policy") or DEFAULT_POLICY),
            classification=str(data.get(f"{name}_classification") or ""),
            releasable_to=many(f"{name}_releasable_to"),
            communities=many(f"{name}_communities"),
            tlp=str(data.get(f"{name}_tlp") or TLP.AMBER.value),
            recipients=str(data.get(f"{name}_recipients") or "")[:2000],
            preset=str(data.get(f"{name}_preset") or CUSTOM),
        )

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, None, attrs)
        if isinstance(value, Label):
            choice = LabelChoice.from_label(value)
        elif isinstance(value, LabelChoice):
            choice = value
        else:
            choice = default_choice(self.user)
        policy = registry().get(choice.policy) or registry().require(DEFAULT_POLICY)
        rel_values = policy.categories[RELEASABLE].values if RELEASABLE in policy.categories else ()
        names = _nation_names(list(rel_values))
        group_names = {g.code: g.localised_name for g in NationGroup.objects.filter(code__in=rel_values)}
        partners = set(Nation.objects.filter(is_partner=True).values_list("code", flat=True))
        expanded = choice.expanded(self.user)

        def option(code: str) -> dict[str, Any]:
            return {"code": code, "name": group_names.get(code) or names.get(code, code),
                    "checked": code in expanded.releasable_to}

        groups = [option(c) for c in rel_values if c in group_names or c in ("NATO", "IP4")]
        nation_opts = [option(c) for c in rel_values if c not in group_names and c not in ("NATO", "IP4")]
        presets = [{"key": p.key, "title": p.title, "releasable": " ".join(p.releasable_to),
                    "checked": p.key == choice.preset} for p in presets_for(self.user)]
        context["picker"] = {
            "name": name,
            "policy": policy.identifier,
            "presets": presets,
            "custom_checked": not any(p["checked"] for p in presets),
            "classifications": [{"value": v, "display": d, "selected": v == choice.classification}
                                for v, d in allowed_classifications(policy)],
            "groups": groups,
            "partners": sorted((o for o in nation_opts if o["code"] in partners), key=lambda o: str(o["name"])),
            "members": sorted((o for o in nation_opts if o["code"] not in partners), key=lambda o: str(o["name"])),
            "communities": [{"code": c, "checked": c in choice.communities}
                            for c in (policy.categories[COMMUNITIES].values if COMMUNITIES in policy.categories else ())],
            "tlps": [{"value": t.value, "meaning": TLP_MEANINGS[t.value], "checked": t.value == choice.tlp} for t in TLP],
            "recipients": choice.recipients,
            "preview": preview_for(choice, self.user),
        }
        return context


def default_choice(user: User | None) -> LabelChoice:
    """A new item starts at the lowest classification, releasable to the author's own nation, TLP:AMBER."""
    policy = registry().require(DEFAULT_POLICY)
    own = [user.nation_id] if user is not None and user.nation_id else []
    return LabelChoice(policy=policy.identifier, classification=policy.lowest.name, releasable_to=own)


class LabelPickerField(forms.Field):
    """A form field whose cleaned value is a ``Label``. Call ``set_user`` so presets and the preview know the author."""

    widget = LabelPickerWidget
    default_error_messages = {"invalid": _("This label cannot be used: %(reason)s")}

    def __init__(self, *, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.user = user
        self._sync_widget()

    def set_user(self, user: User | None) -> None:
        self.user = user
        self._sync_widget()

    def _sync_widget(self) -> None:
        if isinstance(self.widget, LabelPickerWidget):
            self.widget.user = self.user

    def __deepcopy__(self, memo: dict[int, Any]) -> LabelPickerField:
        result = super().__deepcopy__(memo)
        assert isinstance(result, LabelPickerField)
        result._sync_widget()
        return result

    def to_python(self, value: Any) -> Label | None:
        if value is None or isinstance(value, Label):
            return value
        if not isinstance(value, LabelChoice):
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"reason": "?"})
        try:
            return choice_to_label(value, self.user)
        except LabelError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params={"reason": str(exc)}) from None

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial if isinstance(initial, Label) else None)
        except ValidationError:
            return True


__all__ = [
    "TLP_MEANINGS",
    "Audience",
    "LabelChoice",
    "LabelPickerField",
    "LabelPickerWidget",
    "Preset",
    "choice_to_label",
    "default_choice",
    "describe",
    "parse_recipients",
    "presets_for",
    "preview_for",
]

