"""Amounts in capital Chinese numerals (人民币大写), as an approval form writes them beside the figures."""

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")


def _four_digits(number: int) -> str:
    """0–9999 in capitals, inner zeros read once ("壹仟零壹"), trailing zeros silent."""
    words, pending_zero = "", False
    for place in range(3, -1, -1):
        digit = number // 10**place % 10
        if digit == 0:
            pending_zero = pending_zero or bool(words)
            continue
        if pending_zero:
            words += DIGITS[0]
            pending_zero = False
        words += DIGITS[digit] + PLACES[place]
    return words


def rmb_uppercase(amount: Decimal) -> str:
    """12345.60 → "壹万贰仟叁佰肆拾伍元陆角", 100000 → "壹拾万元整", 1001.05 → "壹仟零壹元零伍分"."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + rmb_uppercase(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if yuan >= 10**16:
        raise ValueError("amount too large for capital numerals")
    sections = []
    remaining = yuan
    while remaining:
        sections.append(remaining % 10000)
        remaining //= 10000
    words, pending_zero = "", False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            pending_zero = pending_zero or bool(words)
            continue
        # A section below a thousand after a higher one reads its leading zero: 壹万零伍佰.
        if words and (pending_zero or section < 1000):
            words += DIGITS[0]
        words += _four_digits(section) + SECTIONS[index]
        pending_zero = False
    if not words:
        if not (jiao or fen):
            return "零元整"
        words_fraction = (DIGITS[jiao] + "角" if jiao else "") + (DIGITS[fen] + "分" if fen else "")
        return words_fraction
    words += "元"
    if not (jiao or fen):
        return words + "整"
    if jiao:
        words += DIGITS[jiao] + "角"
    elif fen:
        words += DIGITS[0]
    if fen:
        words += DIGITS[fen] + "分"
    return words
