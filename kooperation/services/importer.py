"""CSV import of organizations and their needs and offers — how cluster managers bring lists in.

UTF-8 with or without BOM, comma or semicolon separated (German Excel writes `;`). Required
columns: organization, cluster, kind, text. Optional: ref, title, tags, language, size, region,
contact_name, contact_email. Rows are upserted by `ref`; without a ref, organization + kind +
text identify a row. Every row is validated completely before anything is written, so a bad
row writes nothing and is reported with its line number; the good rows are imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from kooperation import validation
from kooperation.csvcells import restore
from kooperation.language import LANGUAGES, detect_language
from kooperation.models import (
    TEXT_MAX,
    TITLE_MAX,
    Cluster,
    Kind,
    Listing,
    ListingStatus,
    Organization,
    Size,
    utcnow,
)

REQUIRED = ("organization", "cluster", "kind", "text")
OPTIONAL = (
    "ref",
    "title",
    "tags",
    "language",
    "size",
    "region",
    "contact_name",
    "contact_email",
)
KIND_ALIASES = {
    "need": Kind.NEED,
    "bedarf": Kind.NEED,
    "suche": Kind.NEED,
    "gesuch": Kind.NEED,
    "offer": Kind.OFFER,
    "angebot": Kind.OFFER,
    "biete": Kind.OFFER,
}
SIZE_ALIASES = {
    "micro": Size.MICRO,
    "kleinst": Size.MICRO,
    "kleinstunternehmen": Size.MICRO,
    "small": Size.SMALL,
    "klein": Size.SMALL,
    "medium": Size.MEDIUM,
    "mittel": Size.MEDIUM,
    "large": Size.LARGE,
    "groß": Size.LARGE,
    "gross": Size.LARGE,
}
LIMITS = {
    "organization": validation.ORGANIZATION_MAX,
    "ref": 100,
    "region": validation.REGION_MAX,
    "contact_name": validation.NAME_MAX,
    "contact_email": validation.EMAIL_MAX,
    "title": TITLE_MAX,
    "text": TEXT_MAX,
}
TAG_MAX = 40
BATCH = 500
CELL_MAX = 128 * 1024
"""A cell longer than this (characters) is a broken line, not data: Python's csv module stops
at its field limit, so the reader lets such a cell through and `parse_row` refuses the line."""


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass(frozen=True)
class ListingRow:
    """One validated CSV row."""

    line: int
    organization: str
    cluster_id: int
    kind: Kind
    text: str
    title: str
    tags: tuple[str, ...]
    language: str
    ref: str | None
    size: Size | None
    region: str
    contact_name: str
    contact_email: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organizations_created: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Decodes, sniffs the separator and yields (line number, row) with normalised headers."""
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"the file is not UTF-8 (byte {error.start}); save it as 'CSV UTF-8'"
        ) from None
    first_line = content.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFileError(f"missing column(s): {', '.join(missing)}")

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        line = reader.line_num + 1
        limit = csv.field_size_limit(max(csv.field_size_limit(), len(content) + 1))
        try:
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:  # the reader goes on with the next line
                    yield line, UnreadableLine(f"the line cannot be read as CSV ({error})")
                    line = reader.line_num + 1
                    continue
                if any(value.strip() for value in values):
                    padded = values + [""] * (len(header) - len(values))
                    yield line, {name: restore(padded[i].strip()) for i, name in enumerate(header)}
                line = reader.line_num + 1
        finally:
            csv.field_size_limit(limit)

    return header, rows()


class UnreadableLine(dict[str, str]):
    """A line the CSV reader could not split; `parse_row` reports `reason` for it."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


def _cluster_index(session: Session) -> dict[str, int]:
    index: dict[str, int] = {}
    for cluster in session.exec(select(Cluster)).all():
        assert cluster.id is not None
        for key in (cluster.slug, cluster.name, cluster.short_name):
            if key:
                index[key.casefold()] = cluster.id
    return index


def parse_row(line: int, raw: dict[str, str], clusters: dict[str, int]) -> ListingRow:
    """Validates one row; raises ValueError with the reason a manager can act on."""
    if isinstance(raw, UnreadableLine):
        raise ValueError(raw.reason)
    for name, value in raw.items():
        if len(value) > CELL_MAX:
            raise ValueError(f"{name or 'a cell'} is larger than 128 KiB")
        try:
            validation.reject_nul(value)
        except validation.InvalidInput:
            raise ValueError(f"{name or 'a cell'} contains a NUL byte") from None
    for name, limit in LIMITS.items():
        if len(raw.get(name, "")) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    if not raw["organization"]:
        raise ValueError("organization is empty")
    cluster_id = clusters.get(raw["cluster"].casefold())
    if cluster_id is None:
        raise ValueError(f"unknown cluster {raw['cluster']!r}")
    kind = KIND_ALIASES.get(raw["kind"].casefold())
    if kind is None:
        raise ValueError(
            f"kind {raw['kind']!r} is neither need/Bedarf/Suche nor offer/Angebot/Biete"
        )
    text = " ".join(raw["text"].split())
    if not text:
        raise ValueError("text is empty")
    size_value = raw.get("size", "")
    size = SIZE_ALIASES.get(size_value.casefold()) if size_value else None
    if size_value and size is None:
        raise ValueError(f"size {size_value!r} is not micro, small, medium or large")
    email = raw.get("contact_email", "")
    if email:
        try:
            validation.clean_email(email)
        except validation.InvalidInput:
            raise ValueError(f"contact_email {email!r} is not an e-mail address") from None
    tags = tuple(dict.fromkeys(t.strip().lower() for t in raw.get("tags", "").split(",")))
    tags = tuple(t for t in tags if t)
    if any(len(tag) > TAG_MAX for tag in tags):
        raise ValueError(f"a tag is longer than {TAG_MAX} characters")
    language = raw.get("language", "").lower() or detect_language(text)
    if language not in LANGUAGES:
        raise ValueError(f"language {raw['language']!r} is not de or en")
    return ListingRow(
        line=line,
        organization=" ".join(raw["organization"].split()),
        cluster_id=cluster_id,
        kind=kind,
        text=text,
        title=raw.get("title", "") or validation.title_for(text),  # as for listings in the bot
        tags=tags,
        language=language,
        ref=raw.get("ref") or None,
        size=size,
        region=raw.get("region", ""),
        contact_name=raw.get("contact_name", ""),
        contact_email=email,
    )


class _Upserter:
    """Holds the existing rows in memory so that 10,000 rows need no query per row.

    Every check that can fail runs before the first write of a row, so a failing row leaves
    the session untouched and needs no savepoint.
    """

    def __init__(self, session: Session, lifetime: timedelta) -> None:
        self.session = session
        self.lifetime = lifetime
        self.orgs = {o.name.casefold(): o for o in session.exec(select(Organization)).all()}
        listings = session.exec(select(Listing)).all()
        self.by_ref = {x.ref: x for x in listings if x.ref}
        self.by_identity = {(x.organization_id, x.kind, x.text): x for x in listings}

    def organization(self, row: ListingRow, report: ImportReport) -> Organization:
        org = self.orgs.get(row.organization.casefold())
        if org is None:
            org = Organization(
                name=row.organization,
                cluster_id=row.cluster_id,
                size=row.size or Size.SMALL,
                region=row.region,
                contact_name=row.contact_name,
                contact_email=row.contact_email,
            )
            self.session.add(org)
            self.session.flush()
            self.orgs[row.organization.casefold()] = org
            report.organizations_created += 1
            return org
        if org.cluster_id != row.cluster_id:
            raise ValueError(f"organization {org.name!r} belongs to another cluster")
        changes = {
            "size": row.size,
            "region": row.region,
            "contact_name": row.contact_name,
            "contact_email": row.contact_email,
        }
        for name, value in changes.items():
            if value and getattr(org, name) != value:
                setattr(org, name, value)
                self.session.add(org)
        return org

    def listing(self, row: ListingRow, report: ImportReport) -> None:
        org = self.organization(row, report)
        assert org.id is not None
        existing = self.by_ref.get(row.ref) if row.ref else None
        if existing is None:
            same = self.by_identity.get((org.id, row.kind, row.text))
            if same is not None and not (row.ref and same.ref):  # another ref: another listing
                existing = same
        values: dict[str, Any] = {  # the columns an import sets, compared on an update
            "organization_id": org.id,
            "kind": row.kind.value,
            "title": row.title,
            "text": row.text,
            "tags": list(row.tags),
            "language": row.language,
        }
        if existing is None:
            now = utcnow()
            listing = Listing(
                **values,
                ref=row.ref,
                created_at=now,
                updated_at=now,
                expires_at=now + self.lifetime,
            )
            self.session.add(listing)
            report.created += 1
        elif any(getattr(existing, k) != v for k, v in values.items()) or (
            row.ref and existing.ref != row.ref
        ):
            self.by_identity.pop((existing.organization_id, existing.kind, existing.text), None)
            for name, value in values.items():
                setattr(existing, name, value)
            existing.ref = row.ref or existing.ref
            existing.updated_at = utcnow()
            if existing.status == ListingStatus.CLOSED:
                existing.status = ListingStatus.ACTIVE
                existing.expires_at = existing.updated_at + self.lifetime
            self.session.add(existing)
            listing = existing
            report.updated += 1
        else:
            report.unchanged += 1
            return
        if listing.ref:
            self.by_ref[listing.ref] = listing
        self.by_identity[(org.id, listing.kind, listing.text)] = listing


def import_listings(
    *,
    session: Session,
    data: bytes,
    lifetime_days: int = 90,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Imports a CSV file's rows; bad rows are reported by line and skipped, good ones kept."""
    _, rows = read_rows(data)
    clusters = _cluster_index(session)
    upserter = _Upserter(session, timedelta(days=lifetime_days))
    report = ImportReport()
    for count, (line, raw) in enumerate(rows, start=1):
        report.rows += 1
        try:
            upserter.listing(parse_row(line, raw, clusters), report)
        except ValueError as error:
            report.errors.append(RowError(line, str(error)))
        if count % BATCH == 0:
            session.commit()
            if progress:
                progress(BATCH)
    session.commit()
    if progress:
        progress(report.rows % BATCH)
    return report
