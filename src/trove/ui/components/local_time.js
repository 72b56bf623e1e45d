// A moment in the reader's own locale and time zone (Intl), with the ISO value as a tooltip.
// `wallclock`: the value is a camera's clock without a zone, shown as it is (no conversion).
export default {
  template: `<span class="trove-local-time" :title="iso">{{ text }}</span>`,
  props: {
    iso: { type: String, default: "" },
    wallclock: { type: Boolean, default: false },
    fallback: { type: String, default: "" },
  },
  computed: {
    text() {
      const moment = new Date(this.iso);
      if (!this.iso || isNaN(moment.getTime())) return this.fallback || this.iso;
      const options = { dateStyle: "medium", timeStyle: "short" };
      if (this.wallclock) options.timeZone = "UTC";
      return new Intl.DateTimeFormat(undefined, options).format(moment);
    },
  },
};
