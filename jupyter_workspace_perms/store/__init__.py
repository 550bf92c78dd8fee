"""Storage: SQLAlchemy models, Alembic migrations, the snapshot loader and writer."""

from .store import PolicyStore
from .writer import PolicyWriter

__all__ = ["PolicyStore", "PolicyWriter"]
