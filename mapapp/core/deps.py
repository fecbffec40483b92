"""FastAPI dependencies shared by routers: the one session (and transaction) of a request, and the language
a page is answered in."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from mapapp.core import i18n, replica
from mapapp.core.db import read_transaction, transaction
from mapapp.core.settings import get_settings


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back if it raises."""
    with transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_public_read_session(request: Request) -> Iterator[Session]:
    """A public read (the same answer for everyone): from the streaming replica when it is fresh enough, else
    the primary; its answer may be cached by the proxy (mapapp.core.replica). Never for writes or staff reads."""
    request.scope.setdefault("state", {})[replica.PUBLIC_READ] = True
    with read_transaction(replica.read_url(request)) as session:
        yield session


PublicReadSessionDep = Annotated[Session, Depends(get_public_read_session)]


def page_locale(request: Request, lang: str | None) -> str:
    """A page's language: the query's `lang`, else the remembered cookie, else the browser's, else the city's."""
    return i18n.choose_locale(
        lang, request.cookies.get("lang"), request.headers.get("accept-language"), get_settings().default_locale
    )
