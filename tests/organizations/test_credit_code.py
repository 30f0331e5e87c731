import pytest
from django.core.exceptions import ValidationError

from organizations.credit_code import credit_check_character, validate_credit_code


def test_a_real_credit_code_passes():
    validate_credit_code("91350100M000100Y43")
    assert credit_check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y44", "credit_check"),
        ("91350100M000100Y4", "credit_format"),
        ("91350100M000100I43", "credit_format"),
        ("91350100m000100y43", "credit_format"),
    ],
)
def test_a_wrong_credit_code_is_refused(value, code):
    with pytest.raises(ValidationError) as raised:
        validate_credit_code(value)
    assert raised.value.code == code
