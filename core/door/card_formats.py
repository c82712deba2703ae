"""Card numbers as the bits a card reader sends an access panel (Wiegand layouts, carried by OSDP).

    >>> bits = encode("1001", "h10301", facility=42)   # CardBits(value=..., length=26)
    >>> bits.data()                                    # the bytes OSDP's card-read reply carries

A panel decodes a read by its length and layout, so FaceGate must send the layout the panel is
told to expect, with the same facility code. The layouts here are HID's published ones:

- ``h10301``: 26 bits, the classic: even parity, 8-bit facility code, 16-bit card number, odd parity.
- ``h10306``: 34 bits: even parity, 16-bit facility code, 16-bit card number, odd parity.
- ``h10304``: 37 bits: even parity, 16-bit facility code, 19-bit card number, odd parity (the two
  parity halves share the middle bit).
- ``raw``: the card number alone in ``raw_bits`` bits, no facility code and no parity (a panel
  set up to take the number as is).

Parity bits sit at each end ("left" is the first bit sent). A number that does not fit is refused
with the range, never cut: a truncated number would be someone else's card.
"""

from __future__ import annotations

from dataclasses import dataclass

#: layout -> (label, facility bits, card bits); raw has its own length
FORMATS: dict[str, tuple[str, int, int]] = {
    "h10301": ("26-bit H10301", 8, 16),
    "h10306": ("34-bit H10306", 16, 16),
    "h10304": ("37-bit H10304", 16, 19),
    "raw": ("raw card number", 0, 0),
}
#: The widest raw read: OSDP carries more, but a decimal card number above 64 bits is not a card.
MAX_RAW_BITS = 64


class CardFormatError(ValueError):
    """The card number (or facility code) does not fit the configured layout."""


@dataclass(frozen=True)
class CardBits:
    """``length`` bits, the first sent being the most significant bit of ``value``."""

    value: int
    length: int

    def data(self) -> bytes:
        """Packed as OSDP's raw card data: first bit in the top bit of the first byte, zeros after."""
        size = (self.length + 7) // 8
        return (self.value << (size * 8 - self.length)).to_bytes(size, "big")

    def bit_string(self) -> str:
        return format(self.value, f"0{self.length}b")


def label(fmt: str) -> str:
    return FORMATS[fmt][0]


def check_layout(fmt: str, facility: int, raw_bits: int) -> None:
    """Refuse a layout, facility code or raw length that cannot work (ValueError, naming it)."""
    if fmt not in FORMATS:
        raise ValueError(f"card format {fmt!r} is not one of {', '.join(FORMATS)}")
    fc_bits = FORMATS[fmt][1]
    if fc_bits and not 0 <= facility < 1 << fc_bits:
        raise ValueError(f"facility code {facility} does not fit {label(fmt)} (0-{(1 << fc_bits) - 1})")
    if fmt == "raw" and not 1 <= raw_bits <= MAX_RAW_BITS:
        raise ValueError(f"a raw card read needs 1 to {MAX_RAW_BITS} bits, not {raw_bits}")


def encode(card: str | int, fmt: str, facility: int = 0, raw_bits: int = 32) -> CardBits:
    """The bits of card number ``card`` (decimal) in layout ``fmt``."""
    check_layout(fmt, facility, raw_bits)
    number = int(card)
    _, fc_bits, cn_bits = FORMATS[fmt]
    if fmt == "raw":
        if not 0 <= number < 1 << raw_bits:
            raise CardFormatError(f"card {number} does not fit a {raw_bits}-bit raw read (0-{(1 << raw_bits) - 1})")
        return CardBits(number, raw_bits)
    if not 0 <= number < 1 << cn_bits:
        raise CardFormatError(f"card {number} does not fit {label(fmt)} (card numbers 0-{(1 << cn_bits) - 1})")
    payload = (facility << cn_bits) | number
    data_bits = fc_bits + cn_bits
    length = data_bits + 2
    half = (data_bits + 1) // 2  # 12 of 24, 16 of 32, 18 of 35 (H10304's halves share the middle bit)
    first = payload >> (data_bits - half)  # the leading half, covered by the even parity bit
    last = payload & ((1 << half) - 1)  # the trailing half, covered by the odd parity bit
    even = _ones(first) & 1  # makes the leading half and its bit even
    odd = 1 - (_ones(last) & 1)  # makes the trailing half and its bit odd
    return CardBits((even << (length - 1)) | (payload << 1) | odd, length)


def decode(bits: CardBits, fmt: str) -> tuple[int, int]:
    """(facility code, card number) of a read in layout ``fmt``, parity checked (CardFormatError)."""
    _, fc_bits, cn_bits = FORMATS[fmt]
    if fmt == "raw":
        return 0, bits.value
    if bits.length != fc_bits + cn_bits + 2:
        raise CardFormatError(f"a {bits.length}-bit read is not {label(fmt)}")
    payload = (bits.value >> 1) & ((1 << (fc_bits + cn_bits)) - 1)
    facility, number = payload >> cn_bits, payload & ((1 << cn_bits) - 1)
    if encode(number, fmt, facility) != bits:
        raise CardFormatError(f"the read's parity bits are wrong for {label(fmt)}")
    return facility, number


def _ones(value: int) -> int:
    return bin(value).count("1")
