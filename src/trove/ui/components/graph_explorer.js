// GraphExplorer: the knowledge graph as a node-link diagram (Cytoscape.js + the fcose layout,
// both served by Trove from /ui-static/vendor, never from a CDN).
//
// Python does every query (LinkManager through the services) and hands the results to the
// methods below; this side draws and reports clicks: "expand" (a node, or a "+N more" node for
// the next page), "open" (double click: the lightbox), "path" (two nodes picked in path mode),
// "impact" (a node picked in impact mode). Names from files go into Cytoscape's canvas labels
// (drawn as text, never parsed as HTML).

const VENDOR = [
  "/ui-static/vendor/cytoscape.min.js",
  "/ui-static/vendor/layout-base.js",
  "/ui-static/vendor/cose-base.js",
  "/ui-static/vendor/cytoscape-fcose.js",
];
let libraries = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}

function loadLibraries() {
  if (!libraries) {
    libraries = VENDOR.reduce((chain, src) => chain.then(() => loadScript(src)), Promise.resolve())
      .then(() => {
        window.cytoscape.use(window.cytoscapeFcose);
        return window.cytoscape;
      });
  }
  return libraries;
}

function svgIcon(path, colour) {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="96" height="96">` +
    `<path fill="${colour}" d="${path}"/></svg>`;
  return "data:image/svg+xml;utf8," + encodeURIComponent(svg);
}

// Material icons' outlines: folder, photo album, generic file, person, movie, description.
const ICONS = {
  folder: svgIcon("M10 4H4c-1.1 0-2 .9-2 2v12c0 1.1.9 2 2 2h16c1.1 0 2-.9 2-2V8c0-1.1-.9-2-2-2h-8l-2-2z", "#f9ab00"),
  album: svgIcon("M18 2H6c-1.1 0-2 .9-2 2v16c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2zM6 4h5v8l-2.5-1.5L6 12V4zm0 15 3-3.86 2.14 2.58 3-3.86L18 19H6z", "#1a73e8"),
  file: svgIcon("M14 2H6c-1.1 0-2 .9-2 2v16c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2V8l-6-6zm-1 7V3.5L18.5 9H13z", "#80868b"),
  entity: svgIcon("M12 12c2.21 0 4-1.79 4-4s-1.79-4-4-4-4 1.79-4 4 1.79 4 4 4zm0 2c-2.67 0-8 1.34-8 4v2h16v-2c0-2.66-5.33-4-8-4z", "#188038"),
};

const STYLE = [
  {
    selector: "node",
    style: {
      width: 52,
      height: 52,
      shape: "round-rectangle",
      "background-color": "#f1f3f4",
      "background-image": "data(image)",
      "background-fit": "cover",
      "background-clip": "node",
      "border-width": 2,
      "border-color": "#ffffff",
      label: "data(label)",
      "font-size": 9,
      "font-family": "Roboto, sans-serif",
      color: "#3c4043",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "text-wrap": "ellipsis",
      "text-max-width": 96,
      "text-background-color": "#ffffff",
      "text-background-opacity": 0.85,
      "text-background-padding": 1,
    },
  },
  { selector: "node[kind != 'image']", style: { "background-fit": "contain", "background-width": "70%", "background-height": "70%" } },
  { selector: "node[kind = 'folder']", style: { "background-color": "#fef7e0" } },
  { selector: "node[kind = 'album']", style: { "background-color": "#e8f0fe" } },
  { selector: "node[kind = 'entity']", style: { shape: "ellipse", "background-color": "#e6f4ea" } },
  {
    selector: "node[kind = 'more']",
    style: {
      width: 76,
      height: 26,
      "background-color": "#e8f0fe",
      "border-color": "#d2e3fc",
      "border-width": 1,
      color: "#1967d2",
      "font-size": 10,
      "font-weight": 600,
      "text-valign": "center",
      "text-margin-y": 0,
      "text-background-opacity": 0,
    },
  },
  { selector: "node.center", style: { "border-color": "#1a73e8", "border-width": 3, width: 64, height: 64 } },
  { selector: "node:selected", style: { "border-color": "#1a73e8", "border-width": 3 } },
  {
    selector: "edge",
    style: {
      width: 1.4,
      "curve-style": "bezier",
      "line-color": "#c4c7c5",
      "target-arrow-shape": "triangle",
      "target-arrow-color": "#c4c7c5",
      "arrow-scale": 0.7,
      label: "data(label)",
      "font-size": 8,
      color: "#80868b",
      "text-rotation": "autorotate",
      "text-background-color": "#ffffff",
      "text-background-opacity": 1,
      "text-background-padding": 1,
    },
  },
  { selector: "edge[kind = 'more']", style: { "line-style": "dotted", "target-arrow-shape": "none", label: "" } },
  { selector: ".faded", style: { opacity: 0.18 } },
  { selector: "node.picked", style: { "border-color": "#e8710a", "border-width": 4 } },
  { selector: "node.path", style: { "border-color": "#e8710a", "border-width": 4, opacity: 1 } },
  {
    selector: "edge.path",
    style: { width: 3.5, "line-color": "#e8710a", "target-arrow-color": "#e8710a", color: "#b06000", "z-index": 10, opacity: 1 },
  },
  { selector: "node.impact", style: { "border-color": "#d93025", "border-width": 3, opacity: 1 } },
  {
    selector: "edge.impact",
    style: { "line-color": "#d93025", "target-arrow-color": "#d93025", "line-style": "dashed", color: "#c5221f", opacity: 1 },
  },
];

export default {
  template: `
    <div class="trove-graph-explorer">
      <div ref="canvas" class="trove-graph-canvas"></div>
      <div v-if="error" class="trove-graph-error">{{ error }}</div>
    </div>
  `,
  props: {
    words: { type: Object, default: () => ({}) },
    mode: { type: String, default: "explore" },
  },
  emits: ["expand", "open", "path", "impact", "ready"],
  data() {
    return { error: "" };
  },
  async mounted() {
    this.cursors = new Map(); // node id -> { loaded, total } of its neighbours
    this.picked = null;
    try {
      const cytoscape = await loadLibraries();
      this.cy = cytoscape({
        container: this.$refs.canvas,
        style: STYLE,
        minZoom: 0.15,
        maxZoom: 3,
      });
    } catch (err) {
      this.error = "The graph library is missing: run scripts/vendor-js.sh (" + err.message + ")";
      return;
    }
    this.cy.on("tap", "node", (event) => this.onTap(event.target));
    this.cy.on("dbltap", "node", (event) => {
      const node = event.target;
      if (node.data("kind") !== "more") this.$emit("open", { id: node.id() });
    });
    this.$emit("ready", {});
  },
  unmounted() {
    if (this.cy) this.cy.destroy();
  },
  watch: {
    mode() {
      this.clearMarks();
    },
  },
  methods: {
    // --- what Python calls ---------------------------------------------------------------------
    start(node) {
      this.cy.elements().remove();
      this.cursors = new Map();
      this.addNode(node).addClass("center");
      this.cy.center();
    },
    addNeighbors(centerId, page) {
      const center = this.cy.getElementById(centerId);
      this.cy.getElementById("more:" + centerId).remove();
      const known = this.cursors.get(centerId) || { loaded: 0 };
      for (const item of page.items) {
        this.addNode(item.node);
        const out = item.direction === "out";
        this.addEdge({
          id: item.link_id,
          source: out ? centerId : item.node.id,
          target: out ? item.node.id : centerId,
          relation: item.relation,
        });
      }
      const total = Object.values(page.counts || {}).reduce((a, b) => a + b, 0);
      const loaded = known.loaded + page.items.length;
      this.cursors.set(centerId, { loaded, total, cursor: page.next_cursor });
      if (page.next_cursor && total > loaded) {
        this.cy.add({
          group: "nodes",
          data: { id: "more:" + centerId, label: "+" + (total - loaded).toLocaleString() + " more", kind: "more", of: centerId },
          position: { ...center.position() },
        });
        this.cy.add({ group: "edges", data: { id: "more-edge:" + centerId, source: centerId, target: "more:" + centerId, kind: "more" } });
      }
      center.data("expanded", true);
      this.layout();
    },
    showPath(path) {
      this.clearMarks();
      for (const node of path.nodes) this.addNode(node);
      for (const edge of path.edges) {
        this.addEdge({ id: edge.id, source: edge.source_id, target: edge.target_id, relation: edge.relation });
      }
      this.layout(() => {
        this.cy.elements().addClass("faded");
        for (const node of path.nodes) this.cy.getElementById(node.id).removeClass("faded").addClass("path");
        for (const edge of path.edges) this.cy.getElementById(edge.id).removeClass("faded").addClass("path");
        this.cy.fit(this.cy.elements(".path"), 60);
      });
    },
    showImpact(centerId, impact) {
      this.clearMarks();
      for (const item of impact.items) {
        this.addNode(item.node);
        const id = "impact:" + centerId + ":" + item.node.id;
        if (!this.cy.getElementById(id).length && !this.linked(centerId, item.node.id)) {
          this.addEdge({ id, source: centerId, target: item.node.id, relation: item.relation, direction: item.direction });
        }
      }
      this.layout(() => {
        this.cy.elements().addClass("faded");
        this.cy.getElementById(centerId).removeClass("faded").addClass("impact");
        for (const item of impact.items) {
          const node = this.cy.getElementById(item.node.id);
          node.removeClass("faded").addClass("impact");
          node.connectedEdges().filter((e) => e.connectedNodes().every((n) => n.hasClass("impact"))).removeClass("faded").addClass("impact");
        }
      });
    },
    clearMarks() {
      if (!this.cy) return;
      this.picked = null;
      this.cy.elements().removeClass("faded path impact picked");
    },
    fit() {
      this.cy.fit(undefined, 40);
    },
    relayout() {
      this.layout();
    },
    nodeCount() {
      return this.cy ? this.cy.nodes().length : 0;
    },
    // --- drawing -------------------------------------------------------------------------------
    addNode(node) {
      const existing = this.cy.getElementById(node.id);
      if (existing.length) return existing;
      const asset = node.asset || null;
      const kind = this.kindOf(node);
      const thumbs = (asset && asset.thumbnails) || {};
      const image = thumbs.small || ICONS[kind] || ICONS.file;
      const around = this.cy.nodes(".center").first();
      const position = around.length
        ? { x: around.position("x") + (Math.random() - 0.5) * 80, y: around.position("y") + (Math.random() - 0.5) * 80 }
        : { x: 0, y: 0 };
      return this.cy.add({
        group: "nodes",
        data: { id: node.id, label: node.name || (asset && asset.filename) || node.id, kind: thumbs.small ? "image" : kind, image, type: node.type },
        position,
      });
    },
    addEdge({ id, source, target, relation }) {
      if (this.cy.getElementById(id).length) return;
      if (!this.cy.getElementById(source).length || !this.cy.getElementById(target).length) return;
      const words = this.words[relation] || {};
      this.cy.add({ group: "edges", data: { id, source, target, relation, label: words.out || relation } });
    },
    linked(a, b) {
      return this.cy.getElementById(a).edgesWith(this.cy.getElementById(b)).length > 0;
    },
    kindOf(node) {
      const asset = node.asset;
      if (!asset) return "entity";
      if (asset.asset_type === "collection") return asset.category === "virtual" ? "album" : "folder";
      return "file";
    },
    layout(done) {
      const layout = this.cy.layout({
        name: "fcose",
        quality: "default",
        randomize: false,
        animate: true,
        animationDuration: 350,
        fit: true,
        padding: 40,
        nodeRepulsion: () => 9000,
        idealEdgeLength: () => 90,
        nodeSeparation: 90,
      });
      layout.one("layoutstop", () => {
        if (this.cy.zoom() > 1.25) {
          this.cy.zoom(1.25);
          this.cy.center();
        }
        if (done) done();
      });
      layout.run();
    },
    // --- clicks --------------------------------------------------------------------------------
    onTap(node) {
      if (node.data("kind") === "more") {
        const of = node.data("of");
        const state = this.cursors.get(of) || {};
        this.$emit("expand", { id: of, cursor: state.cursor || null });
        return;
      }
      if (this.mode === "path") {
        if (!this.picked || this.picked === node.id()) {
          this.clearMarks();
          this.picked = node.id();
          node.addClass("picked");
          return;
        }
        const from = this.picked;
        this.picked = null;
        this.$emit("path", { from, to: node.id() });
        return;
      }
      if (this.mode === "impact") {
        this.$emit("impact", { id: node.id() });
        return;
      }
      if (!node.data("expanded")) this.$emit("expand", { id: node.id(), cursor: null });
    },
  },
};
