"""The optional TOTP second factor: enrolment from the account page, the two-step login, turning it off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from kizuna.core.models import AuditEntry
from tests.web.helpers import audit_page, totp_code

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def _enrol(client: Client, user: Any) -> TOTPDevice:
    assert client.post("/account/two-step/enrol/").status_code == 302
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.get("/account/")
    body = page.content.decode()
    assert "otpauth://totp/" in body
    assert "<svg" in body  # the QR code, drawn on the server
    assert not audit_page(body).violations
    response = client.post("/account/two-step/confirm/", {"code": totp_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_enrolment_needs_a_correct_code_before_the_device_counts(signed_in: Client, jpn_user: Any) -> None:
    signed_in.post("/account/two-step/enrol/")
    response = signed_in.post("/account/two-step/confirm/", {"code": "000000"})
    assert response.status_code == 400
    assert "not correct" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=jpn_user, confirmed=True).exists()


def test_enrolment_rejects_a_code_that_is_not_six_digits(signed_in: Client, jpn_user: Any) -> None:
    signed_in.post("/account/two-step/enrol/")
    response = signed_in.post("/account/two-step/confirm/", {"code": "12ab"})
    assert response.status_code == 400
    assert "six digits" in response.content.decode()


def test_user_with_totp_must_give_a_code_after_the_password(client: Client, jpn_user: Any) -> None:
    client.force_login(jpn_user)
    device = _enrol(client, jpn_user)
    assert AuditEntry.objects.filter(action="otp.enrol", actor="hanako").exists()
    client.post("/logout/")

    response = client.post("/login/", {"username": "hanako", "password": PASSWORD, "next": "/account/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/verify/"
    # The password alone does not sign in: every page still sends the user to the login page.
    assert "_auth_user_id" not in client.session
    assert client.get("/account/")["Location"].startswith("/login/")

    wrong = client.post("/login/verify/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "_auth_user_id" not in client.session

    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's own back-off after the wrong code above
    device.throttling_failure_timestamp = None
    device.save()
    # One step later than the enrolment code: django-otp refuses a code that was used already.
    response = client.post("/login/verify/", {"code": totp_code(device, offset_steps=1)})
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.session["_auth_user_id"] == str(jpn_user.pk)
    assert client.get("/account/").status_code == 200
    success = AuditEntry.objects.filter(action="login.success", actor="hanako").last()
    assert success is not None and success.detail["second_factor"] == "totp"


def test_verify_step_without_a_password_step_goes_back_to_login(client: Client, jpn_user: Any) -> None:
    response = client.post("/login/verify/", {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_turning_totp_off_needs_a_current_code(client: Client, jpn_user: Any) -> None:
    client.force_login(jpn_user)
    device = _enrol(client, jpn_user)
    assert client.post("/account/two-step/disable/", {"code": "000000"}).status_code == 400
    assert TOTPDevice.objects.filter(user=jpn_user).exists()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    response = client.post("/account/two-step/disable/", {"code": totp_code(device, offset_steps=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=jpn_user).exists()
    client.post("/logout/")
    # Back to one step.
    assert client.post("/login/", {"username": "hanako", "password": PASSWORD})["Location"] == "/"
