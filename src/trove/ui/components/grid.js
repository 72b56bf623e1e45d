// AssetGrid: a virtualised, date-grouped grid of previews over the paginated assets API.
//
// Only the rows in (and just around) the viewport exist in the DOM, so 100,000 assets scroll
// like 100. Pages come from GET /api/dam/assets with its cursor as the user nears the end.
// Every string from a file is rendered through text interpolation or attribute bindings,
// never v-html. Tiles show the "small" preview only; never the original.

const HEADER_HEIGHT = 52;
const GAP = 4;
const POLL_MS = 3000;

function groupKey(item, grouping) {
  if (grouping === "none") return "all";
  const when = item.timeline_at || item.captured_at || "";
  return grouping === "day" ? when.slice(0, 10) : when.slice(0, 7);
}

// 0:07, 3:25, 1:02:03: a video's length as players write it (the probe step's duration).
function clockText(seconds) {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// The first tiles the server drew into the HTML (grid.py first_tiles_html), shown until this
// grid has drawn its own.
function dropFirstTiles() {
  const first = document.getElementById("trove-first-tiles");
  if (first) first.remove();
}

function groupLabel(key, grouping, heading) {
  if (grouping === "none") return heading;
  if (!key) return "Undated";
  const [y, m, d] = key.split("-").map(Number);
  const date = new Date(Date.UTC(y, (m || 1) - 1, d || 1));
  const options =
    grouping === "day"
      ? { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }
      : { month: "long", year: "numeric", timeZone: "UTC" };
  return date.toLocaleDateString(undefined, options);
}

export default {
  template: `
    <div class="trove-grid-frame">
    <div ref="scroller" class="trove-grid" :class="{ 'trove-grid-selecting': selectedCount > 0 }"
         @scroll.passive="onScroll">
      <div class="trove-grid-canvas" :style="{ height: canvasHeight + 'px' }">
        <template v-for="row in visibleRows" :key="row.key">
          <div v-if="row.kind === 'header'" class="trove-grid-header"
               :style="{ transform: 'translateY(' + row.top + 'px)', height: row.height + 'px' }">
            <button type="button" class="trove-grid-header-check" :aria-label="'Select ' + row.label"
                    @click="selectRange(row.start, row.end, !groupSelected(row))">
              <q-icon :name="groupSelected(row) ? 'check_circle' : 'radio_button_unchecked'" size="20px" />
            </button>
            <span class="trove-grid-header-label">{{ row.label }}</span>
            <span class="trove-grid-header-count">{{ row.end - row.start }}</span>
          </div>
          <div v-else class="trove-grid-row"
               :style="{ transform: 'translateY(' + row.top + 'px)', height: cell + 'px', gap: gap + 'px' }">
            <div v-for="item in rowItems(row)" :key="item.id" class="trove-tile"
                 :class="{ 'trove-tile-selected': isSelected(item.id), 'trove-tile-selecting': selectedCount > 0 }"
                 :style="{ width: cell + 'px', height: cell + 'px' }"
                 :data-id="item.id" :data-type="item.asset_type" :data-name="item.filename"
                 :title="item.title || item.filename"
                 @click="onTileClick($event, item)" @dblclick="onTileDoubleClick(item)">
              <img v-if="thumb(item)" :src="thumb(item)" loading="lazy" decoding="async"
                   :alt="item.title || item.filename" draggable="false" class="trove-tile-img" />
              <div v-else class="trove-tile-placeholder">
                <q-icon :name="icon(item)" size="40px" />
                <div class="trove-tile-name">{{ item.title || item.filename }}</div>
              </div>
              <div class="trove-tile-badges">
                <span v-if="clock(item)" class="trove-tile-duration">{{ clock(item) }}</span>
                <q-icon v-else-if="item.asset_type === 'video'" name="play_circle" size="22px" />
                <q-icon v-if="item.asset_type === 'audio'" name="graphic_eq" size="22px" />
                <q-icon v-if="item.status === 'processing'" name="hourglass_top" size="18px" />
                <q-icon v-if="item.status === 'missing' || item.status === 'offline'" name="cloud_off" size="18px" />
                <q-icon v-if="item.status === 'error'" name="error_outline" size="18px" />
                <q-icon v-if="item.meaning" name="auto_awesome" size="18px" class="trove-tile-meaning"
                        :aria-label="'Found by meaning'"><q-tooltip>Close in meaning to the search</q-tooltip></q-icon>
              </div>
              <button v-if="mode === 'browse'" type="button" class="trove-tile-heart"
                      :class="{ 'trove-tile-heart-on': item.favorite }"
                      :aria-label="(item.favorite ? 'Unmark favourite ' : 'Mark favourite ') + item.filename"
                      :aria-pressed="item.favorite ? 'true' : 'false'"
                      @click.stop="toggleFavorite(item)">
                <q-icon :name="item.favorite ? 'favorite' : 'favorite_border'" size="22px" />
              </button>
              <button v-if="mode === 'browse' && item.stack_count > 1" type="button" class="trove-tile-stack"
                      :aria-label="'Open the stack of ' + item.stack_count + ' copies'"
                      @click.stop="$emit('stack', { id: item.id, hash: item.hash })">
                <q-icon name="filter_none" size="16px" /><span>{{ item.stack_count }}</span>
              </button>
              <button type="button" class="trove-tile-check" :aria-label="'Select ' + item.filename"
                      @click.stop="onCheckClick($event, item)">
                <q-icon :name="isSelected(item.id) ? 'check_circle' : 'radio_button_unchecked'" size="24px" />
              </button>
            </div>
          </div>
        </template>
        <div v-if="!done" class="trove-grid-more" :style="{ transform: 'translateY(' + totalHeight + 'px)' }">
          <q-spinner size="28px" color="primary" />
        </div>
        <div v-if="done && count === 0" class="trove-grid-empty">
          <q-icon name="photo_library" size="64px" />
          <div class="text-h6">{{ error ? 'Could not load the gallery' : 'Nothing to show' }}</div>
          <div>{{ error || 'No assets match these filters. Add a library or drop files here to upload.' }}</div>
        </div>
      </div>
    </div>
    <div v-if="sticky" class="trove-grid-sticky" aria-hidden="true">{{ sticky.label }}</div>
    <div v-if="timeline" ref="rail" class="trove-rail" :class="{ 'trove-rail-dragging': dragging }" role="slider"
         aria-label="Timeline" :aria-valuetext="railLabel" tabindex="0"
         @pointerdown="onRailDown" @pointermove="onRailMove" @pointerup="onRailUp"
         @pointercancel="onRailUp" @keydown="onRailKey">
      <template v-for="mark in railMarks" :key="mark.key">
        <div v-if="mark.year" class="trove-rail-year" :style="{ top: mark.y + 'px' }">{{ mark.year }}</div>
        <div v-else class="trove-rail-dot" :class="{ 'trove-rail-undated': mark.undated }"
             :style="{ top: mark.y + 'px' }"></div>
      </template>
      <div v-if="railThumb !== null" class="trove-rail-thumb" :style="{ top: railThumb + 'px' }"></div>
      <div v-if="dragging && railLabel" class="trove-rail-label" :style="{ top: dragY + 'px' }">{{ railLabel }}</div>
    </div>
    </div>
  `,
  props: {
    api: { type: String, default: "/api/dam/assets" },
    query: { type: Object, default: () => ({}) },
    pagesize: { type: Number, default: 200 },
    grouping: { type: String, default: "month" },
    tile: { type: Number, default: 180 },
    // The months of the whole listing (GET /api/dam/timeline), for the scrubber rail.
    timeline: { type: String, default: "" },
    // Asset type -> icon of a tile without a preview (each driver's get_preview_logic).
    icons: { type: Object, default: () => ({}) },
    // "browse": a click opens (the gallery). "one" / "many": a click selects (one tile, or
    // toggles it among many) and a double-click picks the tile at once (the asset picker).
    mode: { type: String, default: "browse" },
    sort: { type: String, default: "-timeline_at" },
    // The one heading of grouping "none".
    heading: { type: String, default: "" },
    // The first page, rendered into the page's HTML ({query, sort, items, next_cursor}): the
    // first tiles show without waiting for a request. Used once, and only for its own query.
    initial: { type: Object, default: null },
  },
  data() {
    return {
      scrollTop: 0,
      viewHeight: 800,
      width: 800,
      cols: 4,
      cell: 180,
      gap: GAP,
      totalHeight: 0,
      version: 0,
      selVersion: 0,
      count: 0,
      done: false,
      error: "",
      months: [],
      undated: 0,
      dragging: false,
      dragKey: null,
      dragY: 0,
    };
  },
  computed: {
    canvasHeight() {
      return this.totalHeight + (this.done ? 0 : 80);
    },
    selectedCount() {
      this.selVersion; // dependency
      return this.selected.size;
    },
    sticky() {
      // The group the top of the view is in, once its own header has scrolled away.
      this.version; // dependency
      const headers = this.headers;
      if (!headers || !headers.length || this.scrollTop <= 0) return null;
      let lo = 0;
      let hi = headers.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (headers[mid].top <= this.scrollTop) lo = mid;
        else hi = mid - 1;
      }
      const header = headers[lo];
      return header.top + header.height <= this.scrollTop ? header : null;
    },
    railSegments() {
      // Each month's share of the rail is its share of the grid's height once laid out.
      const rowHeight = this.cell + GAP;
      const weigh = (count) => HEADER_HEIGHT + Math.ceil(count / this.cols) * rowHeight;
      const parts = this.months.map((m) => ({ key: m.month, weight: weigh(m.count) }));
      if (this.undated) parts.push({ key: "", weight: weigh(this.undated) });
      const total = parts.reduce((sum, p) => sum + p.weight, 0) || 1;
      const height = Math.max(1, this.viewHeight - 16);
      let at = 0;
      return parts.map((p) => {
        const y = 8 + (at / total) * height;
        at += p.weight;
        return { key: p.key, y, end: 8 + (at / total) * height };
      });
    },
    railMarks() {
      const marks = [];
      let lastYearY = -Infinity;
      let lastYear = null;
      for (const segment of this.railSegments) {
        const year = segment.key.slice(0, 4);
        if (segment.key && year !== lastYear && segment.y - lastYearY >= 16) {
          marks.push({ key: "y" + segment.key, y: segment.y, year });
          lastYearY = segment.y;
        } else {
          marks.push({ key: "m" + segment.key, y: segment.y, undated: !segment.key });
        }
        lastYear = segment.key ? year : lastYear;
      }
      return marks;
    },
    railThumb() {
      const key = this.dragging ? this.dragKey : this.currentMonth;
      if (key === null || key === undefined) return null;
      const segment = this.railSegments.find((s) => s.key === key);
      return segment ? segment.y : null;
    },
    currentMonth() {
      const header = this.sticky || (this.headers && this.headers[0]);
      return header ? header.groupKey.slice(0, 7) : null;
    },
    railLabel() {
      const key = this.dragging ? this.dragKey : this.currentMonth;
      if (key === null || key === undefined) return "";
      return groupLabel(key, "month");
    },
    visibleRows() {
      this.version; // dependency: items or layout changed
      const rows = this.rows;
      if (!rows.length) return [];
      const top = this.scrollTop - this.viewHeight;
      const bottom = this.scrollTop + 2 * this.viewHeight;
      let lo = 0;
      let hi = rows.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (rows[mid].top + rows[mid].height < top) lo = mid + 1;
        else hi = mid;
      }
      const out = [];
      for (let i = lo; i < rows.length && rows[i].top <= bottom; i++) out.push(rows[i]);
      return out;
    },
  },
  watch: {
    query: {
      handler(now, before) {
        // NiceGUI sends the element's props again once the page connects: the same filters
        // must not throw away the tiles the page came with.
        if (JSON.stringify(now) === JSON.stringify(before)) return;
        this.reset();
      },
      deep: true,
    },
    grouping() {
      this.relayout();
    },
    sort() {
      this.reset();
    },
  },
  created() {
    // Plain, non-reactive state: 100,000 reactive proxies would cost more than the grid.
    this.items = [];
    this.index = new Map();
    this.rows = [];
    this.headers = [];
    this.selected = new Set();
    this.anchor = null;
    this.cursor = null;
    this.loading = null;
    this.generation = 0;
    this.checked = new Set();
    this.seeded = false;
  },
  mounted() {
    this.observer = new ResizeObserver(() => this.measure());
    this.observer.observe(this.$refs.scroller);
    this.measure();
    this.reset();
    this.poller = setInterval(() => this.pollPreviews(), POLL_MS);
    // Ctrl+A (trove.js): select every loaded tile of the grid on screen.
    this.onSelectAll = (event) => {
      if (this.mode === "one" || !this.$refs.scroller || !this.$refs.scroller.offsetParent) return;
      this.selectAll();
      event.detail.handled = true;
    };
    document.addEventListener("trove:select-all", this.onSelectAll);
  },
  unmounted() {
    document.removeEventListener("trove:select-all", this.onSelectAll);
    this.observer.disconnect();
    clearInterval(this.poller);
  },
  methods: {
    // --- data -------------------------------------------------------------------------------
    params() {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(this.query || {})) {
        if (value === null || value === undefined || value === "") continue;
        if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
        else params.append(key, value);
      }
      return params;
    },
    loadTimeline(generation) {
      // After the first page: the month counts run over the whole listing, the tiles do not.
      if (!this.timeline || generation !== this.generation) return;
      fetch(this.timeline + "?" + this.params().toString(), { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .then((body) => {
          if (!body || generation !== this.generation) return;
          this.months = body.months;
          this.undated = body.undated;
        })
        .catch(() => {});
    },
    url(cursor, limit) {
      const params = this.params();
      params.set("sort", this.sort);
      params.set("limit", String(limit || this.pagesize));
      if (cursor) params.set("cursor", cursor);
      return this.api + "?" + params.toString();
    },
    reset() {
      this.generation += 1;
      this.items = [];
      this.index = new Map();
      this.cursor = null;
      this.loading = null;
      this.done = false;
      this.error = "";
      this.count = 0;
      this.checked = new Set();
      this.clearSelection();
      if (this.$refs.scroller) this.$refs.scroller.scrollTop = 0;
      this.scrollTop = 0;
      this.months = [];
      this.undated = 0;
      this.relayout();
      const generation = this.generation;
      const seed = this.takeInitial();
      if (!seed) dropFirstTiles(); // drawn for another query than this one
      const first = seed ? this.received(seed, 0) : this.loadMore();
      return first.then(() => this.loadTimeline(generation));
    },
    takeInitial() {
      const initial = this.initial;
      if (!initial || this.seeded) return null;
      this.seeded = true;
      const same = JSON.stringify(initial.query) === JSON.stringify(this.query) && initial.sort === this.sort;
      return same ? initial : null;
    },
    reload() {
      return this.reset().then(() => this.count);
    },
    loadMore(limit) {
      if (this.done) return Promise.resolve();
      if (this.loading) return this.loading;
      const generation = this.generation;
      const started = performance.now();
      this.loading = fetch(this.url(this.cursor, limit), { headers: { Accept: "application/json" } })
        .then((response) => {
          if (!response.ok) return response.json().then((body) => Promise.reject(new Error(body.detail || response.statusText)));
          return response.json();
        })
        .then((page) => {
          if (generation !== this.generation) return;
          this.loading = null;
          return this.received(page, performance.now() - started);
        })
        .catch((err) => {
          if (generation !== this.generation) return;
          this.loading = null;
          this.done = true;
          this.error = String(err.message || err);
          dropFirstTiles();
          this.$emit("loaded", { count: this.count, done: true, error: this.error });
        });
      return this.loading;
    },
    received(page, ms) {
      this.append(page.items || []);
      this.cursor = page.next_cursor;
      this.done = !page.next_cursor;
      window.__troveGrid = { pages: (window.__troveGrid?.pages || 0) + 1, lastPageMs: ms, count: this.count };
      this.$emit("loaded", { count: this.count, done: this.done });
      return this.$nextTick(() => {
        dropFirstTiles(); // this grid's own tiles are drawn now
        if (!window.__troveFirstPaint && this.count > 0) window.__troveFirstPaint = performance.now();
        this.maybeLoadMore();
      });
    },
    maybeLoadMore() {
      if (!this.done && !this.loading && this.scrollTop + 3 * this.viewHeight > this.totalHeight) {
        this.loadMore();
      }
    },
    append(newItems) {
      for (const item of newItems) {
        if (this.index.has(item.id)) continue;
        this.index.set(item.id, this.items.length);
        this.items.push(item);
      }
      this.count = this.items.length;
      this.extendLayout();
    },
    // --- layout -----------------------------------------------------------------------------
    measure() {
      const el = this.$refs.scroller;
      if (!el) return;
      this.viewHeight = el.clientHeight || 800;
      const width = el.clientWidth - 16;
      const target = width < 600 ? Math.min(this.tile, 124) : this.tile;
      const cols = Math.max(3, Math.floor((width + GAP) / (target + GAP)));
      const cell = Math.floor((width - (cols - 1) * GAP) / cols);
      if (cols !== this.cols || cell !== this.cell || width !== this.width) {
        this.width = width;
        this.cols = cols;
        this.cell = cell;
        this.relayout();
      }
    },
    relayout() {
      this.rows = [];
      this.headers = [];
      this.totalHeight = 0;
      this.layoutCount = 0;
      this.currentGroup = null;
      this.extendLayout();
    },
    extendLayout() {
      // Adds rows for items not laid out yet; the last group's last row may grow.
      const rows = this.rows;
      const rowHeight = this.cell + GAP;
      for (let i = this.layoutCount; i < this.items.length; i++) {
        const key = groupKey(this.items[i], this.grouping);
        const last = rows[rows.length - 1];
        const group = this.currentGroup;
        if (!last || !group || group.groupKey !== key) {
          const header = {
            kind: "header", key: "h" + i, groupKey: key, label: groupLabel(key, this.grouping, this.heading),
            top: this.totalHeight, height: HEADER_HEIGHT, start: i, end: i + 1,
          };
          rows.push(header);
          this.headers.push(header);
          this.currentGroup = header;
          this.totalHeight += HEADER_HEIGHT;
          rows.push({ kind: "row", key: "r" + i, top: this.totalHeight, height: rowHeight, start: i, end: i + 1 });
          this.totalHeight += rowHeight;
        } else {
          group.end = i + 1;
          if (last.end - last.start >= this.cols) {
            rows.push({ kind: "row", key: "r" + i, top: this.totalHeight, height: rowHeight, start: i, end: i + 1 });
            this.totalHeight += rowHeight;
          } else {
            last.end = i + 1;
          }
        }
      }
      if (this.items.length === 0) this.currentGroup = null;
      this.layoutCount = this.items.length;
      this.version += 1;
    },
    rowItems(row) {
      return this.items.slice(row.start, row.end);
    },
    onScroll() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = null;
        this.scrollTop = this.$refs.scroller.scrollTop;
        this.maybeLoadMore();
      });
    },
    // --- the scrubber rail -------------------------------------------------------------------
    railKeyAt(clientY) {
      const box = this.$refs.rail.getBoundingClientRect();
      const y = clientY - box.top;
      const segments = this.railSegments;
      if (!segments.length) return null;
      for (const segment of segments) if (y < segment.end) return segment.key;
      return segments[segments.length - 1].key;
    },
    onRailDown(event) {
      if (!this.railSegments.length) return;
      this.$refs.rail.setPointerCapture(event.pointerId);
      this.dragging = true;
      this.onRailMove(event);
    },
    onRailMove(event) {
      if (!this.dragging) return;
      const box = this.$refs.rail.getBoundingClientRect();
      this.dragY = Math.max(0, Math.min(box.height, event.clientY - box.top));
      const key = this.railKeyAt(event.clientY);
      if (key === this.dragKey) return;
      this.dragKey = key;
      const header = this.findHeader(key);
      if (header) this.$refs.scroller.scrollTop = header.top; // loaded already: follow at once
    },
    onRailUp(event) {
      if (!this.dragging) return;
      this.dragging = false;
      const key = this.dragKey;
      this.dragKey = null;
      if (event.type !== "pointercancel" && key !== null) this.jumpTo(key);
    },
    onRailKey(event) {
      // ↓/PageDown: the next older month, ↑/PageUp: the next newer, Home/End: the ends.
      const keys = this.railSegments.map((segment) => segment.key);
      if (!keys.length) return;
      const at = Math.max(0, keys.indexOf(this.currentMonth));
      const moves = { ArrowDown: at + 1, PageDown: at + 1, ArrowUp: at - 1, PageUp: at - 1, Home: 0, End: keys.length - 1 };
      if (!(event.key in moves)) return;
      event.preventDefault();
      this.jumpTo(keys[Math.max(0, Math.min(keys.length - 1, moves[event.key]))]);
    },
    findHeader(monthKey) {
      const headers = this.headers || [];
      if (monthKey === "") return headers.find((h) => h.groupKey === "") || null;
      return headers.find((h) => h.groupKey && h.groupKey.startsWith(monthKey)) || null;
    },
    async jumpTo(monthKey) {
      // Pages load in timeline order: a month not reached yet is reached by loading on, in
      // large pages, until its header is laid out.
      const generation = this.generation;
      for (;;) {
        if (generation !== this.generation) return false;
        const header = this.findHeader(monthKey);
        if (header) {
          this.$refs.scroller.scrollTop = header.top;
          this.scrollTop = header.top;
          return true;
        }
        if (this.done) return false;
        await this.loadMore(1000);
      }
    },
    scrollToItem(id) {
      const i = this.index.get(id);
      if (i === undefined) return;
      const row = this.rows.find((r) => r.kind === "row" && r.start <= i && i < r.end);
      if (!row) return;
      const el = this.$refs.scroller;
      if (row.top < el.scrollTop || row.top + row.height > el.scrollTop + el.clientHeight) {
        el.scrollTop = Math.max(0, row.top - el.clientHeight / 3);
      }
    },
    // --- tiles ------------------------------------------------------------------------------
    thumb(item) {
      const t = item.thumbnails;
      return (t && (t.small || t.medium)) || null;
    },
    clock(item) {
      return item.asset_type === "video" && item.duration > 0 ? clockText(item.duration) : "";
    },
    icon(item) {
      return this.icons[item.asset_type] || "insert_drive_file";
    },
    onTileClick(event, item) {
      if (this.mode === "one") {
        this.selectOnly(item);
        return;
      }
      if (this.mode === "many") {
        this.onCheckClick(event, item);
        return;
      }
      if (event.shiftKey || event.ctrlKey || event.metaKey || this.selected.size > 0) {
        this.onCheckClick(event, item);
        return;
      }
      this.preload(item); // the lightbox will show it: fetch while the server builds the stage
      this.$emit("open", { id: item.id });
    },
    preload(item) {
      const url = item && item.thumbnails && item.thumbnails.large;
      if (!url) return;
      const image = new Image();
      image.decoding = "async";
      image.src = url;
    },
    onTileDoubleClick(item) {
      if (this.mode !== "browse") this.$emit("pick", { id: item.id });
    },
    selectOnly(item) {
      this.selected.clear();
      this.selected.add(item.id);
      this.anchor = item.id;
      this.selectionChanged();
    },
    onCheckClick(event, item) {
      if (this.mode === "one") {
        this.selectOnly(item);
        return;
      }
      const i = this.index.get(item.id);
      if (event.shiftKey && this.anchor !== null && this.index.has(this.anchor)) {
        const a = this.index.get(this.anchor);
        this.selectRange(Math.min(a, i), Math.max(a, i) + 1, true);
      } else {
        if (this.selected.has(item.id)) this.selected.delete(item.id);
        else this.selected.add(item.id);
        this.selectionChanged();
      }
      this.anchor = item.id;
    },
    toggleFavorite(item) {
      // The heart answers at once; the server's answer (or a failure) settles it.
      const wanted = !item.favorite;
      this.patchItems([{ id: item.id, favorite: wanted }]);
      fetch(this.api + "/" + encodeURIComponent(item.id), {
        method: "PATCH",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ favorite: wanted }),
      })
        .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
        .then((asset) => {
          this.patchItems([{ id: asset.id, favorite: asset.favorite, rating: asset.rating }]);
          this.$emit("favorite", { id: asset.id, favorite: asset.favorite });
        })
        .catch(() => this.patchItems([{ id: item.id, favorite: !wanted }]));
    },
    // --- selection --------------------------------------------------------------------------
    isSelected(id) {
      this.selVersion; // dependency
      return this.selected.has(id);
    },
    groupSelected(row) {
      this.selVersion; // dependency
      for (let i = row.start; i < row.end; i++) if (!this.selected.has(this.items[i].id)) return false;
      return true;
    },
    selectRange(start, end, on) {
      for (let i = start; i < end; i++) {
        if (on) this.selected.add(this.items[i].id);
        else this.selected.delete(this.items[i].id);
      }
      this.selectionChanged();
    },
    selectAll() {
      this.selectRange(0, this.items.length, true);
      return this.selected.size;
    },
    clearSelection() {
      this.selected.clear();
      this.anchor = null;
      this.selectionChanged();
    },
    selectedIds() {
      return Array.from(this.selected);
    },
    selectionChanged() {
      this.selVersion += 1;
      this.$emit("selection", { count: this.selected.size, loaded: this.items.length });
    },
    // --- edits from the page ----------------------------------------------------------------
    patchItems(patches) {
      for (const patch of patches) {
        const i = this.index.get(patch.id);
        if (i !== undefined) this.items[i] = { ...this.items[i], ...patch };
      }
      this.version += 1;
    },
    addTags(ids, tags) {
      for (const id of ids) {
        const i = this.index.get(id);
        if (i === undefined) continue;
        const merged = Array.from(new Set([...(this.items[i].tags || []), ...tags])).sort();
        this.items[i] = { ...this.items[i], tags: merged };
      }
      this.version += 1;
    },
    removeItems(ids) {
      const gone = new Set(ids);
      const kept = this.items.filter((item) => !gone.has(item.id));
      this.items = kept;
      this.index = new Map(kept.map((item, i) => [item.id, i]));
      for (const id of ids) this.selected.delete(id);
      this.count = kept.length;
      this.relayout();
      this.selectionChanged();
      this.$emit("loaded", { count: this.count, done: this.done });
    },
    async neighbour(id, delta) {
      let i = this.index.get(id);
      if (i === undefined) return null;
      while (i + delta >= this.items.length && !this.done) {
        await this.loadMore();
        i = this.index.get(id);
      }
      const next = this.items[i + delta];
      if (!next) return null;
      this.preload(next);
      this.preload(this.items[i + 2 * delta]); // the step after, already on its way
      this.scrollToItem(next.id);
      return next.id;
    },
    // --- previews that are not made yet -----------------------------------------------------
    async pollPreviews() {
      if (document.hidden) return;
      const waiting = [];
      for (const row of this.visibleRows) {
        if (row.kind !== "row") continue;
        for (const item of this.rowItems(row)) {
          if (this.thumb(item) || item.asset_type === "collection") continue;
          const pending = item.status === "processing" || item.status === "uploading";
          // Listings without a thumbnails field: look at each visible item's detail once.
          const unknown = item.thumbnails === undefined && !this.checked.has(item.id);
          if (pending || unknown) waiting.push(item.id);
        }
      }
      if (!waiting.length) return;
      const generation = this.generation;
      const fresh = await Promise.all(
        waiting.slice(0, 24).map((id) =>
          fetch(this.api + "/" + encodeURIComponent(id))
            .then((r) => (r.ok ? r.json() : null))
            .catch(() => null),
        ),
      );
      if (generation !== this.generation) return;
      waiting.slice(0, 24).forEach((id) => this.checked.add(id));
      const patches = fresh
        .filter((a) => a)
        .map((a) => ({ id: a.id, status: a.status, thumbnails: a.thumbnails || {}, title: a.title, tags: a.tags }));
      if (patches.length) this.patchItems(patches);
    },
  },
};
