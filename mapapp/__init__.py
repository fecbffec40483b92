"""mapapp: a community hazard-reporting map for a city and its districts."""

__version__ = "0.1.0"
