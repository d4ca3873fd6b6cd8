// The Local/UTC switch in every page's header. It names the zone times are shown in; the choice is
// kept in this browser (time-format.ts) and every page redraws its times when it changes.
import { h } from './dom.ts';
import { TimeFormat, onZoneChange, setZoneChoice, whenFormatting, zoneChoice, type ZoneChoice } from './time-format.ts';

/** While set, the local zone is not named in an idle moment: the page's first draw waits for it (holdZoneNaming). */
let namingHeld: Promise<unknown> | null = null;

/**
 * The page's first draw waits for `until` (the fleet page's node list): the zone is named in an idle
 * moment after it, not in one while the list is on its way, whose arrival would then wait for the
 * formatter (tens of ms). Called in the same task as mountZoneSwitch, before the page is idle.
 */
export function holdZoneNaming(until: Promise<unknown>): void {
  const held = until.then(
    () => undefined,
    () => undefined,
  );
  namingHeld = held;
  void held.then(() => {
    if (namingHeld === held) namingHeld = null;
  });
}

export function mountZoneSwitch(): void {
  const header = document.querySelector('header.top');
  if (!header || header.querySelector('.zone-switch')) return;
  let side = header.querySelector('.top-side');
  if (!side) {
    side = h('div', { class: 'top-side' });
    header.append(side);
  }
  const button = (choice: ZoneChoice) => {
    const b = h('button', { type: 'button', 'data-zone': choice });
    b.addEventListener('click', () => {
      if (zoneChoice() !== choice) setZoneChoice(choice);
    });
    return b;
  };
  const local = button('local');
  const utc = button('utc');
  local.textContent = 'Local';
  local.title = "Times in this computer's zone";
  utc.textContent = 'UTC';
  utc.title = 'Times in UTC';
  const box = h('div', { class: 'zone-switch', role: 'group', 'aria-label': 'Time zone of the times shown' }, local, utc);
  // The local zone's names need a formatter, and a page's first costs tens of ms: they are written
  // when the page makes one anyway, or once it is idle, so a page that shows no time at first (the
  // fleet table) is drawn without one.
  let named = false;
  const nameLocalZone = () => {
    named = true;
    const zone = new TimeFormat(navigator.language, undefined);
    // The short name as this browser's language writes it, at this moment (summer time counts).
    local.textContent = `Local (${zone.zoneName()})`;
    local.title = `Times in this computer's zone, ${zone.zoneId()}`;
  };
  const show = () => {
    const choice = zoneChoice();
    if (named) nameLocalZone();
    local.setAttribute('aria-pressed', String(choice === 'local'));
    utc.setAttribute('aria-pressed', String(choice === 'utc'));
    box.dataset['zone'] = choice;
  };
  const nameOnce = () => {
    if (!named) nameLocalZone();
  };
  const nameWhenIdle = (): void => {
    if ('requestIdleCallback' in window) requestIdleCallback(nameUnlessHeld, { timeout: 1000 });
    else setTimeout(nameUnlessHeld, 200);
  };
  const nameUnlessHeld = (): void => {
    if (namingHeld) void namingHeld.then(nameWhenIdle);
    else nameOnce();
  };
  whenFormatting(nameOnce);
  nameWhenIdle();
  show();
  onZoneChange(show);
  side.prepend(box);
}
