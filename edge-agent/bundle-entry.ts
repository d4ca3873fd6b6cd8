// Entry of the single-file agent bundle (dist/remonitor-agent.mjs): `node remonitor-agent.mjs --broker … --node …`.
// The bundle reads its birth record by running itself with BIRTH_RECORD_ARG (birth-record-child.ts).
// No top-level await: the bundle also runs as CommonJS (scripts/build.mjs), which has none.
import { BIRTH_RECORD_ARG, printBirthRecord } from './birth-record-child.ts';
import { AGENT_USAGE, runAgent } from './main.ts';
import { OptionsError } from '../shared/options.ts';
import { AGENT_VERSION } from '../shared/version.ts';

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(AGENT_USAGE);
  } else if (argv[0] === BIRTH_RECORD_ARG) {
    await printBirthRecord(AGENT_VERSION);
  } else {
    try {
      process.exitCode = await runAgent(argv, process.env, process.argv[1]);
    } catch (err) {
      console.error(err instanceof OptionsError ? `remonitor agent: ${err.message}` : err);
      process.exitCode = 2;
    }
  }
}

void main(process.argv.slice(2));
