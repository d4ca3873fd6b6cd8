// The wrapper rule of name and command-line watches (edge-agent/process-watch.ts wrapperPids), as a
// table of process trees as /proc shows them: which matched processes are left out as launchers.
import { describe, expect, it } from 'vitest';
import { wrapperPids, type MatchedProcess } from '../../edge-agent/process-watch.ts';

/** [pid, ppid, argv]; every row matched the target. */
type Row = [number, number, string[]];

const APP = ['node', 'app.js'];

const TABLE: [string, Row[], number[]][] = [
  [
    'timeout around the app',
    [
      [10, 1, ['timeout', '60', ...APP]],
      [11, 10, APP],
    ],
    [10],
  ],
  [
    'remonitor record around the app',
    [
      [10, 1, ['/usr/bin/node', '/usr/local/bin/remonitor', 'record', '--fail-on-leak', '--', ...APP]],
      [11, 10, APP],
    ],
    [10],
  ],
  [
    'sudo, then time, around the app',
    [
      [10, 1, ['sudo', '/usr/bin/time', ...APP]],
      [11, 10, ['/usr/bin/time', ...APP]],
      [12, 11, APP],
    ],
    [10, 11],
  ],
  [
    'sh -c with more after the app',
    [
      [10, 1, ['sh', '-c', 'node app.js; echo done']],
      [11, 10, APP],
    ],
    [10],
  ],
  [
    'bash -ec with quoting that changes the words',
    [
      [10, 1, ['bash', '-ec', "node 'app.js' --port 80"]],
      [11, 10, [...APP, '--port', '80']],
    ],
    [10],
  ],
  // npm's process title replaces its argv: one string, spaces and all.
  [
    'npm exec, its sh -c, and the app',
    [
      [10, 1, ['npm exec node app.js']],
      [11, 10, ['sh', '-c', "'node' 'app.js'"]],
      [12, 11, APP],
    ],
    [10, 11],
  ],
  [
    'npx by its script under node',
    [
      [10, 1, ['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npx-cli.js', ...APP]],
      [11, 10, APP],
    ],
    [10],
  ],
  ['timeout whose child has not started: it is all there is', [[10, 1, ['timeout', '60', ...APP]]], []],
  [
    'a cluster master and its workers (same command line)',
    [
      [10, 1, APP],
      [11, 10, APP],
      [12, 10, APP],
    ],
    [],
  ],
  [
    'a process forking itself with fewer arguments',
    [
      [10, 1, ['/usr/bin/node', '/srv/app.js', '--port', '80']],
      [11, 10, ['/usr/bin/node', '/srv/app.js']],
    ],
    [],
  ],
  [
    'nginx master and workers',
    [
      [10, 1, ['nginx: master process /usr/sbin/nginx']],
      [11, 10, ['nginx: worker process']],
    ],
    [],
  ],
  [
    'an interactive bash and its subshell (name:bash)',
    [
      [10, 1, ['-bash']],
      [11, 10, ['-bash']],
    ],
    [],
  ],
  [
    'a shell running a script, not a command string',
    [
      [10, 1, ['bash', 'run-app.js.sh']],
      [11, 10, APP],
    ],
    [],
  ],
  [
    'an app that runs sh -c itself: the app stays, its sh has no matching child',
    [
      [10, 1, APP],
      [11, 10, ['sh', '-c', 'gzip app.js.log']],
    ],
    [],
  ],
  [
    'two unrelated matches',
    [
      [10, 1, APP],
      [20, 1, ['timeout', '5', ...APP]],
    ],
    [],
  ],
];

describe('watch wrappers', () => {
  it.each(TABLE)('%s', (_what, rows, expected) => {
    const matched: MatchedProcess[] = rows.map(([pid, ppid, argv]) => ({ pid, ppid, argv }));
    expect([...wrapperPids(matched)].sort((a, b) => a - b)).toEqual(expected);
  });
});
