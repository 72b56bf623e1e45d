// Trove's uploader: Uppy's Dashboard (a modal listing each file with its progress, pause,
// resume and retry) sending files to the resumable TUS endpoint. The vendored bundle
// (window.TroveUppy, scripts/uppy-entry.mjs, ~390 KB with its CSS) is loaded the first time
// the uploader opens, not with every page: it is no part of a page's first paint.
//
// A file is shown done (✓) only on the server's answer to its last PATCH, which comes once the
// file is stored and registered; a refusal or a broken connection shows it red, and the page
// is told (trove_upload_failed) to say why in a notification. tus-js-client keeps each
// upload's URL in localStorage: the same file added again after a reload or a server restart
// continues where it stopped.
(function () {
  'use strict';
  const ENDPOINT = '/api/dam/uploads/tus/';
  // Beside this script: <static>/uploader.js -> <static>/vendor/.
  const VENDOR = new URL('vendor/', document.currentScript.src).href;
  let uppy = null;
  let loading = null;

  function loadBundle() {
    if (window.TroveUppy) return Promise.resolve();
    if (!loading) {
      const css = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: VENDOR + 'uppy.min.css' });
      document.head.append(css);
      loading = new Promise((resolve, reject) => {
        const script = Object.assign(document.createElement('script'), { src: VENDOR + 'uppy.min.js' });
        script.onload = resolve;
        script.onerror = () => {
          loading = null; // another try at the next open
          script.remove();
          reject(new Error('the uploader could not be loaded'));
        };
        document.head.append(script);
      });
    }
    return loading;
  }

  function reason(error, response) {
    const original = error && error.originalResponse;
    const status = original ? original.getStatus() : response && response.status;
    const body = original ? original.getBody() : response && response.body;
    try {
      const detail = JSON.parse(body).detail;
      if (typeof detail === 'string' && detail) return detail;
    } catch (_) { /* not JSON: fall through */ }
    if (!status) return 'the connection to the server failed';
    return `the server answered ${status}`;
  }

  function create() {
    const { Uppy, Dashboard, Tus } = window.TroveUppy;
    uppy = new Uppy({ id: 'trove', autoProceed: true })
      .use(Dashboard, {
        inline: false,
        closeModalOnClickOutside: true,
        proudlyDisplayPoweredByUppy: false,
        showProgressDetails: true,
        hideProgressAfterFinish: false,
        note: 'Files go into your upload folder. Large files can be paused and resumed.',
      })
      .use(Tus, {
        endpoint: ENDPOINT,
        // Each PATCH is at most this big: what the server has recorded survives a restart.
        chunkSize: 32 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000],
        removeFingerprintOnSuccess: true,
        withCredentials: true,
      });
    uppy.on('file-added', (file) => {
      const modified = file.data && file.data.lastModified;
      uppy.setFileMeta(file.id, { modified: modified ? String(modified) : '' });
    });
    uppy.on('upload-success', (file, response) => {
      const id = (response.uploadURL || '').split('/').pop();
      emitEvent('trove_upload_stored', { name: file.name, id: id });
    });
    uppy.on('upload-error', (file, error, response) => {
      emitEvent('trove_upload_failed', { name: file ? file.name : '', reason: reason(error, response) });
    });
    return uppy;
  }

  window.troveUploader = {
    async open(destination) {
      try {
        await loadBundle();
      } catch (error) {
        emitEvent('trove_upload_failed', { name: '', reason: error.message });
        return;
      }
      const instance = uppy || create();
      instance.setMeta({ root_id: destination || '' });
      instance.getPlugin('Dashboard').openModal();
    },
    get uppy() { return uppy; },
  };
})();
