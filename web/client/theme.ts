// The light/dark theme of every page. The system's choice (prefers-color-scheme) by default; the
// header's toggle overrides it in this browser. /assets/theme-boot.js sets <html data-theme> before
// the first paint from the same stored key; style.css holds the colours of both themes.
import { h } from './dom.ts';

export type Theme = 'light' | 'dark';

/** localStorage key, also read by web/public/theme-boot.js. */
const STORAGE_KEY = 'remonitor.theme';
const systemDark = matchMedia('(prefers-color-scheme: dark)');
const listeners: (() => void)[] = [];

function stored(): Theme | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'dark' || value === 'light' ? value : null;
  } catch {
    return null; // storage blocked: follow the system
  }
}

const systemTheme = (): Theme => (systemDark.matches ? 'dark' : 'light');

export function currentTheme(): Theme {
  return document.documentElement.dataset['theme'] === 'dark' ? 'dark' : 'light';
}

/** Calls `fn` after the theme changed (the toggle, or the system's setting while no choice is kept). */
export function onThemeChange(fn: () => void): void {
  listeners.push(fn);
}

function apply(theme: Theme): void {
  if (document.documentElement.dataset['theme'] === theme) return;
  document.documentElement.dataset['theme'] = theme;
  for (const fn of listeners) fn();
}

/** Keeps `theme` in this browser; a choice equal to the system's is forgotten, so the page follows the system again. */
export function setTheme(theme: Theme): void {
  try {
    if (theme === systemTheme()) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // storage blocked: the choice lasts until the page is left
  }
  apply(theme);
}

systemDark.addEventListener('change', () => {
  if (!stored()) apply(systemTheme());
});
// Another tab changed the choice.
addEventListener('storage', (e) => {
  if (e.key === STORAGE_KEY) apply(stored() ?? systemTheme());
});

/** The "Dark" toggle in the page's header (once per page). */
export function mountThemeToggle(): void {
  const header = document.querySelector('header.top');
  if (!header || header.querySelector('.theme-toggle')) return;
  let side = header.querySelector('.top-side');
  if (!side) {
    side = h('div', { class: 'top-side' });
    header.append(side);
  }
  const button = h('button', { type: 'button', class: 'theme-toggle', title: 'Dark theme (kept in this browser)', text: 'Dark' });
  const show = () => button.setAttribute('aria-pressed', String(currentTheme() === 'dark'));
  button.addEventListener('click', () => setTheme(currentTheme() === 'dark' ? 'light' : 'dark'));
  show();
  onThemeChange(show);
  side.append(button);
}

if (!document.documentElement.dataset['theme']) apply(stored() ?? systemTheme()); // theme-boot.js did not run
mountThemeToggle();
