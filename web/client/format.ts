// Number and time formatting for the dashboards. Every formatter takes `undefined`/`null` for
// "unknown" and answers an em dash: an absent field is unknown, never zero.

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

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago"; "never" for null. A time in the future (clock skew) reads "just now". */
export function fmtAgo(ms: number | null | undefined, now: number = Date.now()): string {
  if (ms == null || !Number.isFinite(ms)) return 'never';
  const s = Math.floor((now - ms) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Local date and time for tooltips: "2025-11-26 06:11:05". */
export function fmtDateTime(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return UNKNOWN;
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
