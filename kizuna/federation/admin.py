"""Read-only admin pages of the node's identity and public keys (private keys are files, never shown here).
Changes go through ``kizuna node rotate-key``, which keeps the key files and the rows in step."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kizuna.federation.models import NodeIdentity, NodeKey


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(NodeIdentity)
class NodeIdentityAdmin(_ReadOnly):
    list_display = ("stix_id", "name", "serves", "created_at")


@admin.register(NodeKey)
class NodeKeyAdmin(_ReadOnly):
    list_display = ("key_id", "created_at", "retired_at", "public_key")
    list_filter = ("retired_at",)
