"""Scans for the demo's evidence files: small grey "scans" of quotation sheets, real PNG bytes as the checks want.

Each scan carries marks drawn from its title and serial, so two demo matters never share a file by accident:
the same SHA-256 on two matters is what the reused-evidence warning looks for.
"""

import hashlib
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw


def scanned_quotation(title: str, *, serial: str = "") -> SimpleUploadedFile:
    """A quotation sheet's scan for the matter titled ``title``; ``serial`` tells two sheets of one title apart."""
    image = Image.new("L", (620, 877), 250)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 580, 837), outline=60, width=3)
    for row in range(8):
        top = 160 + row * 70
        draw.line((60, top, 560, top), fill=120, width=2)
    draw.rectangle((400, 700, 540, 800), outline=170, width=4)  # the supplier's seal
    # The sheet's own writing: 64 marks in the header, one per bit of its digest.
    digest = hashlib.sha256(f"{title}|{serial}".encode()).digest()
    for bit in range(64):
        if digest[bit // 8] >> (bit % 8) & 1:
            left = 60 + bit * 8
            draw.rectangle((left, 80, left + 5, 120), fill=90)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{title}-报价单.png", buffer.getvalue(), content_type="image/png")
