// How every page writes a moment: in the browser's language (Intl), in the zone chosen with the
// header's Local/UTC switch (kept in localStorage), with the zone named. TimeFormat is pure over a
// locale and a zone so that tests can pin both; `times()` is the one the pages use now.

export type ZoneChoice = 'local' | 'utc';

const UNKNOWN = '—';
const STORAGE_KEY = 'remonitor.time-zone';
const CHANGE_EVENT = 'remonitor:time-zone';

const MINUTE_S = 60;
const DAY_S = 86_400;
const MONTH_S = 28 * DAY_S;
const YEAR_S = 365 * DAY_S;

/** Set once the page has made a formatter: its first costs tens of ms (the browser loads its locale data), later ones little. */
let formatting = false;
const firstFormatterWaiters: (() => void)[] = [];

/** Calls `fn` when the page makes its first formatter, or now if it has: what can wait for one is written then. */
export function whenFormatting(fn: () => void): void {
  if (formatting) fn();
  else firstFormatterWaiters.push(fn);
}

export class TimeFormat {
  // Each formatter is made on first use: making them all costs tens of ms when a page starts.
  private readonly made = new Map<string, Intl.DateTimeFormat>();

  /** `timeZone` undefined: the browser's own zone; `locale` undefined: the browser's language. */
  constructor(
    readonly locale: string | undefined,
    readonly timeZone: string | undefined,
  ) {}

  private at(key: string, options: Intl.DateTimeFormatOptions, locale = this.locale): Intl.DateTimeFormat {
    let f = this.made.get(key);
    if (!f) {
      this.made.set(key, (f = new Intl.DateTimeFormat(locale, { timeZone: this.timeZone, ...options })));
      if (!formatting) {
        formatting = true;
        for (const fn of firstFormatterWaiters.splice(0)) fn();
      }
    }
    return f;
  }

  private get full(): Intl.DateTimeFormat {
    return this.at('full', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
  }

  private get zone(): Intl.DateTimeFormat {
    return this.at('zone', { timeZoneName: 'short' });
  }

  /** Calendar day in this zone as a comparable key; the locale of a key does not matter. */
  private get dayKey(): Intl.DateTimeFormat {
    return this.at('dayKey', { year: 'numeric', month: '2-digit', day: '2-digit' }, 'en-US');
  }

  private get yearKey(): Intl.DateTimeFormat {
    return this.at('yearKey', { year: 'numeric' }, 'en-US');
  }

  /** The axis formats, by tick spacing. */
  private axis(kind: 'seconds' | 'minutes' | 'day' | 'month' | 'year'): Intl.DateTimeFormat {
    // 24-hour locales write "08:05", 12-hour ones "8:05 AM", as their clocks do.
    const cycle = this.at('hourCycle', { hour: 'numeric' }).resolvedOptions().hourCycle;
    const hour = cycle === 'h23' || cycle === 'h24' ? '2-digit' : 'numeric';
    const options: Record<typeof kind, Intl.DateTimeFormatOptions> = {
      seconds: { hour, minute: '2-digit', second: '2-digit' },
      minutes: { hour, minute: '2-digit' },
      day: { month: 'numeric', day: 'numeric' },
      month: { month: 'short' },
      year: { year: 'numeric' },
    };
    return this.at(`axis-${kind}`, options[kind]);
  }

  /** Date, time to the second and zone: "06.12.2026, 13:35:03 GMT+5:30" (de-DE), "12/06/2026, 08:05:03 AM UTC" (en-US). */
  dateTime(ms: number | null | undefined): string {
    if (ms == null || !Number.isFinite(ms)) return UNKNOWN;
    return this.full.format(ms);
  }

  /** The zone's short name at that moment, as the locale writes it: "MEZ", "GMT+5:30", "UTC". */
  zoneName(ms: number = Date.now()): string {
    return this.zone.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? this.timeZone ?? '';
  }

  /** The zone's IANA name: "Europe/Berlin", "UTC". */
  zoneId(): string {
    return this.timeZone ?? this.zone.resolvedOptions().timeZone;
  }

  /**
   * Labels of a time axis: ticks at `splitsS` (seconds), `incrS` apart. The time of day as precise
   * as the spacing needs, and under it (second line) the date wherever the day changes and on the
   * first tick; day ticks carry the year the same way.
   */
  axisLabels(splitsS: readonly (number | null)[], incrS: number): string[] {
    const sub = incrS < DAY_S;
    const main = this.axis(incrS < MINUTE_S ? 'seconds' : sub ? 'minutes' : incrS < MONTH_S ? 'day' : incrS < YEAR_S ? 'month' : 'year');
    const second = sub ? this.axis('day') : incrS < YEAR_S ? this.axis('year') : null;
    const key = sub ? this.dayKey : this.yearKey;
    let lastKey = '';
    return splitsS.map((s) => {
      if (s == null) return '';
      const ms = s * 1000;
      let label = main.format(ms);
      if (second) {
        const k = key.format(ms);
        if (k !== lastKey) label += `\n${second.format(ms)}`;
        lastKey = k;
      }
      return label;
    });
  }
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

// ---- the page's choice --------------------------------------------------------------------------

/** Set when the browser refuses storage (privacy settings): the choice then lasts this page only. */
let unstoredChoice: ZoneChoice | null = null;

/** The zone chosen on this browser; local unless UTC was picked. */
export function zoneChoice(): ZoneChoice {
  if (unstoredChoice) return unstoredChoice;
  try {
    return localStorage.getItem(STORAGE_KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}

export function setZoneChoice(choice: ZoneChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    unstoredChoice = choice;
  }
  window.dispatchEvent(new Event(CHANGE_EVENT));
}

let current: { choice: ZoneChoice; format: TimeFormat } | null = null;

/** The format of this page now: the browser's language, the chosen zone. */
export function times(): TimeFormat {
  const choice = zoneChoice();
  if (current?.choice !== choice) current = { choice, format: new TimeFormat(navigator.language, choice === 'utc' ? 'UTC' : undefined) };
  return current.format;
}

/** Calls `fn` after the zone changed, on this page or in another tab of this browser. */
export function onZoneChange(fn: () => void): void {
  window.addEventListener(CHANGE_EVENT, fn);
  window.addEventListener('storage', (e) => {
    if (e.key === STORAGE_KEY) fn();
  });
}

/** Local date and time with the zone, in the page's format: "06.12.2026, 13:35:03 MEZ". */
export function fmtDateTime(ms: number | null | undefined): string {
  return times().dateTime(ms);
}
