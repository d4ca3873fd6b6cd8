// Trouble a simulated node can be put through, so that a demo shows the shipped alarm rules
// (hub/alarms/rules.ts, defaultRules) at work: RED and offline within about two minutes, AMBER
// (which needs a trend) in about seven, rather than after hours of trend data. Each is a function
// of the time since the simulation started: values before it (a backfilled history) lead up to the
// trouble, so the charts tell the same story.
//
// What each raises with the default rules, counted from the node's first live sample:
//   disk-fill  `disk` RED after its `for` (the root filesystem is over 80 % from the start);
//   leak       `memory` RED after its `for` (a process has leaked for an hour: 80 % and rising);
//   hot        `throttled` RED at once (the firmware caps the clock at 80 °C), `temperature` RED
//              after its 2 minutes, `cpu` RED after its 5;
//   dies       `offline` once the hub has heard nothing for its stale period (10 s, or 5 intervals);
//   clock      `clock` RED at once (its clock is 10 minutes behind: a Pi before NTP synced);
//   warming    `temperature` AMBER after about 7 minutes (the trend needs 5 minutes of data and
//              then holds for the rule's 2), RED after about 27, `throttled` from 80 °C.

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const SCENARIOS = {
  'disk-fill': 'the root filesystem fills fast (a runaway log, 16 MB/s): 80.5 % at the start, full after about 6.5 minutes',
  leak: 'a process ("node") leaks 45 % of memory an hour: 80.5 % at the start, growing',
  hot: 'a busy loop on a Pi: CPU near 100 %, 84–86 °C, the firmware capping its clock',
  dies: 'publishes for 30 s, then goes silent as a node whose power was cut',
  clock: 'its clock is 10 minutes behind',
  warming: 'its fan failed: the CPU warms 1 °C a minute from 55 °C, to 85 °C where the firmware holds it',
} as const;
export type ScenarioName = keyof typeof SCENARIOS;
export const SCENARIO_NAMES = Object.keys(SCENARIOS) as ScenarioName[];

/** The node of the `dies` scenario sends nothing from this long after the start. */
export const DIES_AFTER_MS = 30_000;
/** How far behind the clock of the `clock` scenario is: well past the hub's 2-minute tolerance. */
export const CLOCK_OFFSET_MS = -10 * MINUTE_MS;

/** `disk-fill`: use % of the root filesystem `t` ms after the start (1 %/day before it, then 3 %/min). */
export function diskFillPct(t: number): number {
  return t < 0 ? Math.max(35, 80.5 + t / DAY_MS) : Math.min(100, 80.5 + (3 * t) / MINUTE_MS);
}

/** `disk-fill`: bytes written per second while it fills. */
export function diskFillWriteBps(t: number, diskBytes: number): number {
  return t >= 0 && diskFillPct(t) < 100 ? Math.round((0.03 * diskBytes) / 60) : 0;
}

/** `leak`: share of memory the leaking process holds `t` ms after the start; it began an hour before. */
export function leakedShare(t: number): number {
  return Math.max(0, (0.455 * (t + HOUR_MS)) / HOUR_MS);
}

/** `leak`: the memory of everything else, as a share: flat, so that the leak alone decides the crossing. */
export const LEAK_BASE_SHARE = 0.35;

/** `hot`: the busy loop started this long before the simulation did (the history shows it warming). */
export const HOT_LEAD_MS = 10 * MINUTE_MS;

/** `hot`: CPU temperature `t` ms after the start (t ≥ −HOT_LEAD_MS), °C; `noise` in [0, 1). */
export function hotTempC(t: number, noise: number): number {
  return t < 0 ? 60 + (24 * (t + HOT_LEAD_MS)) / HOT_LEAD_MS + noise : 84 + 2 * noise;
}

/** `warming`: CPU temperature `t` ms after the start, °C; `noise` in [0, 1). */
export function warmingTempC(t: number, noise: number): number {
  return Math.min(85, 55 + Math.max(0, t) / MINUTE_MS) + noise;
}

/** Raspberry Pi firmware bits (vcgencmd get_throttled) at a temperature: capped and soft limit from 80 °C, throttled from 85 °C; +16 "since boot". */
export function throttledBits(tempC: number, before: number): number {
  const now = tempC >= 80 ? 0b1010 | (tempC >= 85 ? 0b0100 : 0) : 0;
  const since = ((before >>> 16) | now) & 0xf;
  return now | (since << 16);
}

/**
 * Parses `disk-fill,leak,hot` (or `none`): each known name at most once. Returns the names, or a
 * problem naming the unknown or repeated one and the names known.
 */
export function parseScenarios(raw: string): ScenarioName[] | { problem: string } {
  const text = raw.trim();
  if (text === 'none' || text === '') return [];
  const names = text.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (!(SCENARIO_NAMES as string[]).includes(name))
      return { problem: `unknown scenario ${JSON.stringify(name)}; known: ${SCENARIO_NAMES.join(', ')}, or none` };
    if (seen.has(name)) return { problem: `scenario ${JSON.stringify(name)} is listed twice` };
    seen.add(name);
  }
  return names as ScenarioName[];
}
