import { formatBytes } from '../format.js';
import { escapeHtml } from './escape_html.js';
import { MARKER_KINDS, type Marker, type MarkerKind, type QueueSeries, type ReportModel, type SeriesPoint } from './report_model.js';

/** Colours of the series and markers; the legend in the page uses the same ones. */
export const SERIES_STYLE = {
  resident: { color: '#2563eb', dash: '', label: 'resident bytes' },
  paged: { color: '#d97706', dash: '6 3', label: 'paged bytes' },
  inFlight: { color: '#059669', dash: '2 2', label: 'bytes in flight' },
} as const;

export const MARKER_COLOR: Record<MarkerKind, string> = {
  spill: '#2563eb',
  'partial-spill': '#d97706',
  'fetch-failed': '#dc2626',
  buzz: '#6b7280',
  park: '#7c3aed',
  stall: '#991b1b',
};

export const LINE_STYLE = {
  threshold: { color: '#7c3aed', dash: '8 4', label: 'threshold', short: 'threshold' },
  reserve: { color: '#db2777', dash: '3 3', label: 'head reserve', short: 'reserve' },
  trigger: { color: '#111827', dash: '1 3', label: 'reserve + threshold (spills above)', short: 'spills above' },
} as const;

const WIDTH = 840;
const MARGIN_LEFT = 78;
/** Room on the right for the policy lines' names, so they never sit on top of the curves. */
const MARGIN_RIGHT = 112;
/** One queue gets a tall panel; many share the height so the plot still fits a screen. */
const PANEL_HEIGHT_SINGLE = 250;
const PANEL_HEIGHT_MANY = 150;
const PANEL_TITLE_HEIGHT = 24;
const LANE_HEIGHT = 16;
const AXIS_HEIGHT = 34;
const PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
/** A policy line this many times above the data would squash the curves flat; it is named instead. */
const LINE_OFF_SCALE_FACTOR = 4;

interface XScale {
  min: number;
  max: number;
  toPx(x: number): number;
}

/** The whole plot: one panel per queue, a lane of markers per kind, the violation as a red line. */
export function renderPlotSvg(model: ReportModel): string {
  const x = xScale(model);
  const panelHeight = model.series.length === 1 ? PANEL_HEIGHT_SINGLE : PANEL_HEIGHT_MANY;
  const parts: string[] = [];
  let top = 0;
  for (const series of model.series) {
    parts.push(renderPanel(series, model, x, { top, height: panelHeight }));
    top += PANEL_TITLE_HEIGHT + panelHeight;
  }
  const lanesTop = top + PANEL_TITLE_HEIGHT;
  parts.push(renderMarkerLanes(model.markers, x, lanesTop));
  const axisTop = lanesTop + MARKER_KINDS.length * LANE_HEIGHT;
  parts.push(renderXAxis(x, axisTop, model.xAxis === 'timeTicks' ? 'simulated time (ticks)' : 'step'));
  const height = axisTop + AXIS_HEIGHT;
  if (model.violation) parts.push(renderViolationLine(model, x, height - AXIS_HEIGHT));
  return (
    `<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" ` +
    `role="img" aria-label="resident, paged and in-flight bytes per queue over ${model.xAxis === 'timeTicks' ? 'simulated time' : 'steps'}" ` +
    `data-queues="${model.series.length}" data-markers="${model.markers.length}">\n${parts.join('\n')}\n</svg>`
  );
}

function xScale(model: ReportModel): XScale {
  const { min, max } = model.xRange;
  return { min, max, toPx: (x) => MARGIN_LEFT + ((x - min) / (max - min)) * PLOT_WIDTH };
}

function renderPanel(series: QueueSeries, model: ReportModel, x: XScale, box: { top: number; height: number }): string {
  const { top, height: PANEL_HEIGHT } = box;
  const lines = policyLines(model);
  const onScale = lines.filter((l) => l.bytes <= Math.max(series.peakBytes, 1) * LINE_OFF_SCALE_FACTOR);
  const offScale = lines.filter((l) => !onScale.includes(l));
  const yTicks = byteTicks(Math.max(series.peakBytes, ...onScale.map((l) => l.bytes), 1) * 1.05);
  const yMaxBytes = yTicks[yTicks.length - 1] as number;
  const plotTop = top + PANEL_TITLE_HEIGHT;
  const toPy = (bytes: number): number => plotTop + PANEL_HEIGHT - (bytes / yMaxBytes) * PANEL_HEIGHT;
  const out: string[] = [`<g class="panel" data-queue="${escapeHtml(series.queue)}">`];
  out.push(`<text class="panel-title" x="${MARGIN_LEFT}" y="${top + 16}">queue ${escapeHtml(series.queue)}</text>`);
  if (offScale.length > 0) {
    const text = offScale.map((l) => `${l.label} ${formatBytes(l.bytes)}`).join(', ');
    out.push(`<text class="off-scale" x="${WIDTH - MARGIN_RIGHT}" y="${top + 16}" text-anchor="end">above this scale: ${escapeHtml(text)}</text>`);
  }
  out.push(`<rect class="frame" x="${MARGIN_LEFT}" y="${plotTop}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}"/>`);
  for (const bytes of yTicks) {
    const py = fmt(toPy(bytes));
    out.push(`<line class="grid" x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + PLOT_WIDTH}" y1="${py}" y2="${py}"/>`);
    out.push(`<text class="tick" x="${MARGIN_LEFT - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${formatBytes(bytes)}</text>`);
  }
  const labelYs = spreadLabels(onScale.map((line) => toPy(line.bytes)));
  onScale.forEach((line, index) => {
    const py = fmt(toPy(line.bytes));
    out.push(
      `<line class="policy-line ${line.kind}" x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + PLOT_WIDTH}" y1="${py}" y2="${py}" ` +
        `stroke="${line.color}" stroke-dasharray="${line.dash}"><title>${escapeHtml(`${line.label}: ${formatBytes(line.bytes)}`)}</title></line>`,
      `<text class="line-label" x="${MARGIN_LEFT + PLOT_WIDTH + 4}" y="${fmt(labelYs[index] ?? 0)}" dominant-baseline="middle" fill="${line.color}">${escapeHtml(line.short)} ${formatBytes(line.bytes)}</text>`,
    );
  });
  out.push(seriesPath('resident', series.residentBytes, x, toPy, series.queue));
  out.push(seriesPath('paged', series.pagedBytes, x, toPy, series.queue));
  out.push(seriesPath('inFlight', series.inFlightBytes, x, toPy, series.queue));
  out.push('</g>');
  return out.join('\n');
}

interface PolicyLine {
  kind: keyof typeof LINE_STYLE;
  bytes: number;
  label: string;
  short: string;
  color: string;
  dash: string;
}

function policyLines(model: ReportModel): PolicyLine[] {
  const lines: PolicyLine[] = [];
  const add = (kind: keyof typeof LINE_STYLE, bytes: number | undefined): void => {
    if (bytes !== undefined) lines.push({ kind, bytes, ...LINE_STYLE[kind] });
  };
  add('threshold', model.thresholdBytes);
  add('reserve', model.headReserveBytes);
  if (model.thresholdBytes !== undefined && model.headReserveBytes !== undefined) add('trigger', model.thresholdBytes + model.headReserveBytes);
  return lines;
}

/** A step-shaped path: a value holds until the next change, as the queue's state does. */
function seriesPath(kind: keyof typeof SERIES_STYLE, points: readonly SeriesPoint[], x: XScale, toPy: (bytes: number) => number, queue: string): string {
  const style = SERIES_STYLE[kind];
  const segments = points.map((point, index) => {
    const px = fmt(x.toPx(point.x));
    const py = fmt(toPy(point.bytes));
    return index === 0 ? `M${px} ${py}` : `H${px} V${py}`;
  });
  const d = segments.length > 0 ? segments.join(' ') : 'M0 0';
  return (
    `<path class="series ${kind}" data-queue="${escapeHtml(queue)}" data-points="${points.length}" d="${d}" fill="none" ` +
    `stroke="${style.color}" stroke-width="1.8" stroke-dasharray="${style.dash}"><title>${escapeHtml(`${queue}: ${style.label}`)}</title></path>`
  );
}

function renderMarkerLanes(markers: readonly Marker[], x: XScale, top: number): string {
  const out: string[] = ['<g class="markers">'];
  out.push(`<text class="panel-title" x="${MARGIN_LEFT}" y="${top - 8}">events</text>`);
  MARKER_KINDS.forEach((kind, lane) => {
    const y = top + lane * LANE_HEIGHT + LANE_HEIGHT / 2;
    out.push(`<text class="tick" x="${MARGIN_LEFT - 6}" y="${fmt(y)}" text-anchor="end" dominant-baseline="middle">${kind}</text>`);
    out.push(`<line class="lane" x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + PLOT_WIDTH}" y1="${fmt(y)}" y2="${fmt(y)}"/>`);
  });
  for (const marker of markers) {
    const lane = MARKER_KINDS.indexOf(marker.kind);
    const cy = fmt(top + lane * LANE_HEIGHT + LANE_HEIGHT / 2);
    out.push(
      `<circle class="marker ${marker.kind}" data-step="${marker.step}" cx="${fmt(x.toPx(marker.x))}" cy="${cy}" r="4" ` +
        `fill="${MARKER_COLOR[marker.kind]}"><title>${escapeHtml(marker.label)}</title></circle>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}

function renderXAxis(x: XScale, top: number, label: string): string {
  const out: string[] = [`<g class="x-axis">`, `<line class="axis" x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + PLOT_WIDTH}" y1="${top}" y2="${top}"/>`];
  // Steps and ticks are whole numbers: a tick at step 1.5 would point at nothing.
  for (const value of niceTicks(x.min, x.max, 6).filter(Number.isInteger)) {
    const px = fmt(x.toPx(value));
    out.push(`<line class="axis" x1="${px}" x2="${px}" y1="${top}" y2="${top + 4}"/>`);
    out.push(`<text class="tick" x="${px}" y="${top + 15}" text-anchor="middle">${value}</text>`);
  }
  out.push(`<text class="axis-label" x="${MARGIN_LEFT + PLOT_WIDTH / 2}" y="${top + 30}" text-anchor="middle">${label}</text>`, '</g>');
  return out.join('\n');
}

function renderViolationLine(model: ReportModel, x: XScale, bottom: number): string {
  const violation = model.violation;
  if (!violation) return '';
  const step = model.steps.find((s) => s.step === violation.step) ?? model.steps[model.steps.length - 1];
  if (!step) return '';
  const px = fmt(x.toPx(model.xAxis === 'timeTicks' ? step.timeTicks : step.step));
  const anchor = Number(px) > WIDTH / 2 ? 'end' : 'start';
  const labelX = anchor === 'end' ? Number(px) - 4 : Number(px) + 4;
  return (
    `<g class="violation-line" data-step="${violation.step}"><line x1="${px}" x2="${px}" y1="0" y2="${bottom}" stroke="#dc2626" stroke-width="1.5"/>` +
    `<text x="${fmt(labelX)}" y="11" text-anchor="${anchor}" fill="#dc2626">✗ ${escapeHtml(violation.invariant)} at step ${violation.step}</text></g>`
  );
}

/** Label height in pixels: labels of lines closer than this are pushed apart. */
const LABEL_SPACING_PX = 12;

/** Y positions for the lines' labels: each at its line, moved up just enough not to overlap the one below. */
export function spreadLabels(ys: readonly number[]): number[] {
  const order = ys.map((y, index) => ({ y, index })).sort((a, b) => b.y - a.y);
  const placed = new Array<number>(ys.length);
  let previous = Number.POSITIVE_INFINITY;
  for (const { y, index } of order) {
    const at = Math.min(y, previous - LABEL_SPACING_PX);
    placed[index] = at;
    previous = at;
  }
  return placed;
}

/**
 * Ticks of a byte axis from 0 up past `bytes`: 3 to 5 of them, a power of two apart, because
 * byte sizes read best that way (256 KiB, 512 KiB, 768 KiB, …).
 */
export function byteTicks(bytes: number): number[] {
  const stepBytes = 2 ** Math.max(0, Math.ceil(Math.log2(Math.max(bytes, 1) / 4)));
  const count = Math.max(1, Math.ceil(bytes / stepBytes));
  return Array.from({ length: count + 1 }, (_, i) => i * stepBytes);
}

/** Round tick values (1, 2 or 5 × 10^k apart) covering [min, max]; at most about `count`. */
export function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min;
  if (!(span > 0)) return [min];
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const stepSize = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  const first = Math.ceil(min / stepSize) * stepSize;
  for (let value = first; value <= max + stepSize * 1e-9 && ticks.length <= count * 2; value += stepSize) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

function fmt(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}
