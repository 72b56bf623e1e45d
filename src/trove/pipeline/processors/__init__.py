"""Built-in processors, one per module."""
