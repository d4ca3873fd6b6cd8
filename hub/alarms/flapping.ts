// Flapping, as Nagios has it: an alarm that keeps changing state is news in itself, and a message
// for each change would bury its channels. An alarm that changed state `flapChanges` times within
// `flapWindowMs` is flapping: its changes are still stored, published and listed (with
// `flapping: true`), but not notified. Once it has kept one state for `flapStableMs` it is no longer
// flapping, and one notification tells the state it settled in (from the state last told).
// The changes of a settled alarm are still remembered for `flapWindowMs`, so one that starts again
// soon is held back again at once.
// Pure: time is what the caller passes in (the hub's clock); test/hub/alarms/noise.test.ts.
import type { AlarmLevel } from '../../shared/alarm-types.ts';
import type { AlarmRule } from './rules.ts';

export type FlapParams = Pick<AlarmRule, 'flapChanges' | 'flapWindowMs' | 'flapStableMs'>;

export class FlapTracker {
  /** Times of the latest changes, oldest first: at most `flapChanges`, none older than the window. */
  private readonly times: number[] = [];
  flapping = false;

  /** `told`: the state notifications last told (a restored alarm's, or OK). */
  constructor(private told: AlarmLevel) {}

  /** Records a change to `to` at `nowMs`; true when it is to be notified. */
  change(to: AlarmLevel, nowMs: number, p: FlapParams): boolean {
    if (p.flapChanges > 0) {
      const times = this.times;
      times.push(nowMs);
      while (times.length > p.flapChanges || times[0]! <= nowMs - p.flapWindowMs) times.shift();
      if (times.length >= p.flapChanges) this.flapping = true;
    }
    if (this.flapping) return false;
    this.told = to;
    return true;
  }

  /**
   * Ends flapping once the alarm has kept its state `state` for `flapStableMs`. Returns the state
   * last told when it ends (the caller then tells `state`), else null.
   */
  settle(state: AlarmLevel, nowMs: number, p: FlapParams): AlarmLevel | null {
    if (!this.flapping) return null;
    const last = this.times[this.times.length - 1];
    if (last !== undefined && nowMs - last < p.flapStableMs) return null;
    this.flapping = false;
    const told = this.told;
    this.told = state;
    return told;
  }
}
