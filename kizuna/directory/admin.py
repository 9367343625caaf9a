"""Node administration of the directory (Django admin at /admin/, for users with the admin role).

Only the directory is registered here: labelled content never appears in the admin, because the admin would read
it without going through visible_to (no superuser bypass of labels).

Who may see what is edited with proper fields, never as raw JSON: one clearance choice per security policy the node
loads (its classifications, from the policy file, or "not cleared"), the communities as checkboxes (the values of the
policies' community categories), and a language and a time zone from lists. The form accepts nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kizuna.core.access import registry
from kizuna.directory.choices import language_choices, timezone_choices
from kizuna.directory.models import ApiToken, LoginFailure, Nation, NationGroup, Organisation, User

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldsetSpec

CLEARANCE_PREFIX = "clearance__"


def _clearance_field(policy_id: str) -> str:
    return f"{CLEARANCE_PREFIX}{policy_id}"


def _community_choices() -> list[tuple[str, str]]:
    return [(value, value) for value in registry().community_values()]


class UserAdminForm(UserChangeForm):  # type: ignore[type-arg]
    """The user page's form. ``user_admin_form()`` adds one clearance field per policy; ``clean`` turns them into
    the ``clearances`` mapping (``{"NATO": "RESTRICTED"}``) that ``directory.subjects`` reads."""

    communities = forms.MultipleChoiceField(label=_("Communities"), choices=_community_choices, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language"), choices=language_choices)
    timezone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        held = self.instance.clearances if isinstance(self.instance.clearances, dict) else {}
        for policy in registry():
            name = _clearance_field(policy.identifier)
            if name in self.fields and not self.is_bound:
                self.fields[name].initial = held.get(policy.identifier, "")

    def clean_communities(self) -> list[str]:
        return sorted(set(self.cleaned_data.get("communities") or []))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        clearances: dict[str, str] = {}
        for policy in registry():
            level = cleaned.get(_clearance_field(policy.identifier))
            if level:
                clearances[policy.identifier] = str(level)
        self.instance.clearances = clearances
        return cleaned


def user_admin_form() -> type[UserAdminForm]:
    """The form class with a clearance field per policy the node loads now (declared fields, as the admin's fieldsets
    need them)."""
    fields: dict[str, forms.Field] = {}
    for policy in registry():
        fields[_clearance_field(policy.identifier)] = forms.ChoiceField(
            label=_("Clearance (%(policy)s)") % {"policy": policy.name},
            choices=[("", _("not cleared")), *((level.name, level.display) for level in policy.classifications)],
            required=False,
            help_text=_("The highest classification of this policy the person may see."),
        )
    return type("UserAdminForm", (UserAdminForm,), fields)


@admin.register(Nation)
class NationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "is_nato_member", "is_partner", "capital_timezone")
    list_filter = ("is_nato_member", "is_partner")
    search_fields = ("code", "name")


@admin.register(NationGroup)
class NationGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name")
    filter_horizontal = ("members",)
    search_fields = ("code", "name")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "names", "nation", "is_nato_body")
    list_filter = ("is_nato_body", "nation")
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "nation", "organisation", "role", "is_active", "last_login")
    list_filter = ("role", "nation", "is_active")
    form = UserAdminForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:  # the change page; adding a user asks only for a username and a password first
            kwargs["form"] = user_admin_form()
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> _FieldsetSpec:
        if obj is None:
            return super().get_fieldsets(request, obj)
        clearances = tuple(_clearance_field(policy.identifier) for policy in registry())
        return (
            *(BaseUserAdmin.fieldsets or ()),
            (_("Nation and role"), {"fields": ("nation", "organisation", "role")}),
            (_("Who may see what"), {"fields": (*clearances, "communities")}),
            (_("Preferences"), {"fields": ("language", "timezone")}),
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are created by their owner (account page) or `kizuna token create`


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("username", "address", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
