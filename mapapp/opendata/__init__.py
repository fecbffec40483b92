"""Open data: the public fields of reports as CSV and GeoJSON, filtered like the map, streamed."""
