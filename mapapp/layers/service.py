"""Loading layer files, synchronising them into the database, and reading layers back."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.orm import Session

from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import Conflict, DomainError, InvalidInput
from mapapp.layers.models import Category, Department, Layer, LayerEvent
from mapapp.layers.schemas import LayerDefinition
from mapapp.layers.state import effective_state_sql


class LayerFileError(DomainError):
    """One or more layer files do not match the expected shape."""

    code = "invalid_layer_file"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid layer files:\n  " + "\n  ".join(problems), problems=problems)
        self.problems = problems


# A layer or category slug that names nothing is a bad value, wherever it was sent (a form field, a path,
# a CLI argument): 422, one class per code.
class UnknownLayer(InvalidInput):
    code = "unknown_layer"


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class LayerInactive(Conflict):
    code = "layer_inactive"


@dataclass
class SyncSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    categories_created: list[str] = field(default_factory=list)
    categories_retired: list[str] = field(default_factory=list)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at `loc`, for an 'unknown key' message."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = current.model_fields[part].annotation
        args = getattr(annotation, "__args__", ()) or (annotation,)
        current = next(a for a in args if isinstance(a, type) and issubclass(a, BaseModel))
    return sorted(current.model_fields)


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        expected = ", ".join(_known_keys(LayerDefinition, loc))
        return f"{_location(loc)}: unknown key; expected one of: {expected}"
    if error["type"] == "missing":
        return f"{_location(loc)}: required key is missing"
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
    return f"{_location(loc)}: {error['msg'].removeprefix('Value error, ')}{shown}"


def load_layer_files(directory: Path) -> list[LayerDefinition]:
    """Read and validate every layers/*.yaml file; all problems are reported together."""
    files = sorted(directory.glob("*.y*ml"))
    if not files:
        raise LayerFileError([f"{directory}: no layer files (*.yaml) found"])
    problems: list[str] = []
    definitions: list[LayerDefinition] = []
    for path in files:
        name = f"{directory.name}/{path.name}"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{name}: not valid YAML: {exc}")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{name}: expected a mapping with slug, name, kind, state, categories")
            continue
        try:
            definition = LayerDefinition.model_validate(raw)
        except ValidationError as exc:
            problems.extend(f"{name}: {_describe(dict(e))}" for e in exc.errors())
            continue
        if definition.slug != path.stem:
            problems.append(f"{name}: slug: expected {path.stem!r} (the file name), got {definition.slug!r}")
        definitions.append(definition)
    owners: dict[str, str] = {}
    for definition in definitions:
        for category in definition.categories:
            if category.slug in owners:
                problems.append(
                    f"category {category.slug!r} is defined in both {owners[category.slug]} and {definition.slug}"
                )
            owners[category.slug] = definition.slug
    named: dict[str, tuple[str, str, str]] = {}
    for definition in definitions:
        for slug, names in definition.departments.items():
            if slug in named and named[slug][1:] != (names.ko, names.en):
                problems.append(f"department {slug!r} is named differently in {named[slug][0]} and {definition.slug}")
            named[slug] = (definition.slug, names.ko, names.en)
    slugs = {d.slug for d in definitions}
    for definition in definitions:
        for category in definition.categories:
            for other in category.also_on:
                if other not in slugs:
                    problems.append(f"{definition.slug}.yaml: categories: {category.slug}.also_on: no layer {other!r}")
    if problems:
        raise LayerFileError(problems)
    return definitions


def sync_layers(session: Session, definitions: list[LayerDefinition]) -> SyncSummary:
    """Create or update layers and categories from their definitions.

    A layer's state is taken from the file only when the layer is created or the file archives it:
    activation is an operational decision made at run time, and a sync must not undo it.
    """
    summary = SyncSummary()
    layers = {layer.slug: layer for layer in session.scalars(select(Layer))}
    categories = {category.slug: category for category in session.scalars(select(Category))}
    defined: set[str] = set()
    for definition in definitions:
        layer = layers.get(definition.slug)
        if layer is None:
            layer = Layer(slug=definition.slug, state=definition.state)
            session.add(layer)
            summary.created.append(definition.slug)
        elif definition.state == "archived":
            layer.state = "archived"
        layer.name_ko, layer.name_en = definition.name.ko, definition.name.en
        layer.kind = definition.kind
        layer.sort_order = definition.sort_order
        layer.style = definition.style.model_dump()
        layer.banner_ko = definition.banner.ko if definition.banner else None
        layer.banner_en = definition.banner.en if definition.banner else None
        layer.source_file = f"layers/{definition.slug}.yaml"
        layer.hashtags = list(definition.hashtags)
        changed = layer in layers.values() and session.is_modified(layer)
        session.flush()
        for order, item in enumerate(definition.categories):
            defined.add(item.slug)
            category = categories.get(item.slug)
            if category is None:
                category = Category(slug=item.slug)
                session.add(category)
                summary.categories_created.append(item.slug)
            category.layer_id = layer.id
            category.name_ko, category.name_en = item.name.ko, item.name.en
            category.level, category.department = item.level, item.department
            category.response_hours = item.response_hours
            category.color, category.icon = item.color, item.icon
            category.nearby_radius_m = item.nearby_radius_m
            category.also_on = list(item.also_on)
            if not item.hold_photos:
                category.photo_approval_since = None
            elif category.photo_approval_since is None:  # photos stored from now on wait for approval
                category.photo_approval_since = datetime.now(UTC)
            category.keywords = item.keywords.model_dump() if item.keywords else {}
            category.sort_order = order
            category.retired = False
            changed = changed or (category.slug in categories and session.is_modified(category))
        if changed and definition.slug not in summary.created:
            summary.updated.append(definition.slug)
    _sync_departments(session, definitions)
    for slug, category in categories.items():
        if slug not in defined and not category.retired:
            category.retired = True
            summary.categories_retired.append(slug)
    session.flush()
    return summary


def _sync_departments(session: Session, definitions: list[LayerDefinition]) -> None:
    """The department names of the files; a department no file names any more keeps its last name."""
    stored = {d.slug: d for d in session.scalars(select(Department))}
    for definition in definitions:
        for slug, names in definition.departments.items():
            department = stored.get(slug) or Department(slug=slug)
            department.name_ko, department.name_en = names.ko, names.en
            if slug not in stored:
                session.add(department)
                stored[slug] = department


def department_names(session: Session, *, locale: str) -> dict[str, str]:
    """Department slug -> its name in `locale`; a department no file names is absent (shown by its slug)."""
    return {d.slug: d.name_ko if locale == "ko" else d.name_en for d in session.scalars(select(Department))}


def get_layer_or_raise(session: Session, *, slug: str) -> Layer:
    """The layer with this slug, or UnknownLayer."""
    layer = session.scalar(select(Layer).where(Layer.slug == slug))
    if layer is None:
        raise UnknownLayer(f"there is no layer {slug!r}", layer=slug)
    return layer


def get_category_or_raise(session: Session, *, slug: str) -> Category:
    """The category with this slug, or UnknownCategory."""
    category = session.scalar(select(Category).where(Category.slug == slug, Category.retired.is_(False)))
    if category is None:
        raise UnknownCategory(f"there is no category {slug!r}", category=slug)
    return category


def list_layers(session: Session, *, states: tuple[str, ...] = ("active",)) -> list[Layer]:
    """Layers whose effective state is one of `states`, in display order (past its end time is inactive)."""
    state: ColumnElement[str] = literal_column(effective_state_sql(Layer.__tablename__))
    return list(session.scalars(select(Layer).where(state.in_(states)).order_by(Layer.sort_order, Layer.slug)))


def _check_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only city administrators switch disaster layers")


def activate_layer(
    session: Session,
    *,
    actor: Actor,
    slug: str,
    banner_ko: str | None = None,
    banner_en: str | None = None,
    until: datetime | None = None,
) -> Layer:
    """Open a disaster layer for reports, with an optional banner and end time (the map picks it up)."""
    _check_admin(actor)
    layer = get_layer_or_raise(session, slug=slug)
    if layer.kind != "disaster":
        raise Conflict(f"{slug!r} is an everyday layer; only disaster layers are switched on and off")
    if layer.state == "archived":
        raise Conflict(f"{slug!r} is archived")
    if until is not None and until.tzinfo is None:
        raise InvalidInput("the end time needs a timezone", field="until")
    if until is not None and until <= datetime.now(UTC):
        raise InvalidInput("the end time is in the past", field="until")
    layer.state = "active"
    layer.active_until = until
    if banner_ko or banner_en:
        layer.banner_ko, layer.banner_en = banner_ko or banner_en, banner_en or banner_ko
    note = f"until {until.isoformat()}" if until else ""
    session.add(LayerEvent(layer_id=layer.id, kind="activated", actor=actor.email, note=note))
    session.flush()
    return layer


def deactivate_layer(session: Session, *, actor: Actor, slug: str) -> Layer:
    """Close a disaster layer: its reports stay, read-only; no new ones are taken."""
    _check_admin(actor)
    layer = get_layer_or_raise(session, slug=slug)
    if layer.kind != "disaster":
        raise Conflict(f"{slug!r} is an everyday layer; only disaster layers are switched on and off")
    layer.state, layer.active_until = "inactive", None
    session.add(LayerEvent(layer_id=layer.id, kind="deactivated", actor=actor.email, note=""))
    session.flush()
    return layer


def list_categories(session: Session, *, layer_id: int | None = None) -> list[Category]:
    """Current categories, of one layer or all, in display order."""
    query = select(Category).where(Category.retired.is_(False))
    if layer_id is not None:
        query = query.where(Category.layer_id == layer_id)
    return list(session.scalars(query.order_by(Category.layer_id, Category.sort_order)))
