"""The pieces on their own: folding and hashtags, layer-file keywords checked at sync, the gazetteer file,
place names in text, and the channel commands."""

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mapapp.cli import app
from mapapp.core.db import transaction
from mapapp.intake import classify, gazetteer, locate, service
from mapapp.layers import service as layers


def test_folding_ignores_spacing_case_and_punctuation():
    assert classify.fold("가로 등이 나갔어요!!") == classify.fold("가로등이나갔어요")
    assert classify.fold("Street-Light") == "streetlight"
    assert classify.hashtags("물이 넘쳐요 #침수 #Flood! #seoul_flood") == {"#침수", "#flood", "#seoul_flood"}
    assert classify.language("Hapjeong-dong 가로등") == "ko" and classify.language("light out 😡") == "en"


def test_keywords_and_hashtags_in_layer_files_are_checked(tmp_path):
    (tmp_path / "flood.yaml").write_text(
        "slug: flood\nname: {ko: 침수, en: Flood}\nkind: disaster\nstate: inactive\nhashtags: ['침수']\n"
        "categories:\n  - slug: flooded-road\n    name: {ko: 침수, en: Flooded}\n    level: city\n"
        "    department: safety\n    response_hours: 2\n    color: '#1d4ed8'\n    icon: flood\n"
        "    keywords: {ko: ['침수'], en: [''], hashtags: ['#도로 침수']}\n",
        encoding="utf-8",
    )
    with pytest.raises(layers.LayerFileError) as err:
        layers.load_layer_files(tmp_path)
    message = err.value.message
    assert "flood.yaml: hashtags: a hashtag starts with '#'" in message
    assert "categories[0].keywords.en: a keyword must be 1 to 100 characters" in message
    assert "categories[0].keywords.hashtags: a hashtag starts with '#' and has no spaces" in message


def test_sync_writes_keywords_and_layer_hashtags(intake_db):
    with transaction() as session:
        keywords = session.execute(text("SELECT keywords FROM categories WHERE slug = 'streetlight-out'")).scalar()
        tags = session.execute(text("SELECT hashtags FROM layers WHERE slug = 'flood'")).scalar()
    assert "가로등" in keywords["ko"] and "streetlight" in keywords["en"] and "#가로등" in keywords["hashtags"]
    assert "#침수" in tags and "#flood" in tags


def test_evidence_names_the_words_found():
    vocabulary = classify.Vocabulary(
        (
            classify.CategoryTerms(
                "pothole", "facilities", True, "포트홀", "Pothole", ("포트홀", "pothole"), ("#포트홀",)
            ),
        )
    )
    found = classify.classify("도로에 포 트 홀 생겼어요 #포트홀", vocabulary, classify.NaiveBayes())
    assert found.category == "pothole" and found.evidence == ["포트홀", "#포트홀"]
    nothing = classify.classify("오늘 날씨 좋네요", vocabulary, classify.NaiveBayes())
    assert nothing.category is None and nothing.evidence == []


@pytest.mark.parametrize(
    ("message", "precision", "district"),
    [
        ("연남동 가로등", "dong", "11440"),
        ("Yeonnam-dong streetlight", "dong", "11440"),
        ("망원에서 포트홀", "district", "11440"),  # 망원1동 and 망원2동: only the district is sure
        ("합정역 앞 포트홀", "landmark", "11440"),
        ("테헤란로 포트홀", "district", "11680"),  # a road: an area, not a point
        ("강남구 신사동 가로등", "dong", "11680"),
        ("신사동 가로등", "none", None),  # three 신사동 in three districts
        ("올림픽대로 포트홀", "none", None),  # a road through many districts
        ("마포구청 앞인데 강남구 얘기는 아니고", "none", None),  # two districts named
        ("Jeongneung-dong fallen rocks", "district", "11290"),  # not Neung-dong inside it
        ("가로등 고장", "none", None),
    ],
)
def test_place_names_in_text(intake_db, message, precision, district):
    with transaction() as session:
        known = locate.gazetteer(session)
    where = locate.locate_text(message, known)
    assert where.precision == precision, where
    assert (known.district_codes.get(where.district_id) if where.district_id else None) == district


def test_a_bad_gazetteer_file_names_its_rows_and_changes_nothing(intake_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        'name,aliases,geometry\n망원시장,,POINT(126.90 37.556)\n,x,POINT(1 1)\n선,,"LINESTRING(0 0, 1 1)"\n'
        "망원시장,,POINT(1 1)\n먼곳,,POINT(500 37)\n",
        encoding="utf-8",
    )
    with pytest.raises(gazetteer.InvalidGazetteerFile) as err:
        gazetteer.read_csv(bad)
    assert err.value.details["problems"] == [
        "line 3: the name is empty",
        "line 4 (선): expected a point or a polygon, got LineString",
        "line 5: '망원시장' appears twice",
        "line 6 (먼곳): coordinates must be longitude and latitude (EPSG:4326)",
    ]
    run = CliRunner().invoke(app, ["gazetteer", "import", str(bad)])
    assert run.exit_code == 2 and "invalid_gazetteer_file" in run.output
    with transaction() as session:
        assert session.execute(text("SELECT count(*) FROM gazetteer_places WHERE name = '합정역'")).scalar() == 1
    lonlat = tmp_path / "lonlat.csv"
    lonlat.write_text("name,aliases,lon,lat\n합정역,Hapjeong Station,126.9139,37.5496\n", encoding="utf-8")
    assert [r.name for r in gazetteer.read_csv(lonlat)] == ["합정역"]


def test_channels_create_prints_the_key_once_and_refuses_a_second_channel_of_that_name(intake_db):
    run = CliRunner().invoke(app, ["channels", "create", "instagram", "--public-handles"])
    assert run.exit_code == 0, run.output
    key = run.output.split("API key for channel instagram: ")[1].split()[0]
    with transaction() as session:
        assert service.authenticate(session, key).name == "instagram"
        stored = session.execute(text("SELECT key_hash FROM intake_channels WHERE name = 'instagram'")).scalar()
    assert stored == service.key_digest(key) and key not in stored
    again = CliRunner().invoke(app, ["channels", "create", "instagram"])
    assert again.exit_code == 2 and "channel_exists" in again.output
    bad = CliRunner().invoke(app, ["channels", "create", "Bad Name"])
    assert bad.exit_code == 2 and "invalid_input" in bad.output
