// What the agent bundle needs only off the usual path: systeminformation (the birth record, read in
// a child process, and the sampler of platforms without /proc) and pino-pretty (logs on a terminal).
// scripts/build.mjs bundles these apart and carries them in the agent bundle compressed, to be compiled
// on first use: V8 holds a script's whole source for as long as the agent runs, and these were a
// third of it, never run by an agent under systemd.
export * as systeminformation from './systeminformation.ts';
export { default as pretty } from 'pino-pretty';
