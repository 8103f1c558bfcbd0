"""library index on anonymised transcripts

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('anonymised_transcripts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('participant_ref', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('speaker_labels', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('anonymised_transcripts', schema=None) as batch_op:
        batch_op.drop_column('speaker_labels')
        batch_op.drop_column('participant_ref')
