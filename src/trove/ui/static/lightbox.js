// The lightbox's hands (ui/components/viewer.py draws it, this moves it):
//
// * zoom with the wheel, a pinch or a double-click, and pan by dragging once zoomed. The stage
//   shows the large preview; zoomed past the preview's own pixels, the original is fetched (or
//   the web copy of an original browsers cannot show) and laid over the preview once decoded;
// * a swipe left/right steps, a swipe up/down opens/closes the inspector's bottom sheet (phones);
// * keys (listed in ui/shortcuts.py) reach Python whatever button has the focus;
// * the URL follows the open asset (`?asset=<id>`): opening pushes a history entry, stepping
//   replaces it, so Back closes the lightbox and Forward reopens it.
//
// Python tells it what is shown with `troveLightbox.show({...})`; it answers through NiceGUI's
// global events `trove_lightbox_step` and `trove_lightbox_history`.
(() => {
  const MAX_ZOOM = 12;
  const SWIPE_PX = 50;
  const state = {
    asset: null, // {id, full, width, height}
    scale: 1,
    x: 0,
    y: 0,
    fullRequested: false,
    drag: null,
    touch: null,
  };
  window.__troveLightbox = { shown: 0, sharp: 0, full: 0, fullUrl: null };

  const media = () => document.querySelector(".trove-viewer-media");
  const box = () => document.querySelector(".trove-viewer-media .trove-zoom");
  const phone = () => window.matchMedia("(max-width: 600px)").matches;

  function picture() {
    // The preview as shown: zoomable only when the stage is a picture (no player).
    const zoom = box();
    if (!zoom || zoom.querySelector("video, audio, .trove-viewer-placeholder")) return null;
    return zoom.querySelector("img:not(.trove-zoom-full)");
  }

  // --- what is shown ---------------------------------------------------------------------------

  function show(asset) {
    state.asset = asset;
    state.fullRequested = false;
    reset();
    const started = performance.now();
    window.__troveLightbox.shown += 1;
    window.__troveLightbox.shownAt = started;
    window.__troveLightbox.sharp = 0;
    window.__troveLightbox.fullUrl = null;
    followUrl(asset.id, asset.history);
    waitSharp(asset.id, started);
  }

  function waitSharp(id, started) {
    // "Sharp": the preview decoded and painted (what bench/ui.py times).
    const img = picture();
    if (!img) {
      if (performance.now() - started < 10000 && state.asset && state.asset.id === id) {
        requestAnimationFrame(() => waitSharp(id, started));
      }
      return;
    }
    const done = () => {
      if (!state.asset || state.asset.id !== id) return;
      requestAnimationFrame(() => {
        window.__troveLightbox.sharp = performance.now();
        window.__troveLightbox.sharpMs = performance.now() - started;
      });
    };
    if (img.complete && img.naturalWidth) img.decode().then(done, done);
    else img.addEventListener("load", () => img.decode().then(done, done), { once: true });
  }

  function reset() {
    state.scale = 1;
    state.x = 0;
    state.y = 0;
    apply();
  }

  function apply() {
    const zoom = box();
    if (!zoom) return;
    zoom.style.transform =
      state.scale === 1 ? "" : `translate(${state.x}px, ${state.y}px) scale(${state.scale})`;
    const m = media();
    if (m) m.classList.toggle("trove-zoomed", state.scale > 1);
    maybeLoadFull();
  }

  function fitWidth(img) {
    // The preview's painted width at scale 1 (object-fit: contain letterboxes it).
    if (!img.naturalWidth || !img.naturalHeight) return img.clientWidth;
    const ratio = Math.min(img.clientWidth / img.naturalWidth, img.clientHeight / img.naturalHeight);
    return ratio * img.naturalWidth;
  }

  function maybeLoadFull() {
    const img = picture();
    const asset = state.asset;
    if (!img || !asset || !asset.full || state.fullRequested || !img.naturalWidth) return;
    const shown = fitWidth(img) * state.scale * (window.devicePixelRatio || 1);
    if (shown <= img.naturalWidth * 1.02) return; // the preview still has the pixels
    if (asset.width && asset.width <= img.naturalWidth) return; // the original has no more
    state.fullRequested = true;
    const id = asset.id;
    const full = new Image();
    full.className = "trove-zoom-full";
    full.alt = "";
    full.draggable = false;
    full.src = asset.full;
    window.__troveLightbox.fullUrl = asset.full;
    full
      .decode()
      .then(() => {
        const now = picture();
        if (!state.asset || state.asset.id !== id || !now) return;
        // Over the preview, under the regions' SVG (it follows the <img> in the layer).
        Object.assign(full.style, {
          left: now.offsetLeft + "px",
          top: now.offsetTop + "px",
          width: now.offsetWidth + "px",
          height: now.offsetHeight + "px",
        });
        now.insertAdjacentElement("afterend", full);
        window.__troveLightbox.full = performance.now();
      })
      .catch(() => {
        state.fullRequested = false; // not decodable here: the preview stays
      });
  }

  // --- zoom and pan ------------------------------------------------------------------------------

  function origin() {
    const rect = box().getBoundingClientRect();
    return { left: rect.left - state.x, top: rect.top - state.y };
  }

  function zoomTo(scale, clientX, clientY) {
    const zoom = box();
    if (!zoom || !picture()) return;
    const next = Math.min(MAX_ZOOM, Math.max(1, scale));
    const o = origin();
    const px = clientX - o.left;
    const py = clientY - o.top;
    // Keep the point under the cursor (or between the fingers) where it is.
    state.x = px - ((px - state.x) / state.scale) * next;
    state.y = py - ((py - state.y) / state.scale) * next;
    state.scale = next;
    clamp();
    apply();
  }

  function panBy(dx, dy) {
    state.x += dx;
    state.y += dy;
    clamp();
    apply();
  }

  function clamp() {
    const zoom = box();
    if (state.scale <= 1 || !zoom) {
      state.scale = 1;
      state.x = 0;
      state.y = 0;
      return;
    }
    const w = zoom.offsetWidth;
    const h = zoom.offsetHeight;
    state.x = Math.min(0, Math.max(w - w * state.scale, state.x));
    state.y = Math.min(0, Math.max(h - h * state.scale, state.y));
  }

  function oneToOne() {
    // One pixel of the original per screen pixel; at least twice the fit.
    const img = picture();
    const width = (state.asset && state.asset.width) || (img && img.naturalWidth) || 0;
    const fit = img ? fitWidth(img) : 0;
    if (!width || !fit) return 2;
    return Math.max(2, width / (fit * (window.devicePixelRatio || 1)));
  }

  function onWheel(event) {
    if (!picture()) return;
    event.preventDefault();
    const speed = event.ctrlKey ? 0.01 : 0.0015; // a trackpad pinch arrives as ctrl+wheel
    zoomTo(state.scale * Math.exp(-event.deltaY * speed), event.clientX, event.clientY);
  }

  function onDoubleClick(event) {
    if (!picture()) return;
    event.preventDefault();
    if (state.scale > 1) reset();
    else zoomTo(oneToOne(), event.clientX, event.clientY);
  }

  function onPointerDown(event) {
    if (state.scale <= 1 || event.pointerType === "touch" || event.button !== 0) return;
    state.drag = { x: event.clientX, y: event.clientY };
    media().setPointerCapture(event.pointerId);
  }

  function onPointerMove(event) {
    if (!state.drag) return;
    panBy(event.clientX - state.drag.x, event.clientY - state.drag.y);
    state.drag = { x: event.clientX, y: event.clientY };
  }

  function onPointerUp() {
    state.drag = null;
  }

  function stopWhenZoomed(event) {
    // Zoomed, a drag pans: the regions layer under it must not start drawing a box.
    if (state.scale > 1) event.stopPropagation();
  }

  // --- touch: pinch, pan, swipe ------------------------------------------------------------------

  function distance(a, b) {
    return Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);
  }

  function onTouchStart(event) {
    const t = event.touches;
    if (t.length === 2) {
      state.touch = {
        pinch: distance(t[0], t[1]),
        scale: state.scale,
        moved: true,
      };
    } else if (t.length === 1) {
      state.touch = {
        x0: t[0].clientX,
        y0: t[0].clientY,
        x: t[0].clientX,
        y: t[0].clientY,
        at: performance.now(),
        scale: state.scale,
      };
    }
  }

  function onTouchMove(event) {
    const touch = state.touch;
    if (!touch) return;
    const t = event.touches;
    if (t.length === 2 && touch.pinch) {
      event.preventDefault();
      const midX = (t[0].clientX + t[1].clientX) / 2;
      const midY = (t[0].clientY + t[1].clientY) / 2;
      zoomTo((touch.scale * distance(t[0], t[1])) / touch.pinch, midX, midY);
    } else if (t.length === 1 && touch.x0 !== undefined) {
      event.preventDefault();
      if (state.scale > 1) panBy(t[0].clientX - touch.x, t[0].clientY - touch.y);
      touch.x = t[0].clientX;
      touch.y = t[0].clientY;
    }
  }

  function onTouchEnd(event) {
    const touch = state.touch;
    if (!touch || event.touches.length) return;
    state.touch = null;
    if (touch.x0 === undefined || touch.scale > 1 || performance.now() - touch.at > 1000) return;
    const dx = touch.x - touch.x0;
    const dy = touch.y - touch.y0;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) {
      emitEvent("trove_lightbox_step", { delta: dx < 0 ? 1 : -1 });
    } else if (Math.abs(dy) > SWIPE_PX && Math.abs(dy) > 1.5 * Math.abs(dx)) {
      setInfo(dy < 0); // up opens the sheet, down closes it
    }
  }

  // --- the inspector: beside the stage, or a bottom sheet on phones ---------------------------

  function setInfo(open) {
    // The default differs: beside the stage it is shown, as a sheet it starts closed.
    document.body.classList.toggle("trove-info-toggled", phone() ? open : !open);
  }

  function infoOpen() {
    const toggled = document.body.classList.contains("trove-info-toggled");
    return phone() ? toggled : !toggled;
  }

  function toggleInfo() {
    setInfo(!infoOpen());
  }

  function onSheetTouchStart(event) {
    const side = event.currentTarget;
    state.sheet = side.scrollTop <= 0 ? event.touches[0].clientY : null;
  }

  function onSheetTouchEnd(event) {
    if (state.sheet == null || !phone()) return;
    const dy = event.changedTouches[0].clientY - state.sheet;
    state.sheet = null;
    if (dy > SWIPE_PX) setInfo(false);
  }

  // --- the URL -----------------------------------------------------------------------------------

  function urlWith(id) {
    const url = new URL(window.location.href);
    if (id) url.searchParams.set("asset", id);
    else url.searchParams.delete("asset");
    return url.pathname + url.search + url.hash;
  }

  function followUrl(id, how) {
    const inLightbox = history.state && history.state.troveAsset;
    if (how === "direct") {
      // Opened from a link: the gallery goes under it, so Back lands there.
      history.replaceState({}, "", urlWith(null));
      history.pushState({ troveAsset: id }, "", urlWith(id));
    } else if (how === "push" && !inLightbox) {
      history.pushState({ troveAsset: id }, "", urlWith(id));
    } else if (how !== "none") {
      history.replaceState({ troveAsset: id }, "", urlWith(id));
    }
  }

  let ownBack = false; // the popstate of our own history.back() on closing: nothing to tell

  function closed() {
    state.asset = null;
    if (history.state && history.state.troveAsset) {
      ownBack = true;
      history.back();
    } else if (new URL(window.location.href).searchParams.has("asset")) {
      history.replaceState({}, "", urlWith(null));
    }
  }

  window.addEventListener("popstate", (event) => {
    if (ownBack) {
      ownBack = false;
      return;
    }
    const id = (event.state && event.state.troveAsset) || null;
    emitEvent("trove_lightbox_history", { asset: id });
  });

  // --- wiring: delegated, so a stage re-rendered by Python needs nothing ----------------------

  function on(type, handler, options) {
    document.addEventListener(
      type,
      (event) => {
        const m = media();
        if (m && m.contains(event.target)) handler(event);
      },
      options,
    );
  }

  on("wheel", onWheel, { passive: false });
  on("dblclick", onDoubleClick);
  on("pointerdown", onPointerDown);
  on("pointermove", onPointerMove);
  on("pointerup", onPointerUp);
  on("pointercancel", onPointerUp);
  on("mousedown", stopWhenZoomed, true);
  on("mouseup", stopWhenZoomed, true);
  on("touchstart", onTouchStart, { passive: true });
  on("touchmove", onTouchMove, { passive: false });
  on("touchend", onTouchEnd);
  on("touchcancel", () => (state.touch = null));
  document.addEventListener("touchstart", (event) => {
    const side = event.target.closest && event.target.closest(".trove-viewer-side");
    if (side) onSheetTouchStart({ currentTarget: side, touches: event.touches });
  }, { passive: true });
  document.addEventListener("touchend", (event) => {
    if (event.target.closest && event.target.closest(".trove-viewer-side")) onSheetTouchEnd(event);
  });
  // Keys: on the document, so a toolbar button that kept the focus does not swallow them (a
  // focused button would take Space as a click); never while typing in a field.
  const KEYS = new Set(["ArrowLeft", "ArrowRight", "Escape", " ", "f", "r", "z", "Delete",
    "0", "1", "2", "3", "4", "5"]);
  document.addEventListener("keydown", (event) => {
    if (!state.asset || !document.querySelector(".trove-viewer")) return;
    if (document.querySelector(".trove-editor")) return; // the editor over it has the keys
    if (event.ctrlKey || event.metaKey || event.altKey || !KEYS.has(event.key)) return;
    const t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (event.key === "z") {
      const m = media().getBoundingClientRect();
      onDoubleClick({ clientX: m.left + m.width / 2, clientY: m.top + m.height / 2, preventDefault() {} });
      return;
    }
    if (event.key === " " || event.key.startsWith("Arrow")) event.preventDefault();
    if (event.key === " ") event.stopPropagation();
    emitEvent("trove_lightbox_key", { key: event.key, repeat: event.repeat });
  }, true);

  window.addEventListener("resize", () => {
    if (state.scale > 1) reset();
  });

  window.troveLightbox = { show, closed, reset, toggleInfo, setInfo, infoOpen, zoomTo };
})();
