"""Revision 0003 on a database with members: every contact stays a contact, their companies
are flagged for the managers' one-time review, imported companies without contacts are not."""

from __future__ import annotations

from sqlalchemy import text

from kooperation import db
from tests.test_migrations import scratch_url  # noqa: F401  (the SQLite/PostgreSQL fixture)


def test_existing_contacts_stay_and_their_companies_are_flagged_for_review(
    scratch_url: str,  # noqa: F811
) -> None:
    db.upgrade(scratch_url, "0001")
    engine = db.make_engine(scratch_url)
    now = "2026-11-30 10:00:00"
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO cluster (slug, name, short_name) VALUES ('it', 'IT', 'IT')")
        )
        cluster_id = connection.execute(text("SELECT id FROM cluster")).scalar()
        for name in ("Mit Kontakt GmbH", "Nur Import AG"):
            connection.execute(
                text(
                    "INSERT INTO organization (name, cluster_id, size, region, website,"
                    " description, contact_name, contact_email, created_at)"
                    " VALUES (:name, :cluster, 'small', '', '', '', '', '', :now)"
                ),
                {"name": name, "cluster": cluster_id, "now": now},
            )
        org_id = connection.execute(
            text("SELECT id FROM organization WHERE name = 'Mit Kontakt GmbH'")
        ).scalar()
        connection.execute(
            text(
                "INSERT INTO member (telegram_user_id, username, display_name, email, language,"
                " organization_id, role, digest_enabled, paused, active, created_at)"
                " VALUES (42, '', 'Anna', '', 'de', :org, 'member', :t, :f, :t, :now)"
            ),
            {"org": org_id, "t": True, "f": False, "now": now},
        )
    engine.dispose()
    db.upgrade(scratch_url)
    engine = db.make_engine(scratch_url)
    with engine.connect() as connection:
        flags = dict(
            connection.execute(text("SELECT name, membership_review FROM organization")).all()
        )
        origin = set(connection.execute(text("SELECT origin FROM organization")).scalars())
        member_org = connection.execute(text("SELECT organization_id FROM member")).scalar()
    engine.dispose()
    assert {name: bool(flag) for name, flag in flags.items()} == {
        "Mit Kontakt GmbH": True,
        "Nur Import AG": False,
    }
    assert origin == {"import"} and member_org == org_id
