"""Export of organizations' listings in the import's own CSV format (round-trips)."""

from __future__ import annotations

import csv
import io
from datetime import tzinfo

from sqlmodel import Session, col, select

from kooperation.csvcells import neutralise
from kooperation.dates import local_date
from kooperation.models import Cluster, Listing, Organization

COLUMNS = (
    "ref",
    "organization",
    "cluster",
    "kind",
    "title",
    "text",
    "tags",
    "language",
    "status",
    "size",
    "region",
    "contact_name",
    "contact_email",
    "created",
    "expires",
)


def export_listings_csv(*, session: Session, tz: tzinfo, include_closed: bool = False) -> str:
    """All listings as CSV, newest organization data joined in; importable again as is.
    The created and expires days are those of the programme's time zone `tz`."""
    query = (
        select(Listing, Organization, Cluster)
        .join(Organization, col(Listing.organization_id) == col(Organization.id))
        .join(Cluster, col(Organization.cluster_id) == col(Cluster.id))
        .order_by(col(Listing.id))
    )
    if not include_closed:
        query = query.where(Listing.status != "closed")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for listing, org, cluster in session.exec(query).all():
        row = (
            listing.ref or "",
            org.name,
            cluster.slug,
            listing.kind,
            listing.title,
            listing.text,
            ", ".join(listing.tags),
            listing.language,
            listing.status,
            org.size,
            org.region,
            org.contact_name,
            org.contact_email,
            local_date(listing.created_at, tz).isoformat(),
            local_date(listing.expires_at, tz).isoformat(),
        )
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()
