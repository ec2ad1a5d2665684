"""match.announced_at: whether the managers were told of a proposal

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("match", sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True))
    # What the old code announced counts as announced: every decided match and the proposals
    # of full rounds. Proposals made when a contact posted were never announced; their
    # managers hear of them with the first notice after the upgrade.
    op.execute(
        "UPDATE match SET announced_at = created_at WHERE status <> 'proposed' "
        "OR round_id IN (SELECT id FROM match_round WHERE mode = 'full')"
    )


def downgrade() -> None:
    with op.batch_alter_table("match") as batch:
        batch.drop_column("announced_at")
