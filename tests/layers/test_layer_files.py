"""Layers as data: the shipped files, clear errors for typos, and syncing into the database."""

from pathlib import Path

import pytest
from sqlalchemy import select

from mapapp.layers import service as layers
from mapapp.layers.models import Category, Layer
from tests.conftest import PROJECT

GOOD = """\
slug: {slug}
name: {{ko: 시험, en: Test}}
kind: disaster
state: inactive
categories:
  - slug: {category}
    name: {{ko: 분류, en: Category}}
    level: district
    department: safety
    response_hours: 6
    color: "#0284c7"
    icon: drain
"""


def write(directory: Path, slug: str, body: str) -> Path:
    path = directory / f"{slug}.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_the_shipped_layer_files_define_the_three_layers_and_their_categories():
    definitions = {d.slug: d for d in layers.load_layer_files(PROJECT / "layers")}
    assert set(definitions) == {"facilities", "flood", "slope"}
    assert definitions["facilities"].kind == "everyday" and definitions["facilities"].state == "active"
    for slug in ("flood", "slope"):
        assert definitions[slug].kind == "disaster" and definitions[slug].state == "inactive"
        assert definitions[slug].banner is not None
    categories = {c.slug for d in definitions.values() for c in d.categories}
    assert {
        "streetlight-out",
        "traffic-signal-fault",
        "damaged-sidewalk",
        "manhole-cover",
        "bus-stop-error",
        "pothole",
        "illegal-dumping",
        "blocked-storm-drain",
        "flooded-road",
        "overflowing-manhole",
        "retaining-wall-crack",
        "landslide-risk",
        "fallen-rocks",
    } <= categories
    for d in definitions.values():
        for c in d.categories:
            assert c.name.ko and c.name.en and c.response_hours > 0 and c.color.startswith("#")


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            GOOD.replace("level: district", "levle: district"),
            "test.yaml: categories[0].levle: unknown key; expected one of: also_on, color, department, icon, keywords,",
        ),
        (
            GOOD.replace("level: district", "level: distrct"),
            "test.yaml: categories[0].level: Input should be 'city' or 'district' (got 'distrct')",
        ),
        (
            GOOD.replace("kind: disaster", "kind: emergency"),
            "test.yaml: kind: Input should be 'everyday' or 'disaster' (got 'emergency')",
        ),
        (GOOD.replace('color: "#0284c7"', "color: blue"), "categories[0].color: expected a colour like '#1d4ed8'"),
        (
            GOOD.replace("    response_hours: 6\n", ""),
            "test.yaml: categories[0].response_hours: required key is missing",
        ),
        (
            GOOD.replace("response_hours: 6", "response_hours: soon"),
            "categories[0].response_hours: Input should be a valid integer",
        ),
        ("slug: [unclosed", "test.yaml: not valid YAML"),
        ("- just\n- a list\n", "test.yaml: expected a mapping"),
    ],
)
def test_a_typo_names_the_file_the_key_and_what_was_expected(tmp_path, body, expected):
    write(tmp_path, "test", body.format(slug="test", category="drain"))
    with pytest.raises(layers.LayerFileError) as err:
        layers.load_layer_files(tmp_path)
    assert expected in err.value.message, err.value.message


def test_file_name_and_slug_must_agree(tmp_path):
    write(tmp_path, "flood", GOOD.format(slug="floods", category="drain"))
    with pytest.raises(layers.LayerFileError, match=r"flood\.yaml: slug: expected 'flood'"):
        layers.load_layer_files(tmp_path)


def test_a_category_slug_defined_by_two_layers_is_refused(tmp_path):
    write(tmp_path, "one", GOOD.format(slug="one", category="drain"))
    write(tmp_path, "two", GOOD.format(slug="two", category="drain"))
    with pytest.raises(layers.LayerFileError, match="category 'drain' is defined in both one and two"):
        layers.load_layer_files(tmp_path)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(layers.LayerFileError, match="no layer files"):
        layers.load_layer_files(tmp_path)


def test_sync_creates_updates_keeps_the_runtime_state_and_retires_dropped_categories(session, tmp_path):
    write(tmp_path, "test", GOOD.format(slug="test", category="drain"))
    first = layers.sync_layers(session, layers.load_layer_files(tmp_path))
    assert first.created == ["test"] and first.categories_created == ["drain"]

    layer = layers.get_layer_or_raise(session, slug="test")
    layer.state = "active"  # the city activated it at run time
    write(tmp_path, "test", GOOD.format(slug="test", category="culvert").replace("시험", "시험2"))
    second = layers.sync_layers(session, layers.load_layer_files(tmp_path))

    assert second.updated == ["test"] and second.categories_retired == ["drain"]
    layer = session.scalar(select(Layer).where(Layer.slug == "test"))
    assert layer.state == "active" and layer.name_ko == "시험2"
    assert session.scalar(select(Category.retired).where(Category.slug == "drain")) is True
    with pytest.raises(layers.UnknownCategory):
        layers.get_category_or_raise(session, slug="drain")
    assert layers.get_category_or_raise(session, slug="culvert").layer_id == layer.id


def test_archiving_in_the_file_archives_the_layer(session, tmp_path):
    write(tmp_path, "test", GOOD.format(slug="test", category="drain"))
    layers.sync_layers(session, layers.load_layer_files(tmp_path))
    write(tmp_path, "test", GOOD.format(slug="test", category="drain").replace("state: inactive", "state: archived"))
    layers.sync_layers(session, layers.load_layer_files(tmp_path))
    assert layers.get_layer_or_raise(session, slug="test").state == "archived"


def test_also_on_must_name_a_layer(tmp_path):
    write(tmp_path, "test", GOOD.format(slug="test", category="drain") + "    also_on: [volcano]\n")
    with pytest.raises(layers.LayerFileError, match=r"drain\.also_on: no layer 'volcano'"):
        layers.load_layer_files(tmp_path)
