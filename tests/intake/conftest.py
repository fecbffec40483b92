"""The demo city with its gazetteer, both disaster layers on (the labelled set has flood and slope messages)."""

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from mapapp.core.db import transaction
from mapapp.intake import gazetteer
from mapapp.intake.cli import DEMO_GAZETTEER


@pytest.fixture(scope="module")
def intake_db(demo_db: str) -> Iterator[str]:
    with transaction() as session:
        gazetteer.import_gazetteer(session, gazetteer.read_csv(DEMO_GAZETTEER))
        session.execute(text("UPDATE layers SET state = 'active' WHERE kind = 'disaster'"))
    yield demo_db
