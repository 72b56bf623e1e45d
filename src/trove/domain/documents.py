"""Document subtypes (seed 4.8): invoice, contract, technical specification, told apart by
rules over the text layer or the OCR text, with the fields each one carries.

Rules, not a model: each subtype has weighted cue phrases; the best score wins when it has at
least two cues and beats the runner-up, otherwise the document has no subtype. Fields are
read with anchored patterns (a number after "Invoice No", an amount after "Total"), so a
wrong guess is visible and fixable by hand. Pure functions over text: no I/O.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pydantic import BaseModel, Field


class SubType(StrEnum):
    INVOICE = "invoice"
    CONTRACT = "contract"
    TECH_SPEC = "tech_spec"


class DocumentFields(BaseModel):
    """`metadata["document"]`: what the rules read, and where the subtype came from."""

    sub_type: SubType | None = None
    # "rules" when the rules chose the subtype; anything else (or nothing) is a person's choice.
    sub_type_source: str = "hand"
    number: str | None = None
    total: Decimal | None = None
    currency: str | None = None
    dates: list[date] = Field(default_factory=list)
    due_date: date | None = None
    parties: list[str] = Field(default_factory=list)
    status: str | None = None  # an invoice: "paid" or "due"
    scores: dict[str, int] = Field(default_factory=dict)


_CUES: dict[SubType, dict[str, int]] = {
    SubType.INVOICE: {
        "invoice": 3, "bill to": 2, "amount due": 2, "total due": 2, "balance due": 2,
        "payment terms": 1, "due date": 1, "subtotal": 1, "vat": 1, "tax": 1, "qty": 1,
        "unit price": 1, "rechnung": 3, "facture": 3,
    },
    SubType.CONTRACT: {
        "agreement": 2, "contract": 2, "hereinafter": 2, "by and between": 2, "parties": 1,
        "party": 1, "governing law": 2, "term and termination": 2, "witnesseth": 2,
        "in witness whereof": 2, "signature": 1, "shall": 1, "confidential": 1,
    },
    SubType.TECH_SPEC: {
        "specification": 3, "datasheet": 3, "data sheet": 3, "requirements": 1,
        "tolerance": 2, "dimensions": 1, "voltage": 2, "operating temperature": 2,
        "revision": 1, "rev.": 1, "interface": 1, "performance": 1, "technical": 1,
    },
}  # fmt: skip
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CODES = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK")
_AMOUNT = re.compile(
    r"(?P<pre>[$€£¥]|\b(?:" + "|".join(_CODES) + r"))?\s*"
    r"(?P<num>\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"\s*(?P<post>[$€£¥]|(?:" + "|".join(_CODES) + r")\b)?"
)
_TOTAL_LINE = re.compile(
    r"\b(?:grand total|total due|amount due|balance due|total amount|total)\b(?P<rest>.*)",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\b(?:invoice|inv|contract|agreement|document|spec(?:ification)?)\s*"
    r"(?:no\.?|number|nr\.?|#|id)\s*[:#.]?\s*(?P<value>[A-Z0-9][A-Z0-9\-/.]{1,30}[A-Z0-9])",
    re.IGNORECASE,
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})\b"),
    re.compile(r"\b(?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<d>\d{1,2}),? (?P<y>\d{4})\b"),
    re.compile(r"\b(?P<d>\d{1,2}) (?P<mon>[A-Za-z]{3})[a-z]*\.? (?P<y>\d{4})\b"),
)
_PARTY_LABEL = re.compile(
    r"^\s*(?:bill(?:ed)? to|sold to|customer|client|buyer|seller|vendor|supplier|from)\s*:\s*"
    r"(?P<name>\S.{1,80})$",
    re.IGNORECASE | re.MULTILINE,
)
_BETWEEN = re.compile(
    r"\bbetween\s+(?P<a>[A-Z][\w&.,' -]{1,60}?)\s*(?:\([^)]*\))?,?\s+and\s+"
    r"(?P<b>[A-Z][\w&.,' -]{1,60}?)\s*(?:\(|,|\.|$)",
    re.MULTILINE,
)
_PAID = re.compile(r"\b(paid in full|payment received|status:\s*paid|\bpaid\b)", re.IGNORECASE)


def classify(text: str) -> tuple[SubType | None, dict[str, int]]:
    """The subtype the text reads as (or None), and every subtype's score."""
    lowered = text.lower()
    scores = {
        str(kind): sum(weight for cue, weight in cues.items() if cue in lowered)
        for kind, cues in _CUES.items()
    }
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, score = ranked[0]
    if score < 3 or score == ranked[1][1]:
        return None, scores
    return SubType(best), scores


def extract(text: str, *, sub_type: SubType | None, source: str) -> DocumentFields:
    """The fields of a document of this subtype found in its text."""
    found = DocumentFields(sub_type=sub_type, sub_type_source=source)
    if sub_type is None:
        return found
    number = _NUMBER.search(text)
    found.number = number.group("value") if number else None
    found.dates = _dates(text)
    found.due_date = _due_date(text)
    found.parties = _parties(text)
    if sub_type == SubType.INVOICE:
        found.total, found.currency = _total(text)
        found.status = "paid" if _PAID.search(text) else "due"
    return found


def _total(text: str) -> tuple[Decimal | None, str | None]:
    """The amount on the last line labelled total (a grand total follows its subtotals)."""
    best: tuple[Decimal | None, str | None] = (None, None)
    for line in text.splitlines():
        label = _TOTAL_LINE.search(line)
        if not label or "subtotal" in line.lower():
            continue
        for match in _AMOUNT.finditer(label.group("rest")):
            value = _decimal(match.group("num"))
            if value is not None:
                mark = match.group("pre") or match.group("post")
                best = (value, _SYMBOLS.get(mark or "", mark) if mark else _currency_in(text))
    return best


def _currency_in(text: str) -> str | None:
    for symbol, code in _SYMBOLS.items():
        if symbol in text:
            return code
    codes = re.search(r"\b(" + "|".join(_CODES) + r")\b", text)
    return codes.group(1) if codes else None


def _decimal(raw: str) -> Decimal | None:
    """1,234.56 / 1.234,56 / 1 234,56 / 1234 as a Decimal: the last separator followed by
    one or two digits is the decimal point."""
    cleaned = raw.replace(" ", "").replace("'", "")
    decimal_sep = re.search(r"[.,](\d{1,2})$", cleaned)
    if decimal_sep:
        whole = re.sub(r"[.,]", "", cleaned[: decimal_sep.start()])
        cleaned = f"{whole}.{decimal_sep.group(1)}"
    else:
        cleaned = re.sub(r"[.,]", "", cleaned)
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


def _dates(text: str) -> list[date]:
    found: list[tuple[int, date]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parsed = _date(match.groupdict())
            if parsed and all(parsed != d for _, d in found):
                found.append((match.start(), parsed))
    return [d for _, d in sorted(found)][:10]


def _due_date(text: str) -> date | None:
    for line in text.splitlines():
        if "due" in line.lower():
            dates = _dates(line)
            if dates:
                return dates[0]
    return None


def _date(parts: dict[str, str | None]) -> date | None:
    try:
        month = _MONTHS.get((parts.get("mon") or "").lower()) or int(parts.get("m") or 0)
        return date(int(parts["y"] or 0), month, int(parts["d"] or 0))
    except (ValueError, TypeError):
        return None


def _parties(text: str) -> list[str]:
    names: list[str] = []
    between = _BETWEEN.search(text)
    if between:
        names += [between.group("a"), between.group("b")]
    names += [m.group("name") for m in _PARTY_LABEL.finditer(text)]
    cleaned = []
    for name in names:
        name = name.strip(" ,.;")
        if name and name not in cleaned:
            cleaned.append(name[:80])
    return cleaned[:6]


_VERSION_MARK = re.compile(
    r"[\s_.-]*(?:v(?:er(?:sion)?)?[\s_.-]?(?P<v>\d+)|rev(?:ision)?[\s_.-]*(?P<rev>[a-z]|\d+)"
    r"|(?P<final>final)|(?P<draft>draft))$",
    re.IGNORECASE,
)
FINAL_RANK = 1000


def version_key(stem: str) -> tuple[str, int]:
    """A file stem as (family, rank): `contract_v2` -> ("contract", 2), `contract rev B` ->
    ("contract", 2), `contract_final` -> ("contract", 1000), `contract` -> ("contract", 0)."""
    match = _VERSION_MARK.search(stem)
    if not match or match.start() == 0:
        return stem.lower(), 0
    family = stem[: match.start()].lower()
    if match.group("v"):
        return family, int(match.group("v"))
    if match.group("rev"):
        rev = match.group("rev")
        return family, int(rev) if rev.isdigit() else ord(rev.lower()) - ord("a") + 1
    return family, FINAL_RANK if match.group("final") else 0
