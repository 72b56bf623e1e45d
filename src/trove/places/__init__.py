"""Places: reverse geocoding without the internet, and what the map shows."""
