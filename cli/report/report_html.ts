import type { QueueSummary, TraceStep } from '../../sim/trace.js';
import { formatBytes } from '../format.js';
import { formatViolation, traceWindow } from '../trace_format.js';
import { escapeHtml } from './escape_html.js';
import { LINE_STYLE, MARKER_COLOR, SERIES_STYLE, renderPlotSvg } from './plot_svg.js';
import { MARKER_KINDS, type ReportModel } from './report_model.js';

/** Rows in the trace table; a longer trace shows this many around the broken step and says how many it left out. */
export const TABLE_ROWS_MAX = 3000;

/**
 * The whole report as one HTML page: inline CSS, inline SVG and a few lines of inline script,
 * nothing fetched. The Content-Security-Policy forbids every network request, so a page that
 * opens from disk today looks the same offline in a year.
 */
export function renderReportHtml(model: ReportModel): string {
  const highlight = model.violation?.step;
  const window = traceWindow(model.steps, highlight, TABLE_ROWS_MAX);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(model.title)}</h1>
${verdict(model)}
<dl class="summary">${model.summary.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}${knobs(model)}</dl>
</header>
<main>
<section class="plot-area" aria-label="plot">
${legend(model)}
${model.plotNote ? `<p class="note">${escapeHtml(model.plotNote)}</p>` : ''}
${model.queuesNotPlotted > 0 ? `<p class="note">${model.queuesNotPlotted} quieter queues are not plotted; the table lists all steps.</p>` : ''}
${renderPlotSvg(model)}
</section>
<section class="trace-area" aria-label="trace">
<h2>Trace <span class="count">${model.steps.length} steps</span></h2>
<div class="table-scroll">
<table class="trace">
<thead><tr><th>#</th>${model.xAxis === 'timeTicks' ? '<th>t</th>' : ''}<th>actor</th><th>op</th><th>queue</th><th>moved</th><th>what happened</th><th title="the touched queue after the step">resident / paged</th></tr></thead>
<tbody>
${window.omittedBefore > 0 ? omittedRow(window.omittedBefore, 'earlier') : ''}
${window.shown.map((step) => traceRow(step, step.step === highlight, model.xAxis === 'timeTicks')).join('\n')}
${window.omittedAfter > 0 ? omittedRow(window.omittedAfter, 'later') : ''}
</tbody>
</table>
</div>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function verdict(model: ReportModel): string {
  if (model.violation) return `<p class="verdict broken" role="alert">✗ ${escapeHtml(formatViolation(model.violation))}</p>`;
  return `<p class="verdict held">✓ No invariant broke in this run.</p>`;
}

function knobs(model: ReportModel): string {
  const rows: string[] = [];
  if (model.thresholdBytes !== undefined) rows.push(`<div><dt>threshold</dt><dd>${formatBytes(model.thresholdBytes)}</dd></div>`);
  if (model.headReserveBytes !== undefined) rows.push(`<div><dt>head reserve</dt><dd>${formatBytes(model.headReserveBytes)}</dd></div>`);
  return rows.join('');
}

function legend(model: ReportModel): string {
  const lineKey = (s: { color: string; dash: string; label: string }, width: number): string =>
    `<span><svg width="26" height="10"><line x1="0" x2="26" y1="5" y2="5" stroke="${s.color}" stroke-width="${width}" stroke-dasharray="${s.dash}"/></svg>${s.label}</span>`;
  const series = Object.values(SERIES_STYLE).map((s) => lineKey(s, 2));
  if (model.thresholdBytes !== undefined) series.push(lineKey(LINE_STYLE.threshold, 1));
  if (model.headReserveBytes !== undefined) series.push(lineKey(LINE_STYLE.reserve, 1));
  if (model.thresholdBytes !== undefined && model.headReserveBytes !== undefined) series.push(lineKey(LINE_STYLE.trigger, 1));
  const marks = MARKER_KINDS.map(
    (kind) => `<span><svg width="10" height="10"><circle cx="5" cy="5" r="4" fill="${MARKER_COLOR[kind]}"/></svg>${kind}</span>`,
  );
  return `<div class="legend">${[...series, ...marks].join('')}</div>`;
}

function traceRow(step: TraceStep, violating: boolean, withTime: boolean): string {
  const moved = step.bytes === 0 && (step.chunks ?? 0) === 0 ? 'nothing' : [step.bytes === undefined ? '' : formatBytes(step.bytes), step.chunks === undefined ? '' : `${step.chunks} ch`].filter(Boolean).join(' / ');
  const what = [step.detail ?? '', step.fault ? `fault: ${step.fault}` : '', step.buzzes ? `buzz ×${step.buzzes}` : ''].filter(Boolean).join(' · ');
  const after = touchedPictures(step)
    .map(([name, q]) => `${name === step.queue ? '' : `${escapeHtml(name)} `}${formatBytes(q.residentBytes)} / ${formatBytes(q.pagedBytes)}`)
    .join('<br>');
  const classes = [`op-${step.op}`, violating ? 'violating' : ''].filter(Boolean).join(' ');
  return (
    `<tr id="step-${step.step}" class="${classes}" data-step="${step.step}"><td>${step.step}</td>${withTime ? `<td>${step.timeTicks}</td>` : ''}` +
    `<td>${escapeHtml(step.actor)}</td><td class="op">${escapeHtml(step.op)}</td><td>${escapeHtml(step.queue ?? '')}</td>` +
    `<td class="num">${moved}</td><td class="what">${escapeHtml(what)}</td><td class="num">${after}</td></tr>`
  );
}

/** The touched queue's picture after the step; with several systems side by side, that queue in each (`broken/q0`, `reference/q0`). */
function touchedPictures(step: TraceStep): Array<[string, QueueSummary]> {
  if (step.queue === undefined || !step.queues) return [];
  const own = step.queues[step.queue];
  if (own) return [[step.queue, own]];
  return Object.entries(step.queues).filter(([name]) => name.endsWith(`/${step.queue}`));
}

function omittedRow(count: number, which: 'earlier' | 'later'): string {
  return `<tr class="omitted"><td colspan="9">… ${count} ${which} steps not shown (the table keeps ${TABLE_ROWS_MAX} around the broken step) …</td></tr>`;
}

const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; background: #f9fafb; }
/* The page fills the window and the trace scrolls inside it, so the broken step is on screen at once. */
html, body { height: 100%; }
body { margin: 0; padding: 16px 24px; box-sizing: border-box; display: flex; flex-direction: column; }
header { flex: none; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2 .count { color: #6b7280; font-weight: normal; }
.verdict { margin: 0 0 10px; padding: 8px 12px; border-radius: 6px; font-weight: 600; }
.verdict.broken { background: #fee2e2; color: #991b1b; border: 1px solid #fca5a5; }
.verdict.held { background: #dcfce7; color: #166534; border: 1px solid #86efac; }
.summary { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0 0 14px; font-size: 13px; }
.summary div { display: flex; gap: 6px; }
.summary dt { color: #6b7280; }
.summary dd { margin: 0; font-family: ui-monospace, monospace; }
main { display: flex; gap: 20px; align-items: stretch; flex: 1; min-height: 0; }
.plot-area { flex: 0 0 auto; width: 840px; max-height: 100%; overflow: auto; box-sizing: border-box; align-self: flex-start; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px; }
.trace-area { flex: 1 1 auto; min-width: 420px; display: flex; flex-direction: column; min-height: 0; box-sizing: border-box; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin-bottom: 6px; }
.legend span { display: inline-flex; align-items: center; gap: 4px; }
.note { font-size: 12px; color: #92400e; background: #fffbeb; padding: 4px 8px; border-radius: 4px; }
svg.plot { display: block; font-size: 11px; }
svg.plot .frame { fill: #fff; stroke: #d1d5db; }
svg.plot .grid { stroke: #f3f4f6; }
svg.plot .lane { stroke: #e5e7eb; }
svg.plot .axis { stroke: #6b7280; }
svg.plot .tick { fill: #4b5563; }
svg.plot .panel-title { font-weight: 600; fill: #111827; font-size: 12px; }
svg.plot .off-scale { fill: #6b7280; font-size: 11px; }
svg.plot .marker { cursor: pointer; opacity: 0.85; }
svg.plot .marker:hover { opacity: 1; stroke: #111827; }
.table-scroll { flex: 1; min-height: 240px; overflow: auto; }
table.trace { border-collapse: collapse; font-size: 12px; width: 100%; }
table.trace th { position: sticky; top: 0; background: #f3f4f6; text-align: left; padding: 4px 6px; }
table.trace td { padding: 2px 6px; border-bottom: 1px solid #f3f4f6; vertical-align: top; }
table.trace td.num { white-space: nowrap; font-family: ui-monospace, monospace; }
table.trace td.op { font-family: ui-monospace, monospace; white-space: nowrap; }
table.trace td.what { min-width: 200px; }
svg.plot .line-label { font-size: 10px; }
tr.op-spill td.op { color: #2563eb; }
tr.op-partial-spill td.op, tr.op-park td.op { color: #b45309; }
tr.op-fetch-failed td.op, tr.op-stall td.op, tr.op-fault td.op { color: #dc2626; font-weight: 600; }
tr.violating td { background: #fee2e2; font-weight: 600; }
tr.violating td:first-child { border-left: 4px solid #dc2626; }
tr.flash td { background: #dbeafe; }
tr.omitted td { color: #6b7280; text-align: center; font-style: italic; }
`;

/** Scroll the broken step into view; a click on a marker jumps to its row. No network, no libraries. */
const SCRIPT = `
(function () {
  var scroller = document.querySelector('.table-scroll');
  function show(step, flash) {
    var row = document.getElementById('step-' + step);
    if (!row || !scroller) return;
    // Scroll only the table (not the page), leaving the row a third of the way down.
    var offset = row.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    scroller.scrollTop = Math.max(0, scroller.scrollTop + offset - scroller.clientHeight / 3);
    if (flash) { row.classList.add('flash'); setTimeout(function () { row.classList.remove('flash'); }, 1200); }
  }
  var broken = document.querySelector('tr.violating');
  if (broken) show(broken.getAttribute('data-step'), false);
  document.querySelectorAll('svg.plot .marker').forEach(function (marker) {
    marker.addEventListener('click', function () { show(marker.getAttribute('data-step'), true); });
  });
})();
`;
