"""The bundled sample: regional organizations with needs and offers, their contacts, managers.

Used by `matchbot demo` on its own database file. Contacts and managers get Telegram ids from
a reserved range (they are fictional); nothing here is sent anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from kooperation.models import Cluster, Listing, Member, Organization, Role, utcnow
from kooperation.reference import DATA_DIR
from kooperation.services.appointments import appoint_manager
from kooperation.services.importer import ImportReport, import_listings

DEMO_CSV = DATA_DIR / "demo_listings.csv"
CONTACT_IDS = 9_000_000
MANAGER_IDS = 9_100_000
MANAGER_NAMES = {
    "automotive": "Susanne Berger",
    "logistics": "Markus Thiele",
    "it": "Julia Engel",
}


@dataclass(frozen=True)
class DemoData:
    report: ImportReport
    contacts: int
    managers: dict[str, Member]


def _contact_language(session: Session, organization: Organization) -> str:
    languages = session.exec(
        select(Listing.language).where(Listing.organization_id == organization.id)
    ).all()
    return "en" if languages and languages.count("en") > len(languages) / 2 else "de"


def load_demo(*, session: Session, csv_path: Path = DEMO_CSV) -> DemoData:
    """Imports the sample CSV and gives each organization a consenting contact."""
    report = import_listings(session=session, data=csv_path.read_bytes())
    now = utcnow()
    contacts = 0
    for organization in session.exec(select(Organization).order_by(col(Organization.id))).all():
        assert organization.id is not None
        telegram_id = CONTACT_IDS + organization.id
        member = Member(
            telegram_user_id=telegram_id,
            chat_id=telegram_id,
            display_name=organization.contact_name or organization.name,
            email=organization.contact_email,
            language=_contact_language(session, organization),
            organization_id=organization.id,
            consent_at=now,
        )
        session.add(member)
        session.flush()
        for listing in session.exec(
            select(Listing).where(Listing.organization_id == organization.id)
        ).all():
            listing.member_id = member.id
            session.add(listing)
        contacts += 1
    managers = {}
    for cluster in session.exec(select(Cluster).order_by(col(Cluster.id))).all():
        assert cluster.id is not None
        manager = Member(
            telegram_user_id=MANAGER_IDS + cluster.id,
            chat_id=MANAGER_IDS + cluster.id,
            display_name=MANAGER_NAMES.get(cluster.slug, f"Manager {cluster.short_name}"),
            role=Role.MANAGER,
            consent_at=now,
        )
        session.add(manager)
        session.flush()
        appoint_manager(session=session, member=manager, cluster=cluster, via="demo")
        managers[cluster.slug] = manager
    session.commit()
    return DemoData(report=report, contacts=contacts, managers=managers)
