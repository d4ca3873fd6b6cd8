// The page header's shared parts, imported by every page that shows data: the Local/UTC switch,
// and "signed in as X (role) · Sign out" when the hub has logins (GET /api/me answers 404 on an
// open hub, and then nothing is shown).
import { csrfHeaders } from './api.ts';
import { h } from './dom.ts';
import { mountZoneSwitch } from './time-zone-switch.ts';
import './theme.ts';

async function showSignedIn(): Promise<void> {
  const res = await fetch('/api/me', { headers: { accept: 'application/json' } });
  if (!res.ok) return;
  const me = (await res.json()) as { name: string; role: string; via: string };
  const header = document.querySelector('header.top');
  if (!header || me.via !== 'session') return;
  const signOut = h('button', { type: 'button', class: 'sign-out', text: 'Sign out' });
  signOut.addEventListener('click', () => {
    void fetch('/api/logout', { method: 'POST', headers: csrfHeaders() }).finally(() => location.assign('/login'));
  });
  const box = h('span', { class: 'signed-in', 'data-user': me.name, 'data-role': me.role }, `signed in as ${me.name} (${me.role}) · `, signOut);
  (header.querySelector('.top-side') ?? header).append(box);
}

mountZoneSwitch();
void showSignedIn().catch(() => undefined); // a missing badge must not break the page
