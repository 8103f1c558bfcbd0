"""voice profiles: a study's enrolled research-staff voices (sealed), slot voiceprints and match scores

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('voice_profiles',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('study', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('source_recording_id', sa.String(length=32), nullable=True),
    sa.Column('source_slot', sa.String(length=8), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('voice_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_profiles_study'), ['study'], unique=False)

    with op.batch_alter_table('speaker_slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voice', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('voice_match', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('speaker_slots', schema=None) as batch_op:
        batch_op.drop_column('voice_match')
        batch_op.drop_column('voice')

    with op.batch_alter_table('voice_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_profiles_study'))

    op.drop_table('voice_profiles')
