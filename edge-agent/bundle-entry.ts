// Entry of the single-file agent bundle (dist/remonitor-agent.mjs): `node remonitor-agent.mjs --broker … --node …`.
import { AGENT_USAGE, runAgent } from './main.ts';
import { OptionsError } from './options.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(AGENT_USAGE);
} else {
  try {
    process.exitCode = await runAgent(argv);
  } catch (err) {
    console.error(err instanceof OptionsError ? `remonitor agent: ${err.message}` : err);
    process.exitCode = 2;
  }
}
