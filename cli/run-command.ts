// Runs one command as the `remonitor` binary and the single-file record bundle both do: `--help`
// prints its usage, bad options exit 2 with every problem named, any other failure exits 1.
import { OptionsError } from '../shared/options.ts';

export interface Command {
  run: (argv: string[]) => Promise<number>;
  usage: string;
}

export async function runCommand(name: string, command: Command, argv: string[]): Promise<number> {
  // Only the command's own options: `record -- COMMAND --help` passes --help on to COMMAND.
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  if (own.includes('--help') || own.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(argv);
  } catch (err) {
    console.error(`remonitor ${name}: ${(err as Error).message}`);
    return err instanceof OptionsError ? 2 : 1;
  }
}
