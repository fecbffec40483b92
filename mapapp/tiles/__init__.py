"""Vector tiles of reports: points at street zooms, maintained aggregates below, with HTTP caching."""
