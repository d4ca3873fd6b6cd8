// Runs in <head> before the page paints, so a page never flashes the wrong theme: the choice kept
// in this browser (web/client/theme.ts writes it), else the system's. theme.ts keeps it up to date.
(function () {
  var theme = null;
  try {
    theme = localStorage.getItem('remonitor.theme');
  } catch (e) {
    // storage blocked: follow the system
  }
  if (theme !== 'dark' && theme !== 'light') theme = matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = theme;
})();
