/** @module Small formatters for times, durations and sizes, shared by the screens. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** 90 000 → "2 min", 5 400 000 → "1 h 30 min", 3 days → "3 d" (rounded to the minute, then the hour). */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.max(1, Math.round(abs / 1000))} s`;
  const minutes = Math.round(abs / MINUTE);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return minutes % 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes / 60} h`;
  const hours = Math.round(abs / HOUR);
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${hours / 24} d`;
}

/** "5 min ago", "just now". */
export function ago(at: number, now = Date.now()): string {
  return now - at < 5000 ? 'just now' : `${duration(now - at)} ago`;
}

/** "in 2 h", or "expired". */
export function until(at: number, now = Date.now()): string {
  return at <= now ? 'expired' : `in ${duration(at - now)}`;
}

export function dateTime(at: number): string {
  return new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function bytes(n: number | null): string {
  if (n === null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function percent(v: number): string {
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
}

/** Dollars: cents once there are some, else four decimals ($0.0042). */
export function usd(n: number): string {
  return `$${n >= 0.995 || n === 0 ? n.toFixed(2) : n.toFixed(n < 0.1 ? 4 : 3)}`;
}

/** 950 → "950", 12 345 → "12.3k", 2 000 000 → "2.0M". */
export function count(n: number): string {
  return n < 1000 ? String(n) : n < 1e6 ? `${(n / 1000).toFixed(1)}k` : `${(n / 1e6).toFixed(1)}M`;
}
