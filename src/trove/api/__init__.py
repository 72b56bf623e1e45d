"""REST API under /api/dam (seed section 6)."""
