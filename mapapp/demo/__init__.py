"""Demo data made by the project: a city outline, 25 districts, offices, layers and reports."""

from mapapp.demo.service import DemoSummary, has_data, load_demo

__all__ = ["DemoSummary", "has_data", "load_demo"]
