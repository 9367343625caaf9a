"""A marking-definition whose Kizuna label extension is not an object is refused with a message in the reader's
language (the threats catalogs), while the error keeps its English text for logs (``args[0]``), as every label error
does (kizuna/labels/messages.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from kizuna.labels import LabelError
from kizuna.threats.markings import KIZUNA_LABEL_EXTENSION_ID, label_from_marking

ENGLISH = "the Kizuna label extension must be an object"


@pytest.mark.parametrize(("language", "shown"), [
    ("en", ENGLISH),
    ("fr", "l'extension de marquage Kizuna doit être un objet"),
    ("ja", "Kizuna ラベル拡張はオブジェクトで指定してください"),
    ("ko", "Kizuna 표지 확장은 객체여야 합니다"),
])
def test_a_label_extension_that_is_not_an_object_is_refused_in_the_readers_language(language: str,
                                                                                    shown: str) -> None:
    marking = {"type": "marking-definition", "id": "marking-definition--00000000-0000-4000-8000-000000000001",
               "extensions": {KIZUNA_LABEL_EXTENSION_ID: "NATO UNCLASSIFIED"}}
    with translation.override(language), pytest.raises(LabelError) as refused:
        label_from_marking(marking)
    with translation.override(language):
        assert str(refused.value) == shown
    assert refused.value.args[0] == ENGLISH
