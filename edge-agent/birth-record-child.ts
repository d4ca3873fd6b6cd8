// The single-file agent reads its birth record in a short-lived child process: the same bundle,
// run with BIRTH_RECORD_ARG, prints the record as JSON and exits. systeminformation's modules,
// their state and the processes they spawn then never enter the long-lived agent, which saves
// about 1 MiB of its resident memory (bench/agent-process.ts). If the child fails, the record is
// read in-process as before, so a node always announces itself.
import { execFile } from 'node:child_process';
import type { NodeInfo } from '../protocol/index.ts';
import { readBirthRecord } from './birth-record.ts';

/** The argument that makes the agent bundle print its birth record and exit. */
export const BIRTH_RECORD_ARG = '--birth-record-json';

/** Generous: systeminformation runs df and reads /proc, which a loaded Pi can take seconds over. */
const CHILD_TIMEOUT_MS = 60_000;

/** Prints the birth record on stdout: what the child does. */
export async function printBirthRecord(agentVersion: string): Promise<void> {
  process.stdout.write(JSON.stringify(await readBirthRecord(0, agentVersion)));
}

/**
 * Reads the birth record by running `node <script> --birth-record-json`, where script is the agent
 * bundle that is running now. interval_ms is this agent's: the child has no options.
 */
export function readBirthRecordInChild(script: string, intervalMs: number, agentVersion: string, warn: (msg: string) => void): Promise<NodeInfo> {
  return new Promise<NodeInfo>((resolve, reject) => {
    execFile(process.execPath, [script, BIRTH_RECORD_ARG], { timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout) => {
      if (err) return reject(err);
      try {
        const record = JSON.parse(stdout) as NodeInfo;
        if (typeof record !== 'object' || record === null || typeof record.v !== 'number') throw new Error(`not a birth record: ${stdout.slice(0, 80)}`);
        resolve({ ...record, interval_ms: intervalMs });
      } catch (parseErr) {
        reject(parseErr);
      }
    });
  }).catch((err: Error) => {
    warn(`birth record: the child process failed (${err.message.split('\n')[0]}); reading it in this process`);
    return readBirthRecord(intervalMs, agentVersion);
  });
}
