// Number and time formatting for the dashboards. Every formatter takes `undefined`/`null` for
// "unknown" and answers an em dash: an absent field is unknown, never zero. Times are written by
// time-format.ts (locale, zone, the Local/UTC switch); pages get them here with the rest.

export { fmtAgo, fmtDateTime } from './time-format.ts';

const UNKNOWN = '—';

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB". Binary units, as `free` and `top` show memory. */
export function fmtBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return UNKNOWN;
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits)} ${BYTE_UNITS[i]}`;
}

const RATE_UNITS = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];

/** Bytes per second in decimal units (network people count in powers of ten): 1500 → "1.5 kB/s". */
export function fmtRate(bps: number | null | undefined): string {
  if (bps == null || !Number.isFinite(bps)) return UNKNOWN;
  let v = Math.abs(bps);
  let i = 0;
  while (v >= 1000 && i < RATE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${RATE_UNITS[i]}`;
}

/** 12.345 → "12.3 %". */
export function fmtPct(pct: number | null | undefined): string {
  if (pct == null || !Number.isFinite(pct)) return UNKNOWN;
  return `${pct.toFixed(pct >= 99.95 || pct === 0 ? 0 : 1)} %`;
}

/** 48.25 → "48.3 °C". */
export function fmtTemp(c: number | null | undefined): string {
  if (c == null || !Number.isFinite(c)) return UNKNOWN;
  return `${c.toFixed(1)} °C`;
}

/** A duration in seconds, two most significant units: 93784 → "1 d 2 h". */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return UNKNOWN;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** A sample interval as the agent's flag would read it, spaced: 500 → "500 ms", 2000 → "2 s", 300000 → "5 min". */
export function fmtInterval(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms <= 0) return UNKNOWN;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${ms / 1000} s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${ms / 60_000} min`;
  return `${ms / 3_600_000} h`;
}
