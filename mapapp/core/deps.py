"""FastAPI dependencies shared by routers: the one session (and transaction) of a request."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from mapapp.core.db import transaction


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises."""
    with transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
