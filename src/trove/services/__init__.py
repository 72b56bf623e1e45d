"""Services: the only orchestration. Entry points make one call into one of these."""
