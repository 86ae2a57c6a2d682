"""The catalog's shared words agree with the model they describe."""

import pytest

from catalog.models import Image
from catalog.vocabulary import BRIEF_KEYS, LISTING_KEYS, is_checksum


def test_the_listing_keys_are_the_image_fields_and_the_properties():
    fields = [field.name for field in Image._meta.concrete_fields]
    assert list(LISTING_KEYS[:-1]) == [f for f in fields if f not in ("is_windows", "version")]
    assert LISTING_KEYS[-1] == "properties"


def test_the_brief_keys_are_listing_keys():
    assert set(BRIEF_KEYS) < set(LISTING_KEYS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64d7c1cd2b6f60c92c14662941cb7913", True),
        ("64D7C1CD2B6F60C92C14662941CB7913", False),  # stored and shown in lower case
        ("64d7c1cd2b6f60c92c14662941cb791", False),
        ("64d7c1cd2b6f60c92c14662941cb7913\n", False),
        ("64d7c1cd2b6f60c92c14662941cb791g", False),
        ("", False),
    ],
)
def test_a_checksum_is_32_lower_case_hex_digits(text, expected):
    assert is_checksum(text) is expected
