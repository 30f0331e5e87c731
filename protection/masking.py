"""Masking on the server before display (GB/T 35273): enough to tell people apart, not to reuse the number."""


def mask_id_number(id_number: str) -> str:
    """All but the last four characters hidden: 1401231980051700012 → **************0012."""
    id_number = id_number or ""
    return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


def mask_phone(phone: str) -> str:
    """The first three and last four digits kept, the middle hidden: 13812345678 → 138****5678."""
    phone = (phone or "").strip()
    if len(phone) <= 7:
        return "*" * max(len(phone) - 2, 0) + phone[-2:]
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
