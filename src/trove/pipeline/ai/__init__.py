"""Offline image understanding (the optional `trove[ai]` extra): each capability is a media
processor registered through `register_media_processors` (`trove.pipeline.ai.plugin`) and
switched on by its own setting. Models load from files inside installed packages, once per
process, on first use; nothing is downloaded."""
