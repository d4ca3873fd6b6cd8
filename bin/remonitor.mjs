#!/usr/bin/env node
// Entry point of the `remonitor` command; the CLI itself is built into dist/ by `npm install`.
import { existsSync } from 'node:fs';

const built = new URL('../dist/remonitor.mjs', import.meta.url);
if (!existsSync(built)) {
  console.error('remonitor: dist/remonitor.mjs is missing; run `npm install` (or `npm run build`) in the checkout first');
  process.exit(1);
}
await import(built.href);
