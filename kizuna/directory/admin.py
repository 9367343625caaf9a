"""Node administration of the directory (Django admin at /admin/, for users with the admin role).

Only the directory is registered here: labelled content never appears in the admin, because the admin would read
it without going through visible_to (no superuser bypass of labels)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from kizuna.directory.models import ApiToken, LoginFailure, Nation, NationGroup, Organisation, User


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
    list_display = ("code", "name", "nation", "is_nato_body")
    list_filter = ("is_nato_body", "nation")
    search_fields = ("code", "name")


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "nation", "organisation", "role", "is_active", "last_login")
    list_filter = ("role", "nation", "is_active")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Kizuna", {"fields": ("nation", "organisation", "role", "clearances", "communities", "language", "timezone")}),
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
