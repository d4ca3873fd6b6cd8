// The Local/UTC switch in every page's header. It names the zone times are shown in; the choice is
// kept in this browser (time-format.ts) and every page redraws its times when it changes.
import { h } from './dom.ts';
import { TimeFormat, onZoneChange, setZoneChoice, zoneChoice, type ZoneChoice } from './time-format.ts';

export function mountZoneSwitch(): void {
  const header = document.querySelector('header.top');
  if (!header || header.querySelector('.zone-switch')) return;
  let side = header.querySelector('.top-side');
  if (!side) {
    side = h('div', { class: 'top-side' });
    header.append(side);
  }
  const localZone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  const button = (choice: ZoneChoice) => {
    const b = h('button', { type: 'button', 'data-zone': choice });
    b.addEventListener('click', () => {
      if (zoneChoice() !== choice) setZoneChoice(choice);
    });
    return b;
  };
  const local = button('local');
  const utc = button('utc');
  const box = h('div', { class: 'zone-switch', role: 'group', 'aria-label': 'Time zone of the times shown' }, local, utc);
  const show = () => {
    const choice = zoneChoice();
    // The short name as this browser's language writes it, at this moment (summer time counts).
    local.textContent = `Local (${new TimeFormat(navigator.language, undefined).zoneName()})`;
    local.title = `Times in this computer's zone, ${localZone}`;
    utc.textContent = 'UTC';
    utc.title = 'Times in UTC';
    local.setAttribute('aria-pressed', String(choice === 'local'));
    utc.setAttribute('aria-pressed', String(choice === 'utc'));
    box.dataset['zone'] = choice;
  };
  show();
  onZoneChange(show);
  side.prepend(box);
}
