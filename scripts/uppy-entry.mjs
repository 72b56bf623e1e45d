// The uploader's libraries, bundled by scripts/vendor-js.sh into one file the page loads:
// Uppy's core, its Dashboard (file list with progress, pause, resume, retry) and its TUS
// uploader. Trove's own wiring is src/trove/ui/static/uploader.js.
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';

window.TroveUppy = { Uppy, Dashboard, Tus };
