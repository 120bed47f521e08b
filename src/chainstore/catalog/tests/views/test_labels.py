import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from chainstore.catalog.services import add_barcode
from chainstore.core.testing import ean13, make_sku

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"

# EAN-13 digit patterns (L, G, R) and the first digit's parity choice for the left half.
L_CODES = ["0001101", "0011001", "0010011", "0111101", "0100011",
           "0110001", "0101111", "0111011", "0110111", "0001011"]  # fmt: skip
G_CODES = ["0100111", "0110011", "0011011", "0100001", "0011101",
           "0111001", "0000101", "0010001", "0001001", "0010111"]  # fmt: skip
R_CODES = ["1110010", "1100110", "1101100", "1000010", "1011100",
           "1001110", "1010000", "1000100", "1001000", "1110100"]  # fmt: skip
PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
          "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"]  # fmt: skip


def _decode_ean13(svg: ET.Element) -> str:
    """Read the digits back from the bars: proves the SVG encodes this EAN-13."""
    bars = [
        (float(r.get("x", "0").removesuffix("mm")), float(r.get("width", "0").removesuffix("mm")))
        for r in svg.iter(f"{SVG}rect")
        if "black" in r.get("style", "")
    ]
    module = min(width for _x, width in bars)
    start = bars[0][0]
    modules = ["0"] * 95
    for x, width in bars:
        first = round((x - start) / module)
        for i in range(first, first + round(width / module)):
            modules[i] = "1"
    bits = "".join(modules)
    assert bits[:3] == "101" and bits[45:50] == "01010" and bits[92:] == "101"
    left = [bits[3 + 7 * i : 10 + 7 * i] for i in range(6)]
    right = [bits[50 + 7 * i : 57 + 7 * i] for i in range(6)]
    parity = "".join("L" if chunk in L_CODES else "G" for chunk in left)
    digits = [
        (L_CODES if p == "L" else G_CODES).index(chunk)
        for p, chunk in zip(parity, left, strict=True)
    ]
    return str(PARITY.index(parity)) + "".join(map(str, digits + [R_CODES.index(c) for c in right]))


def test_label_page_renders_the_skus_ean13_as_svg(client, admin):
    code = ean13(424242)
    sku = make_sku(admin, name="康师傅红烧牛肉面", retail_price_fen=450, barcode=code)
    client.force_login(admin)

    r = client.get(reverse("catalog:sku_label", args=[sku.pk]), {"copies": "4"})

    assert r.status_code == 200
    html = r.content.decode()
    assert html.count('<div class="cs-label">') == 4
    assert "康师傅红烧牛肉面" in html and "¥4.50" in html and 'data-testid="print"' in html
    start = html.index("<svg")
    svg = ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])
    assert svg.tag == f"{SVG}svg"
    assert {el.tag.removeprefix(SVG) for el in svg.iter()} <= {"svg", "g", "rect", "text"}
    assert [t.text for t in svg.iter(f"{SVG}text")] == [code]
    assert _decode_ean13(svg) == code


def test_label_page_prefers_the_primary_ean13(client, admin):
    sku = make_sku(admin, barcode=ean13(500001))
    add_barcode(sku=sku, code=ean13(500002), kind="ean13", primary=True, actor=admin)
    sku.barcodes.filter(code=ean13(500001)).update(is_primary=False)
    client.force_login(admin)

    r = client.get(reverse("catalog:sku_label", args=[sku.pk]))

    assert r.context["barcode"].code == ean13(500002)


def test_label_page_without_ean13_says_so(client, admin):
    sku = make_sku(admin)
    sku.barcodes.all().delete()
    add_barcode(sku=sku, code="INT-001", kind="internal", actor=admin)
    client.force_login(admin)

    r = client.get(reverse("catalog:sku_label", args=[sku.pk]))

    assert r.status_code == 200 and r.context["svg"] is None
    assert b'data-testid="no-label-barcode"' in r.content and b"<svg" not in r.content
