"""recording attachments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recording_attachments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('recording_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_attachments_recording_id'), ['recording_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recording_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_attachments_recording_id'))

    op.drop_table('recording_attachments')
