// MapView: geotagged assets on a Leaflet map (Leaflet, leaflet.markercluster, topojson-client
// and Natural Earth's countries from world-atlas, all served by Trove from /ui-static/vendor,
// never from a CDN).
//
// The browser asks GET /api/dam/places/markers for the viewport at each move; the server
// groups the assets by a grid fitted to the zoom, so a marker may stand for many assets
// (its `count`) and markercluster merges the markers that still overlap, adding up the counts.
// Without a tile source (the default: tiles come from the network) the map draws the bundled
// world outline instead. A marker of one asset opens it ("open"); a larger one zooms in.

const VENDOR_JS = [
  "/ui-static/vendor/leaflet.js",
  "/ui-static/vendor/leaflet.markercluster.js",
  "/ui-static/vendor/topojson-client.min.js",
];
const VENDOR_CSS = [
  "/ui-static/vendor/leaflet.css",
  "/ui-static/vendor/MarkerCluster.css",
  "/ui-static/vendor/MarkerCluster.Default.css",
];
const WORLD = "/ui-static/vendor/countries-110m.json";
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
    for (const href of VENDOR_CSS) {
      const link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      document.head.appendChild(link);
    }
    libraries = VENDOR_JS.reduce((chain, src) => chain.then(() => loadScript(src)), Promise.resolve());
  }
  return libraries;
}

function wrap(lon) {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

// Natural Earth's Russia, Fiji and Antarctica cross the antimeridian: a ring that jumps from
// +180 to -180 is unwrapped (its next points shifted by 360 degrees), so no polygon edge is
// drawn across the whole map.
function unwrapRing(ring) {
  let shift = 0;
  return ring.map((point, i) => {
    if (i > 0) {
      const step = point[0] - ring[i - 1][0];
      if (step > 180) shift -= 360;
      else if (step < -180) shift += 360;
    }
    return [point[0] + shift, point[1]];
  });
}

function unwrapGeometry(geometry) {
  if (geometry.type === "Polygon") geometry.coordinates = geometry.coordinates.map(unwrapRing);
  if (geometry.type === "MultiPolygon")
    geometry.coordinates = geometry.coordinates.map((polygon) => polygon.map(unwrapRing));
  return geometry;
}

function countIcon(count) {
  const size = count < 10 ? 30 : count < 100 ? 36 : count < 1000 ? 42 : 48;
  const tier = count < 10 ? "small" : count < 100 ? "medium" : "large";
  return window.L.divIcon({
    html: "<div><span>" + String(count) + "</span></div>",
    className: "marker-cluster marker-cluster-" + tier + " trove-map-marker",
    iconSize: window.L.point(size, size),
  });
}

export default {
  template: `
    <div class="trove-map">
      <div ref="canvas" class="trove-map-canvas"></div>
      <div v-if="error" class="trove-map-error">{{ error }}</div>
    </div>
  `,
  props: {
    api: { type: String, default: "/api/dam/places/markers" },
    tiles: { type: String, default: "" },
    attribution: { type: String, default: "" },
  },
  emits: ["open", "loaded"],
  data() {
    return { error: "" };
  },
  async mounted() {
    try {
      await loadLibraries();
    } catch (err) {
      this.error = "The map library is missing: run scripts/vendor-js.sh (" + err.message + ")";
      return;
    }
    const L = window.L;
    this.map = L.map(this.$refs.canvas, { worldCopyJump: true, minZoom: 1, maxZoom: 18 });
    this.map.setView([20, 0], 2);
    if (this.tiles) {
      L.tileLayer(this.tiles, { attribution: this.attribution, maxZoom: 18 }).addTo(this.map);
    } else {
      this.drawWorld();
    }
    this.cluster = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 50,
      iconCreateFunction: (group) =>
        countIcon(group.getAllChildMarkers().reduce((sum, m) => sum + m.options.count, 0)),
    });
    this.map.addLayer(this.cluster);
    this.map.on("moveend", () => this.refresh());
    this.refresh();
  },
  unmounted() {
    if (this.map) this.map.remove();
  },
  methods: {
    drawWorld() {
      fetch(WORLD)
        .then((r) => r.json())
        .then((topology) => {
          const land = window.topojson.feature(topology, topology.objects.countries);
          // Antarctica's ring runs along the map's lower edge: it draws only as a seam.
          land.features = land.features.filter((f) => f.id !== "010");
          land.features.forEach((f) => unwrapGeometry(f.geometry));
          window.L.geoJSON(land, {
            interactive: false,
            style: { color: "#9aa0a6", weight: 0.7, fillColor: "#e8eaed", fillOpacity: 1 },
          }).addTo(this.map);
          this.map.getContainer().classList.add("trove-map-outline");
        })
        .catch((err) => (this.error = "Could not draw the world outline: " + err.message));
    },
    viewport() {
      const b = this.map.getBounds();
      const span = b.getEast() - b.getWest();
      const whole = span >= 360;
      return {
        south: Math.max(-90, b.getSouth()).toFixed(6),
        north: Math.min(90, b.getNorth()).toFixed(6),
        west: whole ? -180 : wrap(b.getWest()).toFixed(6),
        east: whole ? 180 : wrap(b.getEast()).toFixed(6),
        zoom: String(this.map.getZoom()),
      };
    },
    refresh() {
      const asked = (this.asked = (this.asked || 0) + 1);
      const params = new URLSearchParams(this.viewport());
      fetch(this.api + "?" + params.toString(), { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : r.json().then((body) => Promise.reject(new Error(body.detail)))))
        .then((page) => {
          if (asked !== this.asked) return;
          this.show(page);
        })
        .catch((err) => (this.error = "Could not load the places: " + err.message));
    },
    show(page) {
      const L = window.L;
      this.cluster.clearLayers();
      const markers = page.items.map((item) => {
        const marker = L.marker([item.lat, item.lon], { icon: countIcon(item.count), count: item.count });
        marker.on("click", () => {
          if (item.count === 1) this.$emit("open", { id: item.asset_id });
          else this.map.setView([item.lat, item.lon], Math.min(18, this.map.getZoom() + 3));
        });
        return marker;
      });
      this.cluster.addLayers(markers);
      if (!this.fitted && markers.length) {
        // The first answer (the whole world) shows where the photos are.
        this.fitted = true;
        const bounds = window.L.latLngBounds(page.items.map((item) => [item.lat, item.lon]));
        this.map.fitBounds(bounds.pad(0.2), { maxZoom: 12 });
      }
      window.__troveMap = { markers: markers.length, total: page.total };
      this.$emit("loaded", { markers: markers.length, total: page.total });
    },
  },
};
