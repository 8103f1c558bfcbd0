"""speaker slots and hints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('speaker_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.String(length=32), nullable=False),
    sa.Column('slot', sa.String(length=8), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('merged_into', sa.String(length=8), nullable=True),
    sa.Column('guessed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('recording_id', 'slot')
    )
    with op.batch_alter_table('speaker_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speaker_slots_recording_id'), ['recording_id'], unique=False)

    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('num_speakers', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('min_speakers', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_speakers', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_column('max_speakers')
        batch_op.drop_column('min_speakers')
        batch_op.drop_column('num_speakers')

    with op.batch_alter_table('speaker_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speaker_slots_recording_id'))

    op.drop_table('speaker_slots')
