"""One error class per code, and every code explained in Korean and English."""

import importlib
import pkgutil
from collections import defaultdict

import mapapp
from mapapp.core.errors import DomainError
from mapapp.core.i18n import ERRORS


def every_error_class() -> list[type[DomainError]]:
    """DomainError and all its subclasses, after importing every module of the package."""
    for module in pkgutil.walk_packages(mapapp.__path__, "mapapp."):
        importlib.import_module(module.name)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_each_code_belongs_to_one_class():
    classes = defaultdict(set)
    for cls in every_error_class():
        classes[cls.code].add(f"{cls.__module__}.{cls.__qualname__}")
    shared = {code: sorted(names) for code, names in classes.items() if len(names) > 1}
    assert shared == {}, f"codes with more than one class (so more than one status or meaning): {shared}"


def test_every_code_has_korean_and_english_text():
    codes = {cls.code for cls in every_error_class()}
    missing = sorted(c for c in codes if not (ERRORS.get(c, {}).get("ko") and ERRORS.get(c, {}).get("en")))
    assert missing == [], f"error codes without Korean and English text in mapapp.core.i18n.ERRORS: {missing}"


def test_the_framework_errors_use_the_codes_of_our_classes():
    from mapapp.app import _HTTP_CODES

    codes = {cls.code for cls in every_error_class()}
    assert set(_HTTP_CODES.values()) <= codes
