"""Who a campaign goes to (no I/O): a segment as data, or an uploaded CSV of phones, and the
exclusions with their reasons.

- A **segment** filters the tenant's contacts (lead stage, score, source, ERP match, tags, last
  contact) or lists the ERP's customers; the store turns it into one parameterized query.
- A **CSV** holds phones in any form (``(11) 98765-4321``, ``5511987654321``, ``+55 11 ...``,
  ``8765-4321`` with DDD), normalized with the identity rules, with optional per-row values
  (``nome``, ``vencimento``, ``valor``, ``link``). Invalid rows are reported with their row
  number and reason, never dropped silently.
- **Exclusions**, counted per reason: no phone (a contact known only by an @lid or a BSUID is in
  no instance's reach), hidden contacts, opted-out numbers, duplicates, missing variables.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ponte.domain.campaigns.message import MAX_LINK_CHARS, CampaignMessage, RecipientValues, missing_variables
from ponte.domain.campaigns.opt_out import normalize
from ponte.domain.identity import canonical_phone

LeadStage = Literal["new", "open", "won", "lost"]
LeadSource = Literal["organic", "ctwa_ad", "search", "deep_link"]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 50_000
MAX_REPORTED_ROWS = 100


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Segment(Strict):
    """Filters over the tenant's contacts (``source`` contacts) or its ERP customers (``customers``).
    Every filter given must hold (AND); lists match any of their values."""

    source: Literal["contacts", "customers"] = "contacts"
    lead_stages: tuple[LeadStage, ...] = Field(default=(), max_length=4)
    lead_sources: tuple[LeadSource, ...] = Field(default=(), max_length=4)
    score_min: int | None = Field(default=None, ge=0, le=100)
    score_max: int | None = Field(default=None, ge=0, le=100)
    customers_only: bool = False  # contacts matched to an ERP customer record
    tags_any: tuple[Tag, ...] = Field(default=(), max_length=20)
    last_contact_after: datetime | None = None
    last_contact_before: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Segment:
        if self.score_min is not None and self.score_max is not None and self.score_min > self.score_max:
            raise ValueError("score_min is above score_max")
        a, b = self.last_contact_after, self.last_contact_before
        for moment in (a, b):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("dates need a time zone (ISO 8601 with an offset)")
        if a is not None and b is not None and a >= b:
            raise ValueError("last_contact_after is not before last_contact_before")
        if self.source == "customers" and (
            self.lead_stages or self.lead_sources or self.score_min is not None or self.score_max is not None
            or self.tags_any or a is not None or b is not None or self.customers_only
        ):  # fmt: skip
            raise ValueError("the customers source takes no contact filters")
        return self


class AudienceSpec(Strict):
    """A segment, or the CSV uploaded with the campaign."""

    kind: Literal["segment", "csv"]
    segment: Segment | None = None

    @model_validator(mode="after")
    def _shape(self) -> AudienceSpec:
        if (self.kind == "segment") != (self.segment is not None):
            raise ValueError("a segment audience needs `segment`; a csv audience takes none")
        return self


# --- the CSV -------------------------------------------------------------------------------------

_HEADERS: dict[str, str] = {
    **dict.fromkeys(("telefone", "phone", "celular", "whatsapp", "numero", "fone", "tel"), "phone"),
    **dict.fromkeys(("nome", "name", "cliente"), "name"),
    **dict.fromkeys(("vencimento", "due date", "due_date", "data vencimento", "data de vencimento"), "due_date"),
    **dict.fromkeys(("valor", "amount", "valor devido", "total"), "amount"),
    **dict.fromkeys(("link", "url"), "link"),
}
_AMOUNT = re.compile(r"^(?:r\$)?\s*(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$|^(?:r\$)?\s*(\d+)\.(\d{1,2})$")


_POSITIONAL: tuple[str | None, ...] = ("phone", "name", "due_date", "amount", "link")


class CsvRow(Strict):
    row: int  # 1-based, as a spreadsheet shows it (the header is row 1)
    phone_e164: str
    values: RecipientValues


class InvalidRow(Strict):
    row: int
    reason: Literal["invalid_phone", "invalid_date", "invalid_amount", "invalid_link", "duplicate", "empty"]
    column: str | None = None


class CsvParse(Strict):
    rows: tuple[CsvRow, ...]
    invalid: tuple[InvalidRow, ...]  # the first MAX_REPORTED_ROWS
    invalid_counts: dict[str, int]
    total_rows: int


class CsvError(ValueError):
    """The CSV as a whole cannot be read (no phone column, too big, not text)."""


def _header_key(cell: str) -> str | None:
    return _HEADERS.get(normalize(cell).replace("_", " ")) or _HEADERS.get(normalize(cell))


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_amount(text: str) -> Decimal | None:
    """``1.234,56`` / ``R$ 99,90`` / ``1234.56`` / ``80`` -> Decimal; None when not an amount."""
    clean = text.strip().lower().replace(" ", "")
    match = _AMOUNT.match(clean)
    if not match:
        return None
    try:
        if match.group(1) is not None:
            whole = match.group(1).replace(".", "")
            cents = (match.group(2) or "0").ljust(2, "0")
        else:
            whole, cents = match.group(3), match.group(4).ljust(2, "0")
        value = Decimal(f"{whole}.{cents}")
    except InvalidOperation:
        return None
    return value if value <= Decimal("1000000000") else None


def parse_day(text: str) -> date | None:
    """``05/12/2026`` (dd/mm/aaaa), ``5/12/26`` or ``2026-12-05`` -> date; None otherwise."""
    clean = text.strip()
    for fmt in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(clean, fmt).date()  # noqa: DTZ007 - a calendar day, no time
        except ValueError:
            continue
    return None


def parse_csv(text: str, *, max_rows: int = MAX_CSV_ROWS) -> CsvParse:
    """Phones (and optional values) from a CSV; raises :class:`CsvError` when unreadable as a whole."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CSV_BYTES:
        raise CsvError(f"the CSV is over {MAX_CSV_BYTES // (1024 * 1024)} MB")
    text = text.lstrip("\ufeff").replace("\x00", "")
    if not text.strip():
        raise CsvError("the CSV is empty")
    reader = csv.reader(io.StringIO(text), _dialect(text[:4096]))
    try:
        first = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvError("the CSV cannot be read") from exc
    columns: list[str | None] = [_header_key(cell) for cell in first]
    if "phone" in columns:
        start_row = 2
    elif len(first) == 1 or (first and canonical_phone(first[0]) is not None):
        columns, start_row = list(_POSITIONAL[: max(1, len(first))]), 1
        reader = csv.reader(io.StringIO(text), _dialect(text[:4096]))
    else:
        raise CsvError("no phone column: name it telefone, celular, whatsapp or phone")
    return _rows(reader, columns, start_row, max_rows)


def _rows(reader: Iterable[list[str]], columns: list[str | None], start_row: int, max_rows: int) -> CsvParse:
    rows: list[CsvRow] = []
    invalid: list[InvalidRow] = []
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    total = 0
    try:
        for number, cells in enumerate(reader, start=start_row):
            if not any(cell.strip() for cell in cells):
                continue
            total += 1
            if total > max_rows:
                raise CsvError(f"the CSV has more than {max_rows} rows")
            result = _row(number, cells, columns, seen)
            if isinstance(result, InvalidRow):
                counts[result.reason] += 1
                if len(invalid) < MAX_REPORTED_ROWS:
                    invalid.append(result)
            else:
                rows.append(result)
    except csv.Error as exc:
        raise CsvError(f"the CSV cannot be read: {str(exc)[:100]}") from exc
    if not rows:
        raise CsvError(f"no row has a valid phone number ({total} rows read)")
    return CsvParse(rows=tuple(rows), invalid=tuple(invalid), invalid_counts=dict(counts), total_rows=total)


def _row(number: int, cells: Sequence[str], columns: Sequence[str | None], seen: set[str]) -> CsvRow | InvalidRow:
    cell = {key: cells[i].strip() for i, key in enumerate(columns) if key and i < len(cells) and cells[i].strip()}
    phone = canonical_phone(cell.get("phone", "")[:64])
    if phone is None:
        return InvalidRow(row=number, reason="invalid_phone" if cell.get("phone") else "empty", column="phone")
    values: dict[str, object] = {"name": cell["name"][:120] if "name" in cell else None}
    if "due_date" in cell:
        values["due_date"] = parse_day(cell["due_date"])
        if values["due_date"] is None:
            return InvalidRow(row=number, reason="invalid_date", column="due_date")
    if "amount" in cell:
        values["amount"] = parse_amount(cell["amount"])
        if values["amount"] is None:
            return InvalidRow(row=number, reason="invalid_amount", column="amount")
    if "link" in cell:
        values["link"] = cell["link"][: MAX_LINK_CHARS + 1]
    try:
        parsed = RecipientValues.model_validate(values)
    except ValidationError:
        return InvalidRow(row=number, reason="invalid_link", column="link")
    if phone in seen:
        return InvalidRow(row=number, reason="duplicate", column="phone")
    seen.add(phone)
    return CsvRow(row=number, phone_e164=phone, values=parsed)


# --- exclusions ----------------------------------------------------------------------------------


class ExclusionReason(StrEnum):
    NO_PHONE = "no_phone"  # known only by an @lid / BSUID: in no instance's reach
    HIDDEN = "hidden"  # on the tenant's hidden list
    OPTED_OUT = "opted_out"  # on the suppression list
    DUPLICATE = "duplicate"  # the same number twice (two contacts, a CSV row twice)
    MISSING_VARIABLE = "missing_variable"  # the text needs a value this recipient lacks


class Candidate(Strict):
    """One possible recipient as the store found it (contact, customer or CSV row)."""

    contact_id: str | None = None
    customer_id: str | None = None
    lead_id: str | None = None
    row: int | None = None  # the CSV row
    phone_e164: str | None
    values: RecipientValues = RecipientValues()


class Recipient(Strict):
    ordinal: int  # the send order
    contact_id: str | None
    customer_id: str | None
    lead_id: str | None
    row: int | None
    phone_e164: str
    values: RecipientValues


class AudienceReport(Strict):
    candidates: int
    recipients: int
    excluded: dict[str, int]  # reason -> how many
    invalid_rows: dict[str, int] = {}  # CSV: reason -> how many rows could not be read


class Audience(Strict):
    recipients: tuple[Recipient, ...]
    report: AudienceReport


def select_audience(
    candidates: Iterable[Candidate],
    message: CampaignMessage,
    *,
    hidden: frozenset[str],
    is_opted_out: Callable[[str], bool],
    invalid_rows: dict[str, int] | None = None,
) -> Audience:
    """The recipients in order and what was excluded, per reason. ``hidden``: the tenant's hidden
    identity forms; ``is_opted_out``: whether a number is on the suppression list."""
    recipients: list[Recipient] = []
    excluded: Counter[str] = Counter()
    seen: set[str] = set()
    total = 0
    for candidate in candidates:
        total += 1
        reason = _exclusion(candidate, message, hidden, is_opted_out, seen)
        if reason is not None:
            excluded[reason.value] += 1
            continue
        assert candidate.phone_e164 is not None
        seen.add(candidate.phone_e164)
        recipients.append(
            Recipient(
                ordinal=len(recipients),
                contact_id=candidate.contact_id,
                customer_id=candidate.customer_id,
                lead_id=candidate.lead_id,
                row=candidate.row,
                phone_e164=candidate.phone_e164,
                values=candidate.values,
            )
        )
    report = AudienceReport(
        candidates=total, recipients=len(recipients), excluded=dict(excluded), invalid_rows=dict(invalid_rows or {})
    )
    return Audience(recipients=tuple(recipients), report=report)


def _exclusion(
    candidate: Candidate,
    message: CampaignMessage,
    hidden: frozenset[str],
    is_opted_out: Callable[[str], bool],
    seen: set[str],
) -> ExclusionReason | None:
    phone = candidate.phone_e164
    if phone is None:
        return ExclusionReason.NO_PHONE
    if phone in hidden:
        return ExclusionReason.HIDDEN
    if is_opted_out(phone):
        return ExclusionReason.OPTED_OUT
    if phone in seen:
        return ExclusionReason.DUPLICATE
    if missing_variables(message, candidate.values):
        return ExclusionReason.MISSING_VARIABLE
    return None
