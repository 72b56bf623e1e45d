"""A test plugin for the pipeline pool tests: it loads in the scanning process but refuses to
load in a worker process, as a plugin missing there would."""

from __future__ import annotations

import multiprocessing

if multiprocessing.parent_process() is not None:
    raise RuntimeError("this plugin refuses to load in a worker process")
