"""Jurisdictions: boundary import and the city / district / dong hierarchy."""

from mapapp.jurisdictions.service import (
    BoundaryFileError,
    ImportSummary,
    JurisdictionNotFound,
    boundaries_summary,
    create_jurisdiction,
    get_jurisdiction_or_raise,
    import_boundaries,
    read_boundaries,
    rebuild_parts,
)

__all__ = [
    "BoundaryFileError",
    "ImportSummary",
    "JurisdictionNotFound",
    "boundaries_summary",
    "create_jurisdiction",
    "get_jurisdiction_or_raise",
    "import_boundaries",
    "read_boundaries",
    "rebuild_parts",
]
