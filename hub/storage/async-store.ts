// The storage interface for backends that answer over a network (PostgreSQL): the methods of
// MetricsStore, each returning a Promise. Derived from MetricsStore, so the two never drift apart.
import type { MetricsStore } from './store.ts';

/** `F` with its result wrapped in a Promise (a result that is one already stays one Promise). */
export type Promised<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** MetricsStore with every method async; `samplePage` stays optional, as there. */
export type AsyncMetricsStore = { [K in keyof MetricsStore]: Promised<MetricsStore[K]> };

/** Either kind of store: callers `await` every call, which costs a sync store nothing. */
export type AnyMetricsStore = MetricsStore | AsyncMetricsStore;
