"""Demo data: Seoul's real districts and dong (shipped simplified, see NOTICE), offices, layers and reports."""

from mapapp.demo.service import DemoSummary, has_data, load_demo, refuse_foreign_data

__all__ = ["DemoSummary", "has_data", "load_demo", "refuse_foreign_data"]
