"""The media pipeline: small idempotent steps keyed by asset id (seed 4.4)."""
