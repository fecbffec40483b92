"""Boundary import: real Seoul files in several CRSs, repairs, and every kind of bad input."""

import csv

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from sqlalchemy import func, select, text

from mapapp import jurisdictions
from mapapp.jurisdictions.models import Jurisdiction, JurisdictionPart
from tests.conftest import shared_data
from tests.factories import district, feature, polygon, square, write_geojson

GEOD = Geod(ellps="WGS84")


def _import_seoul(session, **kwargs):
    jurisdictions.create_jurisdiction(session, code="11", name_ko="서울특별시", name_en="Seoul", level="city")
    return jurisdictions.import_boundaries(
        session,
        path=shared_data("boundaries", "seoul_gu_2015.geojson"),
        level="district",
        code_field="SIG_CD",
        name_field="SIG_KOR_NM",
        name_en_field="SIG_ENG_NM",
        **kwargs,
    )


def test_real_seoul_districts_import_with_the_invalid_polygon_repaired(session):
    summary = _import_seoul(session)

    assert summary.imported == 25 and summary.features == 25
    assert summary.repaired == 1  # 강서구's self-intersecting ring
    assert summary.vertices >= 38_000
    assert summary.skipped == []
    invalid = session.scalar(
        select(func.count()).where(Jurisdiction.level == "district", ~func.ST_IsValid(Jurisdiction.geom))
    )
    assert invalid == 0
    gangseo = jurisdictions.get_jurisdiction_or_raise(session, code="11500")
    assert (gangseo.name_ko, gangseo.name_en) == ("강서구", "Gangseo-gu")
    # Every district hangs under the city, and the city's area is derived from them.
    city = jurisdictions.get_jurisdiction_or_raise(session, code="11")
    assert session.scalar(select(func.count()).where(Jurisdiction.parent_id == city.id)) == 25
    assert city.geom is not None
    # Subdivided parts are small: no part has more than 256 vertices.
    assert session.scalar(select(func.max(func.ST_NPoints(JurisdictionPart.geom)))) <= 256
    assert summary.parts > 25


def test_shapefile_in_epsg5174_lands_within_metres_of_the_wgs84_file():
    """The 2013 shapefile's .prj lacks the Korean 1985 datum shift; declaring EPSG:5174 puts it right."""
    crosswalk = {}
    with shared_data("boundaries", "seoul_gu_code_crosswalk.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            crosswalk[row["kostat_code_2013"]] = row["mois_sig_cd(juso2015,vuski sgg)"]
    reference, _ = jurisdictions.read_boundaries(
        shared_data("boundaries", "seoul_gu_2015.geojson"), code_field="SIG_CD", name_field="SIG_KOR_NM"
    )
    to_metres = Transformer.from_crs(4326, 5179, always_xy=True)

    def metres(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1])))

    borders = {f.code: metres(f.geom).boundary for f in reference}

    def median_offsets(source_crs):
        """Per district: the median distance (m) from the shapefile's vertices to the 2015 border."""
        features, summary = jurisdictions.read_boundaries(
            shared_data("boundaries", "projected", "seoul_municipalities.shp"),
            code_field="code",
            name_field="name",
            name_en_field="name_eng",
            source_crs=source_crs,
            encoding="cp949",
        )
        assert summary.features == 25
        assert all(f.name_ko.endswith("구") for f in features)  # CP949 names decoded
        return sorted(
            float(
                np.median(
                    shapely.distance(
                        shapely.points(shapely.get_coordinates(metres(f.geom))), borders[crosswalk[f.code]]
                    )
                )
            )
            for f in features
        )

    declared = median_offsets("EPSG:5174")
    naive = median_offsets(None)
    assert declared[12] < 10 and declared[-1] < 20, declared  # a few metres (2013 vs 2015 edits)
    assert naive[0] > 90, naive  # hundreds of metres off without the datum shift


def test_administrative_dong_import_finds_each_dong_its_district(session):
    _import_seoul(session)
    summary = jurisdictions.import_boundaries(
        session,
        path=shared_data("boundaries", "seoul_admin_dong_2021.geojson"),
        level="dong",
        code_field="adm_cd",
        name_field="adm_nm",
    )
    assert summary.imported == 425
    orphans = session.scalar(select(func.count()).where(Jurisdiction.level == "dong", Jurisdiction.parent_id.is_(None)))
    assert orphans == 0
    # Spatial parent matches the district named in the file (its 'sgg' attribute) for every dong.
    mismatched = session.execute(
        text(
            """
            SELECT count(*) FROM jurisdictions d JOIN jurisdictions p ON p.id = d.parent_id
            WHERE d.level = 'dong' AND p.name_ko <> split_part(d.name_ko, ' ', 2)
            """
        )
    ).scalar_one()
    assert mismatched == 0


def test_reimport_replaces_the_level_and_retires_missing_codes(session, tmp_path):
    first = write_geojson(
        tmp_path / "a.geojson",
        [district("A", "가구", square(127.0, 37.5, 0.01)), district("B", "나구", square(127.01, 37.5, 0.01))],
    )
    second = write_geojson(tmp_path / "b.geojson", [district("A", "가구2", square(127.0, 37.5, 0.02))])
    kw = dict(level="district", code_field="code", name_field="name", name_en_field="name_en")
    jurisdictions.import_boundaries(session, path=first, **kw)
    summary = jurisdictions.import_boundaries(session, path=second, **kw)

    assert summary.updated == ["A"] and summary.retired == ["B"]
    a = jurisdictions.get_jurisdiction_or_raise(session, code="A")
    assert a.name_ko == "가구2"
    parts = session.scalars(select(JurisdictionPart.code).where(JurisdictionPart.level == "district")).all()
    assert set(parts) == {"A"}


def _kw(**extra):
    return dict(level="district", code_field="code", name_field="name", name_en_field="name_en") | extra


BAD_INPUTS = {
    "no_geometry": ([feature({"code": "X", "name": "엑스", "name_en": "X"}, None)], "has no geometry"),
    "point": (
        [feature({"code": "X", "name": "엑스", "name_en": "X"}, {"type": "Point", "coordinates": [127, 37.5]})],
        "is a Point; a Polygon or MultiPolygon is needed",
    ),
    "line": (
        [
            feature(
                {"code": "X", "name": "엑스", "name_en": "X"},
                {"type": "LineString", "coordinates": [[127, 37.5], [127.1, 37.6]]},
            )
        ],
        "is a LineString",
    ),
    "empty_code": (
        [feature({"code": "", "name": "엑스", "name_en": "X"}, polygon(square(127, 37.5, 0.01)))],
        "the code field 'code' is empty",
    ),
    "empty_name": (
        [feature({"code": "X", "name": None, "name_en": "X"}, polygon(square(127, 37.5, 0.01)))],
        "the name field 'name' is empty",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_feature_fails_the_whole_import_naming_the_feature_and_changes_nothing(session, tmp_path, case):
    bad_features, expected = BAD_INPUTS[case]
    good = district("G", "좋은구", square(126.9, 37.5, 0.01))
    path = write_geojson(tmp_path / "bad.geojson", [good, *bad_features])

    with pytest.raises(jurisdictions.BoundaryFileError) as err:
        jurisdictions.import_boundaries(session, path=path, **_kw())

    assert "feature 2" in err.value.message and expected in err.value.message
    assert "nothing was changed" in err.value.message
    assert session.scalar(select(func.count()).select_from(Jurisdiction)) == 0


def test_skip_invalid_imports_the_good_features_and_lists_the_skipped(session, tmp_path):
    path = write_geojson(
        tmp_path / "mixed.geojson", [district("G", "좋은구", square(126.9, 37.5, 0.01)), BAD_INPUTS["point"][0][0]]
    )
    summary = jurisdictions.import_boundaries(session, path=path, **_kw(skip_invalid=True))
    assert summary.imported == 1
    assert len(summary.skipped) == 1 and "feature 2 (code=X)" in summary.skipped[0]


def test_a_file_that_is_not_a_vector_file_is_refused(session, tmp_path):
    path = tmp_path / "photo.geojson"
    path.write_bytes(b"\xff\xd8\xff\xe0 this is a JPEG, not GeoJSON")
    with pytest.raises(jurisdictions.BoundaryFileError, match="not a vector file"):
        jurisdictions.import_boundaries(session, path=path, **_kw())


def test_missing_field_names_the_field_and_lists_the_fields(session, tmp_path):
    path = write_geojson(tmp_path / "d.geojson", [district("G", "좋은구", square(126.9, 37.5, 0.01))])
    with pytest.raises(
        jurisdictions.BoundaryFileError, match=r"no field 'SIG_CD' \(--code-field\); its fields are: code"
    ):
        jurisdictions.import_boundaries(session, path=path, **_kw(code_field="SIG_CD"))


def test_unresolvable_crs_is_refused(session, tmp_path):
    path = write_geojson(tmp_path / "d.geojson", [district("G", "좋은구", square(126.9, 37.5, 0.01))])
    with pytest.raises(jurisdictions.BoundaryFileError, match="cannot resolve --source-crs 'EPSG:999999'"):
        jurisdictions.import_boundaries(session, path=path, **_kw(source_crs="EPSG:999999"))


def test_coordinates_out_of_range_after_reprojection_suggest_a_wrong_crs(session, tmp_path):
    # Korea 2000 / Unified CS metres read as if they were degrees.
    path = write_geojson(tmp_path / "d.geojson", [district("G", "좋은구", square(953277, 1952800, 500))])
    with pytest.raises(jurisdictions.BoundaryFileError, match=r"outside longitude -180\.\.180.*is the CRS right"):
        jurisdictions.import_boundaries(session, path=path, **_kw())


def test_projected_geojson_is_reprojected_from_its_declared_crs(session, tmp_path):
    # The same 500 m square in EPSG:5179 (x, y of a Jongno-gu point from the shared ground truth file).
    path = write_geojson(
        tmp_path / "d.geojson", [district("G", "좋은구", square(953277, 1952800, 500))], crs="EPSG:5179"
    )
    jurisdictions.import_boundaries(session, path=path, **_kw())
    lon, lat = session.execute(text("SELECT ST_XMin(geom), ST_YMin(geom) FROM jurisdictions WHERE code = 'G'")).one()
    assert GEOD.inv(lon, lat, 126.9708836, 37.5733899)[2] < 5


def test_failed_reimport_leaves_previous_boundaries(session, tmp_path):
    good = write_geojson(tmp_path / "good.geojson", [district("A", "가구", square(127.0, 37.5, 0.01))])
    bad = write_geojson(
        tmp_path / "bad.geojson", [district("A", "바뀐구", square(127.0, 37.5, 0.05)), BAD_INPUTS["no_geometry"][0][0]]
    )
    jurisdictions.import_boundaries(session, path=good, **_kw())
    with pytest.raises(jurisdictions.BoundaryFileError):
        jurisdictions.import_boundaries(session, path=bad, **_kw())
    assert jurisdictions.get_jurisdiction_or_raise(session, code="A").name_ko == "가구"


def test_a_shapefile_read_without_its_encoding_is_refused_with_the_fix_not_stored_as_mojibake():
    path = shared_data("boundaries", "projected", "seoul_municipalities.shp")
    with pytest.raises(jurisdictions.BoundaryFileError, match="pass --encoding cp949"):
        jurisdictions.read_boundaries(path, code_field="code", name_field="name", source_crs="EPSG:5174")
