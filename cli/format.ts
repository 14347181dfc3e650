import pc from 'picocolors';

export { formatBytes } from '../src/format_bytes.js';

/** Durations: `850 ms`, `12.3 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Colour only when the stream is a terminal that wants it (picocolors honours NO_COLOR / FORCE_COLOR). */
export function colors(stream: NodeJS.WriteStream = process.stdout): ReturnType<typeof pc.createColors> {
  return pc.createColors(Boolean(stream.isTTY) && pc.isColorSupported);
}
