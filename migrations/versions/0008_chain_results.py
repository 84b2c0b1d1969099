"""Summaries of closed activities per workshop, for the results across a value chain

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'chain_stamp',
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('stamp', sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_chain_stamp_workshop_id_workshop'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workshop_id', 'kind', name=op.f('pk_chain_stamp')),
    )
    op.create_table(
        'chain_gap_cell',
        sa.Column('dim', sa.String(length=8), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('gap_id', sa.Integer(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_chain_gap_cell_workshop_id_workshop'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('dim', 'workshop_id', 'part', 'gap_id', name=op.f('pk_chain_gap_cell')),
    )
    op.create_table(
        'chain_rank_cell',
        sa.Column('dim', sa.String(length=8), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('data', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshop.id'], name=op.f('fk_chain_rank_cell_workshop_id_workshop'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('dim', 'workshop_id', 'part', name=op.f('pk_chain_rank_cell')),
    )


def downgrade() -> None:
    op.drop_table('chain_rank_cell')
    op.drop_table('chain_gap_cell')
    op.drop_table('chain_stamp')
