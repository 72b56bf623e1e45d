// AlbumGrid: an album's assets in album order, a page at a time from
// GET /api/dam/albums/{id}/assets, reordered by drag and drop.
//
// A drop puts the dragged tile before the tile under the pointer (after it on its right half)
// and tells Python the new index ("reorder"); the server keeps the order, this keeps the view.
// Every string from a file goes through text interpolation or attribute bindings, never v-html.

const ICONS = { image: "image", video: "movie", audio: "audiotrack", document: "description" };

export default {
  template: `
    <div class="trove-album-grid-wrap">
      <div class="trove-album-grid" role="list">
        <div v-for="(item, index) in items" :key="item.id" role="listitem"
             class="trove-album-tile"
             :class="{ 'trove-album-tile-dragging': dragId === item.id,
                       'trove-drop-before': dropIndex === index && dropAfter === false,
                       'trove-drop-after': dropIndex === index && dropAfter === true }"
             :data-id="item.id" :data-name="item.filename" :data-index="index"
             :title="item.title || item.filename" draggable="true"
             @dragstart="onDragStart($event, item)" @dragend="onDragEnd"
             @dragover.prevent="onDragOver($event, index)" @drop.prevent="onDrop($event, index)"
             @click="$emit('open', { id: item.id })">
          <img v-if="thumb(item)" :src="thumb(item)" loading="lazy" decoding="async"
               :alt="item.title || item.filename" draggable="false" class="trove-tile-img" />
          <div v-else class="trove-tile-placeholder">
            <q-icon :name="icon(item)" size="40px" />
            <div class="trove-tile-name">{{ item.title || item.filename }}</div>
          </div>
          <div v-if="item.id === cover" class="trove-album-cover-badge">
            <q-icon name="star" size="16px" /> Cover
          </div>
          <div class="trove-album-tile-actions">
            <button type="button" class="trove-album-tile-action" :aria-label="'Make ' + item.filename + ' the cover'"
                    title="Set as cover" @click.stop="$emit('cover', { id: item.id })">
              <q-icon name="star_outline" size="20px" />
            </button>
            <button type="button" class="trove-album-tile-action" :aria-label="'Remove ' + item.filename + ' from the album'"
                    title="Remove from album" @click.stop="remove(item)">
              <q-icon name="remove_circle_outline" size="20px" />
            </button>
          </div>
        </div>
      </div>
      <div ref="sentinel" class="trove-album-more">
        <q-spinner v-if="!done" size="28px" color="primary" />
      </div>
      <div v-if="done && items.length === 0" class="trove-grid-empty trove-album-empty">
        <q-icon name="photo_album" size="64px" />
        <div class="text-h6">{{ error ? 'Could not load the album' : 'This album is empty' }}</div>
        <div>{{ error || 'Select photos in Photos, then “Add to album”.' }}</div>
      </div>
    </div>
  `,
  props: {
    api: { type: String, required: true },
    cover: { type: String, default: "" },
    pagesize: { type: Number, default: 200 },
  },
  emits: ["open", "reorder", "cover", "remove", "loaded"],
  data() {
    return { items: [], done: false, error: "", dragId: null, dropIndex: -1, dropAfter: null };
  },
  mounted() {
    this.cursor = null;
    this.loading = null;
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    });
    this.observer.observe(this.$refs.sentinel);
    this.loadMore();
  },
  unmounted() {
    this.observer.disconnect();
  },
  methods: {
    async loadMore() {
      if (this.done || this.loading) return this.loading;
      const params = new URLSearchParams({ limit: String(this.pagesize) });
      if (this.cursor) params.set("cursor", this.cursor);
      this.loading = (async () => {
        try {
          const response = await fetch(this.api + "?" + params.toString());
          const body = await response.json();
          if (!response.ok) throw new Error(body.detail || response.statusText);
          this.items.push(...body.items);
          this.cursor = body.next_cursor;
          this.done = !body.next_cursor;
        } catch (err) {
          this.error = String(err.message || err);
          this.done = true;
        } finally {
          this.loading = null;
          this.$emit("loaded", { count: this.items.length, done: this.done });
        }
      })();
      return this.loading;
    },
    reload() {
      this.items = [];
      this.cursor = null;
      this.done = false;
      this.error = "";
      this.loadMore();
    },
    thumb(item) {
      const t = item.thumbnails || {};
      return t.small || t.medium || null;
    },
    icon(item) {
      return ICONS[item.asset_type] || "insert_drive_file";
    },
    remove(item) {
      this.items = this.items.filter((i) => i.id !== item.id);
      this.$emit("remove", { ids: [item.id] });
    },
    setCover(id) {
      this.$emit("cover", { id });
    },
    // --- drag and drop ----------------------------------------------------------------------
    onDragStart(event, item) {
      this.dragId = item.id;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.id);
    },
    onDragEnd() {
      this.dragId = null;
      this.dropIndex = -1;
      this.dropAfter = null;
    },
    onDragOver(event, index) {
      if (!this.dragId) return;
      const rect = event.currentTarget.getBoundingClientRect();
      this.dropIndex = index;
      this.dropAfter = event.clientX > rect.left + rect.width / 2;
    },
    onDrop(event, index) {
      const id = this.dragId || event.dataTransfer.getData("text/plain");
      const from = this.items.findIndex((i) => i.id === id);
      const rect = event.currentTarget.getBoundingClientRect();
      const after = event.clientX > rect.left + rect.width / 2;
      this.onDragEnd();
      if (from < 0) return;
      let to = index + (after ? 1 : 0);
      if (from < to) to -= 1;
      if (to === from) return;
      const [moved] = this.items.splice(from, 1);
      this.items.splice(to, 0, moved);
      this.$emit("reorder", { id, position: to });
    },
    // --- what the lightbox and Python ask ----------------------------------------------------
    neighbour(id, delta) {
      const at = this.items.findIndex((i) => i.id === id);
      const next = this.items[at + delta];
      return next ? next.id : null;
    },
    order() {
      return this.items.map((i) => i.id);
    },
    patchItems(patches) {
      for (const patch of patches) {
        const item = this.items.find((i) => i.id === patch.id);
        if (item) Object.assign(item, patch);
      }
    },
  },
};
