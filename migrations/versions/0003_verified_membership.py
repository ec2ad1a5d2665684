"""verified company membership: join requests, company invites, review of earlier joins

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:40:00

Every member who has an organization today stays its contact (taking membership away
silently would be worse than asking the managers to look once); their companies are flagged
`membership_review`, and the bot sends each cluster's managers one list of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: SQLite would copy the table, which the foreign keys from
    # member and listing forbid on a database with data. The server defaults stay for that
    # reason too (dropping one is a copy on SQLite).
    op.add_column(
        "organization",
        sa.Column("origin", sa.String(length=8), nullable=False, server_default="import"),
    )
    op.add_column(
        "organization",
        sa.Column("membership_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE organization SET membership_review = "
        + ("1" if op.get_bind().dialect.name == "sqlite" else "true")
        + " WHERE id IN (SELECT organization_id FROM member WHERE organization_id IS NOT NULL)"
    )

    op.create_table(
        "join_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    _create_indexes("join_request", "expires_at", "member_id", "organization_id", "status")

    op.create_table(
        "company_invite",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["used_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("code"),
    )
    _create_indexes("company_invite", "organization_id")


def downgrade() -> None:
    _drop_indexes("company_invite", "organization_id")
    op.drop_table("company_invite")
    _drop_indexes("join_request", "status", "organization_id", "member_id", "expires_at")
    op.drop_table("join_request")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("membership_review")
        batch_op.drop_column("origin")


def _create_indexes(table: str, *columns: str) -> None:
    """A plain index on each column, named `ix_<table>_<column>` as the models name them."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def _drop_indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
