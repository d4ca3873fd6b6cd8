// The login page (`/login?next=/path`): name and password to POST /api/login, then back to the
// page that sent us here (same-site paths only), or the fleet.
import { byId } from './dom.ts';
import { safeNext } from './safe-next.ts';
import './theme.ts';

const form = byId<HTMLFormElement>('login');
const submit = byId<HTMLButtonElement>('login-submit');
const errorBox = byId('error');

function showProblem(message: string | null): void {
  errorBox.textContent = message ?? '';
  errorBox.hidden = message === null;
}

async function logIn(name: string, password: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name, password }),
    });
  } catch (err) {
    showProblem(`Cannot reach the hub: ${(err as Error).message}`);
    return;
  }
  if (res.ok) {
    location.assign(safeNext(new URLSearchParams(location.search).get('next'), location.origin));
    return;
  }
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 401) showProblem('Wrong name or password.');
  else if (res.status === 429) showProblem(`Too many failed attempts: wait ${res.headers.get('retry-after') ?? 'a minute'} s and try again.`);
  else showProblem(body.error ?? `${res.status} ${res.statusText}`);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  submit.disabled = true;
  showProblem(null);
  const name = byId<HTMLInputElement>('login-name').value.trim();
  const password = byId<HTMLInputElement>('login-password').value;
  void logIn(name, password).finally(() => (submit.disabled = false));
});
byId<HTMLInputElement>('login-name').focus();
