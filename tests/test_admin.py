"""Directory administration at /admin/: admins only, banners on its pages, and no labelled content in it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.test import Client

from kizuna.core.models import Labelled


def test_admin_role_opens_directory_administration_with_banners(make_user: Any, client: Client) -> None:
    boss = make_user("boss", "BEL", "NATO-IS", role="admin")
    client.force_login(boss)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="banner-top"' in html and 'data-testid="banner-bottom"' in html
    assert client.get("/admin/directory/nationgroup/add/").status_code == 200


def test_contributor_is_sent_to_login_by_admin(jpn_user: Any, client: Client) -> None:
    client.force_login(jpn_user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_no_labelled_model_is_registered_in_admin() -> None:
    registered = [model for model in admin.site._registry if issubclass(model, Labelled)]
    assert registered == []
