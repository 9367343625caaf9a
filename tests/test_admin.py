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


def test_signed_in_contributor_gets_404_from_admin_not_a_login_loop(jpn_user: Any, client: Client) -> None:
    client.force_login(jpn_user)
    for path in ("/admin/", "/admin/login/?next=/admin/", "/admin/directory/user/", "/admin/nothing-here/"):
        response = client.get(path)
        assert response.status_code == 404, path
    assert client.get("/admin/", follow=True).redirect_chain == []


def test_anonymous_visitor_is_sent_to_the_node_login_by_admin(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/admin/")


def test_no_labelled_model_is_registered_in_admin() -> None:
    registered = [model for model in admin.site._registry if issubclass(model, Labelled)]
    assert registered == []
