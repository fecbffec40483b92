from sqlalchemy import text


def test_postgis_is_installed_in_the_test_database(session):
    assert session.execute(text("SELECT postgis_lib_version()")).scalar_one().startswith("3.")
