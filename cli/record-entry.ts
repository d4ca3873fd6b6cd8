// Entry of the single-file record bundle (dist/remonitor-record.mjs), which the hub serves at
// /agent/remonitor-record.mjs for CI jobs: `node remonitor-record.mjs [options] -- COMMAND ARGS…`,
// plain Node and nothing to install. The same command as `remonitor record`.
import { RECORD_USAGE, runRecord } from './record.ts';
import { runCommand } from './run-command.ts';

const code = await runCommand('record', { run: runRecord, usage: RECORD_USAGE }, process.argv.slice(2));
// Exit now, with the verdict's code: a CI step must not wait on a reconnect timer or a straggler.
process.exit(code);
