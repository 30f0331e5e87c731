import pytest
from django.core.exceptions import ValidationError

from registers.identity import check_character, validate_id_number


def test_a_published_example_number_is_valid():
    # The worked example of GB 11643-1999.
    validate_id_number("11010519491231002X")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "id_check_digit"),
        ("11010519491331002X", "id_birth"),
        ("1101051949123100", "id_format"),
        ("11010519491231002x", "id_format"),
        ("A1010519491231002X", "id_format"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as error:
        validate_id_number(number)
    assert error.value.code == code


def test_check_character_wraps_to_x():
    assert check_character("11010519491231002") == "X"
