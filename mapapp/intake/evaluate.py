"""How well the classifier and the locator do on labelled messages: precision and recall, and the decisions.

Used by tests/intake/test_accuracy.py (which holds the figures at a floor), bench/intake.py and
`mapapp intake evaluate` (a city tuning its keywords sees the effect at once). Nothing is written.
"""

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.intake import classify as classifier
from mapapp.intake import locate, service


@dataclass(frozen=True)
class Figures:
    messages: int
    classifier_precision: float  # of the messages given a category, how many got a right one
    classifier_recall: float  # of the messages that report a problem, how many got a right category
    no_problem_precision: float  # of the messages called "no problem", how many were
    locator_precision: float  # of the messages put in a district, how many in the right one
    locator_recall: float  # of the messages that name a place, how many were put in its district
    wrong_district: int  # messages that name a place put in another district
    routed: int  # confident and located: routed with no person
    routed_correct: float  # of those, right category (and right district when one was named)
    triage_share: float  # of the messages that report a problem, the share left to a person
    no_problem: int  # confidently "no problem": no report

    def as_dict(self) -> dict[str, Any]:
        """For JSON and printing."""
        return asdict(self)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 1.0


def evaluate(session: Session, rows: list[dict[str, Any]], *, threshold: float | None = None) -> Figures:
    """Classify and locate each labelled row as intake would, and compare with its labels."""
    vocabulary = service.vocabulary(session)
    places = locate.gazetteer(session)
    model = service.model()
    cut = get_settings().intake_threshold if threshold is None else threshold
    given = right = problems = found_right = none_said = none_right = 0
    located = located_right = named = named_right = wrong = 0
    routed = routed_right = triage = no_problem = 0
    for row in rows:
        expected = row.get("categories") or ([row["category"]] if row.get("category") else [])
        district = row.get("district")
        found = classifier.classify(row["text"], vocabulary, model)
        where = locate.locate_text(row["text"], places)
        code = places.district_codes.get(where.district_id) if where.district_id else None
        ok = found.category in expected if found.category else not expected
        if found.category:
            given += 1
            right += ok
        else:
            none_said += 1
            none_right += ok
        if expected:
            problems += 1
            found_right += bool(found.category) and ok
        if code is not None and district:
            located += 1
            located_right += code == district
        if district:
            named += 1
            named_right += code == district
        category = vocabulary.category(found.category) if found.category else None
        confident = found.confidence >= cut
        if found.category is None and confident:
            no_problem += 1
            continue
        if confident and category is not None and category.layer_active and where.located:
            routed += 1
            routed_right += ok and (not district or code == district)
            wrong += bool(district) and code != district
        elif expected:
            triage += 1
    return Figures(
        messages=len(rows),
        classifier_precision=_ratio(right, given),
        classifier_recall=_ratio(found_right, problems),
        no_problem_precision=_ratio(none_right, none_said),
        locator_precision=_ratio(located_right, located),
        locator_recall=_ratio(named_right, named),
        wrong_district=wrong,
        routed=routed,
        routed_correct=_ratio(routed_right, routed),
        triage_share=_ratio(triage, problems),
        no_problem=no_problem,
    )


def labelled(split: str | None = None) -> list[dict[str, Any]]:
    """The shipped labelled messages, or one part of them ('train', 'test')."""
    rows = classifier.read_examples(classifier.LABELLED)
    return [r for r in rows if split is None or r.get("split") == split]
