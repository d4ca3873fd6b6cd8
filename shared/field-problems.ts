// Valibot issues as the API reports problems: `{ field, problem }`, the field a path such as
// `rules[3].labels.unit` or `notify.channels[1]`, the problem the schema's own message (which
// gives the bad value). Also the two pieces the request schemas share: an object that names each
// unknown key, and checks across fields that run once the fields they read are valid.
import * as v from 'valibot';
import type { FieldProblem } from './alarm-types.ts';

/** A value as a message quotes it, cut to `max` characters. */
export function shown(value: unknown, max = Number.POSITIVE_INFINITY): string {
  return String(JSON.stringify(value)).slice(0, max);
}

/** `rules[3].labels.unit`: keys joined with dots, list indexes in brackets. */
export function fieldOf(path: readonly { key: unknown }[] | undefined): string {
  let field = '';
  for (const { key } of path ?? []) field += typeof key === 'number' ? `[${key}]` : field === '' ? String(key) : `.${String(key)}`;
  return field;
}

/** Every issue as a problem; `at` is put before each field as it is (`rules[3].`). */
export function problemsOf(issues: readonly v.BaseIssue<unknown>[] | undefined, at = ''): FieldProblem[] {
  return (issues ?? []).map((issue) => ({ field: `${at}${fieldOf(issue.path)}`, problem: issue.message }));
}

/** The problems of `input` against `schema`, or its output when there are none. */
export function parseProblems<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  at = '',
): { output: v.InferOutput<TSchema> } | { problems: FieldProblem[] } {
  const result = v.safeParse(schema, input);
  return result.success ? { output: result.output } : { problems: problemsOf(result.issues, at) };
}

/** A JSON object, not an array (valibot's object schemas take any object). */
export function plainObject(notAnObject: (input: unknown) => string) {
  return v.custom<Record<string, unknown>>(
    (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
    (issue) => notAnObject(issue.input),
  );
}

/**
 * An object of these entries only. Each unknown key is a problem of its own (valibot's
 * strictObject stops at the first); a missing required key is "is required", at its field.
 */
export function closedObject<TEntries extends v.ObjectEntries>(
  entries: TEntries,
  notAnObject: (input: unknown) => string,
): v.GenericSchema<unknown, v.InferOutput<v.ObjectSchema<TEntries, undefined>>> {
  const known = Object.keys(entries).join(', ');
  return v.pipe(
    plainObject(notAnObject),
    v.objectWithRest(entries, v.never(`unknown field; known: ${known}`), (issue) =>
      issue.path?.[0]?.origin === 'key' ? 'is required' : notAnObject(issue.input),
    ),
  ) as unknown as v.GenericSchema<unknown, v.InferOutput<v.ObjectSchema<TEntries, undefined>>>;
}

/** Whether the issues so far leave each of `keys` (top-level fields) valid, so a check across them may read them. */
function valid(dataset: { issues?: readonly v.BaseIssue<unknown>[] | undefined }, keys: readonly string[]): boolean {
  return !dataset.issues?.some((issue) => issue.path === undefined || keys.includes(String(issue.path[0]?.key)));
}

/**
 * A check across the fields `keys` of an object, run once those are valid (the others may still
 * have problems): `check` reports each problem at the field it names, which may be nested
 * (`['labels', 'unit']`).
 */
export function across<TInput extends Record<string, unknown>>(
  keys: readonly (keyof TInput & string)[],
  check: (input: TInput, report: (path: readonly (string | number)[], problem: string) => void) => void,
): v.RawCheckAction<TInput> {
  return v.rawCheck<TInput>(({ dataset, addIssue }) => {
    if (!valid(dataset, keys)) return;
    const input = dataset.value as TInput;
    check(input, (path, problem) => {
      let at: unknown = input;
      const items = path.map((key) => {
        const parent = at as Record<string | number, unknown>;
        at = parent?.[key];
        return { type: 'unknown', origin: 'value', input: parent, key, value: at } as const;
      });
      addIssue({ message: problem, path: items as unknown as [v.IssuePathItem, ...v.IssuePathItem[]] });
    });
  });
}

/** Problems on one line, for an error message or a log: `field: problem; field: problem`. */
export function formatFieldProblems(problems: readonly FieldProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.problem}` : p.problem)).join('; ');
}
