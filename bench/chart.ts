/**
 * The results chart as a hand-written SVG: hit req/s and p99 latency by concurrency, one panel per
 * body size, one series per system. No chart library: a few lines, circles and text.
 */

export interface Series {
  label: string;
  color: string;
  /** Concurrency → value; systems measured at one concurrency only are drawn as a lone marker. */
  points: { x: number; y: number }[];
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const W = 440;
const H = 300;
const M = { left: 64, right: 16, top: 34, bottom: 46 };

export const COLORS: Record<string, string> = {
  nginx: "#2b8a3e",
  postcache: "#1c7ed6",
  "postcache-full": "#74c0fc",
  variant: "#7048e8",
  naive: "#e8590c",
  floor: "#adb5bd",
  "workerd-postcache": "#0b7285",
  "workerd-naive": "#f08c00",
  "nginx-pass": "#868e96",
  origin: "#212529",
};

function xmlText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A round step (1, 2 or 5 times a power of ten) that gives about five ticks up to `max`. */
export function niceStep(max: number): number {
  if (!(max > 0)) return 1;
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function format(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toFixed(1))}k`;
  return String(Number(value.toFixed(2)));
}

function panel(p: Panel, xs: number[], dx: number, dy: number): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const all = p.series.flatMap((s) => s.points.map((pt) => pt.y)).filter(Number.isFinite);
  const step = niceStep(Math.max(...all, 0) * 1.08);
  const top = Math.max(step, Math.ceil((Math.max(...all, 0) * 1.08) / step) * step);
  // Concurrencies are categories (1, 16, 64), evenly spaced.
  const xOf = (x: number) => M.left + ((xs.indexOf(x) + 0.5) / xs.length) * plotW;
  const yOf = (y: number) => M.top + plotH - (y / top) * plotH;
  const out: string[] = [`<g transform="translate(${dx},${dy})">`];
  out.push(`<text x="${M.left}" y="20" font-size="14" font-weight="bold">${xmlText(p.title)}</text>`);
  for (let y = 0; y <= top + step / 2; y += step) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${yOf(y)}" y2="${yOf(y)}" stroke="#dee2e6"/>`,
      `<text x="${M.left - 6}" y="${yOf(y) + 4}" font-size="11" text-anchor="end">${format(y)}</text>`,
    );
  }
  for (const x of xs) {
    out.push(`<text x="${xOf(x)}" y="${M.top + plotH + 16}" font-size="11" text-anchor="middle">c${x}</text>`);
  }
  out.push(
    `<text x="${M.left + plotW / 2}" y="${H - 8}" font-size="11" text-anchor="middle">concurrent connections</text>`,
    `<text transform="translate(14,${M.top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle">${xmlText(p.yLabel)}</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#495057"/>`,
  );
  for (const s of p.series) {
    const pts = s.points
      .filter((pt) => Number.isFinite(pt.y) && xs.includes(pt.x))
      .sort((a, b) => xs.indexOf(a.x) - xs.indexOf(b.x));
    if (pts.length > 1) {
      const d = pts.map((pt, i) => `${i ? "L" : "M"}${xOf(pt.x).toFixed(1)},${yOf(pt.y).toFixed(1)}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ""}/>`);
    }
    for (const pt of pts) {
      const fill = pts.length > 1 ? s.color : "white";
      out.push(
        `<circle cx="${xOf(pt.x).toFixed(1)}" cy="${yOf(pt.y).toFixed(1)}" r="4" fill="${fill}" stroke="${s.color}" stroke-width="2"><title>${xmlText(`${s.label}, c${pt.x}: ${format(pt.y)}`)}</title></circle>`,
      );
    }
  }
  out.push("</g>");
  return out.join("\n");
}

/** Panels in a grid of `columns`, with one legend for all series below. */
export function chartSvg(panels: Panel[], xs: number[], columns = 2): string {
  const rows = Math.ceil(panels.length / columns);
  const labels = new Map<string, Series>();
  for (const p of panels) for (const s of p.series) labels.set(s.label, s);
  const legendY = rows * H + 10;
  const width = columns * W;
  const height = legendY + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((p, i) => {
    out.push(panel(p, xs, (i % columns) * W, Math.floor(i / columns) * H));
  });
  let x = M.left;
  for (const s of labels.values()) {
    out.push(
      `<line x1="${x}" x2="${x + 22}" y1="${legendY + 10}" y2="${legendY + 10}" stroke="${s.color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="5,4"' : ""}/>`,
      `<text x="${x + 28}" y="${legendY + 14}" font-size="12">${xmlText(s.label)}</text>`,
    );
    x += 40 + s.label.length * 7;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
