"""Storage: roots (originals, read-only) and the sidecar cache (derivatives)."""
