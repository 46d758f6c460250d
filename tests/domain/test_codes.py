"""Payment codes: issuing, decoding, check digit, firmware acceptance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scanrush.domain.codes import (
    _ISSUED,
    _luhn_digit,
    accepts,
    check_digit_ok,
    decode,
    garble,
    is_alipay,
    make_code,
    shape_of,
)
from scanrush.scenario.schema import CodeFormat

OLD_FIRMWARE = (CodeFormat(prefixes=(28, 28), lengths=(16, 18)),)


@given(st.integers(25, 30), st.integers(16, 24), st.integers(0, 10**12))
def test_codes_decode_to_what_they_were_issued_for(prefix: int, length: int, number: int) -> None:
    code = make_code(prefix, length, number)
    assert shape_of(code) == (prefix, length)
    assert is_alipay(prefix, length)
    assert decode(code) == number % 10 ** (length - 3)


@given(st.integers(25, 30), st.integers(16, 24), st.integers(0, 10**9))
def test_a_garbled_scan_always_fails_the_check_digit(prefix: int, length: int, number: int) -> None:
    code = make_code(prefix, length, number)
    assert decode(garble(code)) is None
    assert len(garble(code)) == len(code)


def test_old_firmware_reads_only_the_pre_2017_format() -> None:
    assert accepts(OLD_FIRMWARE, 28, 18)
    assert not accepts(OLD_FIRMWARE, 28, 19)
    assert not accepts(OLD_FIRMWARE, 25, 18)
    assert accepts((CodeFormat(),), 25, 24)


def test_non_digits_have_no_shape() -> None:
    assert shape_of("28abc") is None
    assert decode("28abc") is None


@given(st.text("0123456789", min_size=4, max_size=30))
def test_the_check_digit_test_is_luhns(code: str) -> None:
    _ISSUED.pop(code, None)  # computed, not remembered
    assert check_digit_ok(code) == (_luhn_digit(code[:-1]) == int(code[-1]))
