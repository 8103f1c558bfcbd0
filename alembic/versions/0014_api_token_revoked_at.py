"""api tokens: when a token was revoked, so a sweep can delete it a set time later

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-14
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tokens revoked before this column existed get no guessed time here: the first sweep stamps them with its own
    # (service clock), so they are kept the full period from then on and never deleted early.
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
