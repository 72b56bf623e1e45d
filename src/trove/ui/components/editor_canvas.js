// The editor's picture (drawn by the server, services/edits.py) and, while cropping, the crop
// box over it: drag inside to move, drag a corner to resize, kept to `ratio` (width / height
// in pixels; 0 = free). The box is [x, y, w, h] in fractions of the picture, sent back as a
// `crop` event whenever a drag ends or the ratio changes: Python holds the edit list.
export default {
  template: `
    <div class="trove-edit-canvas">
      <div class="trove-edit-frame" ref="frame">
        <img :src="src" ref="img" class="trove-edit-img" alt="" draggable="false" @load="loaded" />
        <div v-if="cropping" class="trove-crop-shade"></div>
        <div v-if="cropping" class="trove-crop-box" :style="boxStyle" @pointerdown="start($event, 'move')">
          <span v-for="c in corners" :key="c" :class="'trove-crop-handle trove-crop-' + c"
                @pointerdown.stop="start($event, c)"></span>
        </div>
      </div>
    </div>`,
  props: {
    src: { type: String, default: "" },
    cropping: { type: Boolean, default: false },
    box: { type: Array, default: () => [0, 0, 1, 1] },
    ratio: { type: Number, default: 0 },
  },
  data() {
    return { current: [...this.box], aspect: 1, drag: null, corners: ["nw", "ne", "sw", "se"] };
  },
  computed: {
    boxStyle() {
      const [x, y, w, h] = this.current;
      const pc = (v) => `${(v * 100).toFixed(3)}%`;
      return { left: pc(x), top: pc(y), width: pc(w), height: pc(h) };
    },
  },
  watch: {
    box(value) {
      this.current = [...value];
    },
    ratio() {
      this.fitRatio();
    },
    cropping(on) {
      if (on && this.ratio) this.fitRatio();
    },
  },
  methods: {
    loaded() {
      const img = this.$refs.img;
      if (img && img.naturalHeight) this.aspect = img.naturalWidth / img.naturalHeight;
    },
    // The largest box of the chosen ratio centred on the current one, inside the picture.
    fitRatio() {
      if (!this.ratio) return;
      const [x, y, w, h] = this.current;
      const cx = x + w / 2, cy = y + h / 2;
      let fw = 1, fh = this.aspect / this.ratio; // as fractions: fh = fw * (W / ratio) / H
      if (fh > 1) { fw = 1 / fh; fh = 1; }
      const nx = Math.min(Math.max(cx - fw / 2, 0), 1 - fw);
      const ny = Math.min(Math.max(cy - fh / 2, 0), 1 - fh);
      this.current = [nx, ny, fw, fh].map(round);
      this.$emit("crop", this.current);
    },
    start(event, mode) {
      event.preventDefault();
      const frame = this.$refs.frame.getBoundingClientRect();
      this.drag = { mode, x: event.clientX, y: event.clientY, from: [...this.current], frame };
      window.addEventListener("pointermove", this.move);
      window.addEventListener("pointerup", this.end, { once: true });
    },
    move(event) {
      const d = this.drag;
      if (!d) return;
      const dx = (event.clientX - d.x) / d.frame.width;
      const dy = (event.clientY - d.y) / d.frame.height;
      let [x, y, w, h] = d.from;
      const min = 0.02;
      if (d.mode === "move") {
        x = clamp(x + dx, 0, 1 - w);
        y = clamp(y + dy, 0, 1 - h);
      } else {
        const left = d.mode.includes("w"), top = d.mode.includes("n");
        let nw = clamp(left ? w - dx : w + dx, min, left ? x + w : 1 - x);
        let nh = clamp(top ? h - dy : h + dy, min, top ? y + h : 1 - y);
        if (this.ratio) {
          const wanted = (nw * this.aspect) / this.ratio; // height fraction for this width
          if (wanted <= (top ? y + h : 1 - y)) nh = wanted;
          else { nh = top ? y + h : 1 - y; nw = (nh * this.ratio) / this.aspect; }
        }
        if (left) x = x + w - nw;
        if (top) y = y + h - nh;
        w = nw; h = nh;
      }
      this.current = [x, y, w, h].map(round);
    },
    end() {
      window.removeEventListener("pointermove", this.move);
      this.drag = null;
      this.$emit("crop", this.current);
    },
  },
};

function clamp(v, lo, hi) {
  return Math.min(Math.max(v, lo), hi);
}

function round(v) {
  return Math.round(v * 1e6) / 1e6;
}
