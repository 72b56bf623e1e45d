"""Plugin system: pluggy hook specs and the plugin manager."""
