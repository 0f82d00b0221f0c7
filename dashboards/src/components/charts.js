// Shared formatting and charts for the dashboard pages. Plot and htl come from
// node_modules (Framework bundles them at build time; nothing is fetched at view time).
import * as Plot from "@observablehq/plot";
import {html} from "htl";

export const STATUS_DOMAIN = ["alert", "watch", "ok"];
export const STATUS_RANGE = ["#d62728", "#f28e2b", "#4e79a7"];
export const statusColor = {domain: STATUS_DOMAIN, range: STATUS_RANGE, legend: true, label: "status"};

export function pct(value, digits = 1) {
  return value == null ? "–" : `${(100 * value).toFixed(digits)}%`;
}

export function pp(value, digits = 1) {
  return value == null ? "–" : `${value >= 0 ? "" : "−"}${Math.abs(value).toFixed(digits)} pp`;
}

export function count(value) {
  return value == null ? "–" : Number(value).toLocaleString("en-US");
}

export function qValue(value) {
  return value == null ? "–" : value < 1e-4 ? value.toExponential(1) : value.toFixed(4);
}

export function segmentLabel(d) {
  return `${d.dimension} = ${d.segment_value}`;
}

export function sliceLabel(d) {
  return d.slice_key.replaceAll("=", " = ");
}

// Lifecycle of an alert in marts.segment_alerts: open ones in red, resolved in grey.
export function alertBadge(alertStatus) {
  const color = alertStatus === "resolved" ? "#777" : "#d62728";
  return html`<span style="color: ${color}; font-weight: 600;">${alertStatus}</span>`;
}

/**
 * Completion rate with its Wilson interval (error bars) per row, rows in the given order,
 * with the overall rate (solid) and the alert threshold (dashed, red) as vertical rules.
 * Filled dots are tested segments (enough tasks for a p-value), hollow ones are not.
 * A label may hold line breaks ("\n"); rows grow to fit them.
 */
export function intervalChart(
  rows,
  {width, label = segmentLabel, overall, threshold, marginLeft = 220, legend = true} = {}
) {
  const labels = rows.map(label);
  const lines = Math.max(1, ...labels.map((text) => text.split("\n").length));
  const rowHeight = 12 + 12 * lines;
  const tested = rows.filter((d) => d.is_tested !== false);
  const untested = rows.filter((d) => d.is_tested === false);
  const dotOptions = {
    x: "completion_rate",
    y: label,
    r: 4.5,
    channels: {
      tasks: {value: "task_count", label: "counted tasks"},
      gap: {value: (d) => pp(d.gap_pp), label: "gap"},
      interval: {
        value: (d) => `${pct(d.completion_rate_ci_low)} – ${pct(d.completion_rate_ci_high)}`,
        label: "interval"
      }
    },
    tip: {format: {x: (x) => pct(x), y: true, fill: true, stroke: true}}
  };
  return Plot.plot({
    width,
    height: 60 + rowHeight * rows.length,
    marginLeft,
    marginRight: 110,
    marginTop: 30,
    x: {domain: [0, 1], tickFormat: "%", label: "completion rate, with Wilson interval", grid: true},
    y: {domain: labels, label: null, tickSize: 0},
    color: {...statusColor, legend},
    marks: [
      Plot.ruleX([overall].filter((x) => x != null)),
      Plot.ruleX([threshold].filter((x) => x != null), {stroke: "#d62728", strokeDasharray: "5,3"}),
      Plot.text([overall].filter((x) => x != null), {
        x: (x) => x,
        text: (x) => `overall ${pct(x)}`,
        frameAnchor: "top",
        dy: -22,
        textAnchor: "start",
        dx: 3
      }),
      Plot.text([threshold].filter((x) => x != null), {
        x: (x) => x,
        text: (x) => `alert threshold ${pct(x)}`,
        frameAnchor: "top",
        dy: -22,
        textAnchor: "end",
        dx: -3,
        fill: "#d62728"
      }),
      Plot.ruleY(rows, {
        y: label,
        x1: "completion_rate_ci_low",
        x2: "completion_rate_ci_high",
        stroke: "status",
        strokeWidth: 2
      }),
      Plot.tickX(rows, {x: "completion_rate_ci_low", y: label, stroke: "status", inset: rowHeight / 4}),
      Plot.tickX(rows, {x: "completion_rate_ci_high", y: label, stroke: "status", inset: rowHeight / 4}),
      Plot.dot(tested, {...dotOptions, fill: "status"}),
      Plot.dot(untested, {...dotOptions, stroke: "status", fill: "white", strokeWidth: 1.5}),
      Plot.text(rows, {
        x: "completion_rate_ci_high",
        y: label,
        text: (d) => `${pct(d.completion_rate)} · n=${d.task_count}`,
        textAnchor: "start",
        dx: 8,
        fontSize: 10,
        fillOpacity: 0.7
      })
    ]
  });
}
