// Notices changes to the rules file while the hub runs: fs.watch on its directory (an editor or
// `git checkout` replaces the file by a rename, which a watch on the file itself would miss), a
// short debounce so that a burst of writes is read once, and a periodic check as the fallback
// where watching fails (inotify limits, network filesystems). What a change means is RulesFile's
// business (rule-file.ts): this only says when to look.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../shared/logger.ts';

export interface RuleFileWatchOptions {
  /** Quiet time after the last event before the file is read, ms. Default 200. */
  debounceMs?: number;
  /** The fallback check's period, ms. Default 5 s. */
  pollMs?: number;
}

export class RuleFileWatch {
  private watcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly onMaybeChanged: () => void,
    private readonly log: Logger,
    private readonly options: RuleFileWatchOptions = {},
  ) {}

  start(): void {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.soon();
      });
      this.watcher.on('error', (err) => {
        this.log.warn({ file: this.path, err: err.message }, 'watching the alarm rules file failed; it is still checked periodically');
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.log.warn({ file: this.path, err: (err as Error).message }, 'cannot watch the alarm rules file; it is checked periodically instead');
    }
    this.poll = setInterval(() => this.onMaybeChanged(), this.options.pollMs ?? 5000);
    this.poll.unref();
  }

  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.onMaybeChanged();
    }, this.options.debounceMs ?? 200);
    this.debounce.unref();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = this.debounce = null;
  }
}
