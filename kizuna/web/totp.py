"""The optional TOTP second factor (django-otp): enrolment, confirmation, removal, and the QR code of the
``otpauth://`` URI drawn as SVG on the server (no external service ever sees the secret)."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from kizuna.directory.models import User

DEVICE_NAME = "authenticator"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def unconfirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def start_enrolment(user: User) -> TOTPDevice:
    """A fresh unconfirmed device with a new secret; an earlier unfinished enrolment is discarded."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirm(device: TOTPDevice, code: str) -> bool:
    """Confirm an enrolment with a code from the app; only then does the device guard the login."""
    if not device.verify_is_allowed()[0] or not device.verify_token(code):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def verify(device: TOTPDevice, code: str) -> bool:
    """Check a code against a confirmed device, honouring django-otp's own throttling and replay protection."""
    allowed, _detail = device.verify_is_allowed()
    return bool(allowed) and bool(device.verify_token(code))


def remove(user: User) -> int:
    deleted, _per_model = TOTPDevice.objects.filter(user=user).delete()
    return deleted


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an SVG element (paths and presentation attributes only: no style attribute)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg: str = image.to_string(encoding="unicode")
    return svg
