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


# --- the user page: who may see what, with proper fields (issue 13, point 16) ---------------------------------------

def _change_url(user: Any) -> str:
    return f"/admin/directory/user/{user.pk}/change/"


def _post_data(client: Client, user: Any, **changes: Any) -> dict[str, Any]:
    """The user page's form as the browser would send it unchanged, with ``changes`` applied."""
    form = client.get(_change_url(user)).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if name in ("last_login", "date_joined"):  # split into a date and a time by the admin's widget
            data[f"{name}_0"], data[f"{name}_1"] = (value.date().isoformat(), value.time().isoformat()) if value else ("", "")
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    data.update(changes)
    return data


def test_user_page_offers_a_clearance_per_policy_community_checkboxes_and_language_and_zone_lists(
        make_user: Any, client: Client) -> None:
    boss = make_user("boss", "BEL", "NATO-IS", role="admin")
    person = make_user("kenji", "JPN", "JPN-MOD", clearance="UNCLASSIFIED", communities=["CYBER"])
    client.force_login(boss)
    html = client.get(_change_url(person)).content.decode()
    # No JSON to type: neither the clearances nor the communities appear as a text area.
    assert '<textarea name="clearances"' not in html and '<textarea name="communities"' not in html
    # One clearance per policy, its classifications from the policy file, the person's own selected.
    clearance = html.split('name="clearance__NATO"', 1)[1].split("</select>", 1)[0]
    assert '<option value="UNCLASSIFIED" selected>NATO UNCLASSIFIED</option>' in clearance
    assert '<option value="RESTRICTED">NATO RESTRICTED</option>' in clearance
    assert '<option value="">not cleared</option>' in clearance
    # Communities as checkboxes, the policy's restrictive values only (not its informative caveats).
    for value in ("CYBER", "MARITIME", "HADR", "SPACE", "EDT", "DISINFO", "INDUSTRY"):
        assert f'type="checkbox" name="communities" value="{value}"' in html, value
    assert 'value="CYBER" id="id_communities_0" checked' in html or 'value="CYBER" checked' in html
    assert 'name="communities" value="EXERCISE"' not in html
    assert '<select name="language"' in html and '<option value="ja">日本語</option>' in html
    assert '<select name="timezone"' in html and '<option value="Asia/Tokyo">Asia/Tokyo</option>' in html
    # Headings a person reads, not an app label or a model's default name.
    index = client.get("/admin/").content.decode()
    assert "API tokens" in index and "Api tokens" not in index
    assert "Second factor" in index and "Otp_Totp" not in index and "OTP_TOTP" not in index


def test_user_page_saves_clearance_communities_language_and_zone(make_user: Any, client: Client) -> None:
    from kizuna.directory.models import User

    boss = make_user("boss", "BEL", "NATO-IS", role="admin")
    person = make_user("kenji", "JPN", "JPN-MOD", clearance="UNCLASSIFIED", communities=["CYBER"])
    client.force_login(boss)
    data = _post_data(client, person, clearance__NATO="RESTRICTED", communities=["SPACE", "CYBER"], language="ja",
                      timezone="Asia/Tokyo")
    response = client.post(_change_url(person), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(pk=person.pk)
    assert person.clearances == {"NATO": "RESTRICTED"}
    assert person.communities == ["CYBER", "SPACE"]
    assert (person.language, person.timezone) == ("ja", "Asia/Tokyo")
    # "not cleared" removes the clearance.
    response = client.post(_change_url(person), _post_data(client, person, clearance__NATO=""))
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).clearances == {}


def test_user_page_refuses_a_classification_community_language_or_zone_the_node_does_not_know(
        make_user: Any, client: Client) -> None:
    from kizuna.directory.models import User

    boss = make_user("boss", "BEL", "NATO-IS", role="admin")
    person = make_user("kenji", "JPN", "JPN-MOD", clearance="UNCLASSIFIED", communities=["CYBER"])
    client.force_login(boss)
    data = _post_data(client, person, clearance__NATO="COSMIC TOP SECRET", communities=["CYBER", "EXERCISE"],
                      language="xx", timezone="Mars/Olympus_Mons")
    response = client.post(_change_url(person), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"clearance__NATO", "communities", "language", "timezone"}
    person = User.objects.get(pk=person.pk)
    assert person.clearances == {"NATO": "UNCLASSIFIED"} and person.communities == ["CYBER"]
    assert (person.language, person.timezone) == ("en", "UTC")


def test_every_kizuna_app_runs_its_own_config() -> None:
    """A second AppConfig subclass in an app's apps.py makes Django fall back to a bare AppConfig, and the app's
    ready() (for the directory: nation groups) silently never runs; the admin's TOTP heading once did that."""
    from django.apps import apps

    from kizuna.directory.apps import DirectoryConfig
    from kizuna.directory.totp import TOTPDevicesConfig

    assert type(apps.get_app_config("directory")) is DirectoryConfig
    assert type(apps.get_app_config("otp_totp")) is TOTPDevicesConfig
    for config in apps.get_app_configs():
        if config.name.startswith("kizuna"):
            assert type(config).__module__.startswith("kizuna."), config.name
