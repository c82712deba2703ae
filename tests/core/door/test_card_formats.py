"""Card layouts against vectors worked out by hand (bit strings written out below), parity on
both ends, and numbers that do not fit refused rather than cut."""

from __future__ import annotations

import pytest

from core.door.card_formats import CardBits, CardFormatError, decode, encode


@pytest.mark.parametrize(
    ("card", "facility", "bits"),
    [
        # FC 1 = 00000001, CN 1 = 0000000000000001: one 1 in the leading 12 -> even bit 1; one in the trailing 12 -> odd bit 0
        (1, 1, "1" + "00000001" + "0000000000000001" + "0"),
        # FC 18 = 00010010, CN 4660 = 0001001000110100: leading 12 (000100100001) three 1s -> 1; trailing 12 (001000110100) four -> 1
        (4660, 18, "1" + "00010010" + "0001001000110100" + "1"),
        # all ones: 12 in each half -> even bit 0, odd bit 1
        (65535, 255, "0" + "11111111" + "1111111111111111" + "1"),
        # nothing set: even bit 0, odd bit 1 (an all-zero read is never valid)
        (0, 0, "0" + "00000000" + "0000000000000000" + "1"),
    ],
)
def test_h10301(card, facility, bits):
    read = encode(str(card), "h10301", facility)
    assert read.length == 26 and read.bit_string() == bits
    assert decode(read, "h10301") == (facility, card)


def test_h10301_known_hex_and_osdp_bytes():
    read = encode("1", "h10301", 1)
    assert read.value == 0x2020002  # 10 0000 0010 0000 0000 0000 0010
    assert read.data() == bytes([0b10000000, 0b10000000, 0b00000000, 0b10000000])  # 26 bits left-aligned in 4 bytes


@pytest.mark.parametrize(
    ("card", "facility", "bits"),
    [
        # CN 1: leading 18 (FC 16 + CN's top 2) empty -> 0; trailing 18 hold one 1 -> odd bit 0
        (1, 0, "0" + "0" * 16 + "0" * 18 + "1" + "0"),
        # FC 1: its 1 is the 16th bit, inside the leading 18 only -> even 1; trailing 18 empty -> odd 1
        (0, 1, "1" + "0" * 15 + "1" + "0" * 19 + "1"),
        # CN 131072 = 2^17: the 18th data bit, shared by both halves -> even 1, odd 0
        (131072, 0, "1" + "0" * 16 + "01" + "0" * 17 + "0"),
        # all ones: 18 in each half -> even 0, odd 1
        (524287, 65535, "0" + "1" * 35 + "1"),
    ],
)
def test_h10304_37_bit(card, facility, bits):
    read = encode(card, "h10304", facility)
    assert read.length == 37 and read.bit_string() == bits
    assert decode(read, "h10304") == (facility, card)


def test_h10306_34_bit_and_raw():
    # FC 1 (16 bits), CN 3 (16 bits): leading 16 hold one 1 -> even 1; trailing 16 hold two -> odd 1
    assert encode(3, "h10306", 1).bit_string() == "1" + "0000000000000001" + "0000000000000011" + "1"
    raw = encode("123456789", "raw", raw_bits=32)
    assert raw == CardBits(123456789, 32) and raw.data() == (123456789).to_bytes(4, "big")


def test_numbers_that_do_not_fit_are_refused_and_bad_parity_is_caught():
    with pytest.raises(CardFormatError, match=r"0-65535"):
        encode(65536, "h10301", 1)
    with pytest.raises(ValueError, match=r"facility code 256"):
        encode(1, "h10301", 256)
    with pytest.raises(CardFormatError, match=r"0-524287"):
        encode(524288, "h10304", 1)
    with pytest.raises(CardFormatError):
        encode(2**32, "raw", raw_bits=32)
    with pytest.raises(ValueError, match="not one of"):
        encode(1, "wiegand", 0)
    good = encode(1, "h10301", 1)
    with pytest.raises(CardFormatError, match="parity"):
        decode(CardBits(good.value ^ 1, 26), "h10301")
