// A request's query parameters (or JSON body) checked against one valibot schema: the typed values,
// or every problem in one 400 message, each naming its parameter and the value it was given
// (`from="yesterday": expected epoch ms, "now" or relative like -1h; points="9999": …`).
import * as v from 'valibot';

/** Parameters as Hono gives a query (`c.req.query()`): each name with its text. */
export type QueryParams = Record<string, string>;

/** `name="value": problem` for an issue at a parameter; a problem across parameters as it is. */
function problemOf(issue: v.BaseIssue<unknown>): string {
  const at = issue.path?.[0];
  if (!at) return issue.message;
  const given = at.value === undefined ? 'missing' : JSON.stringify(at.value).slice(0, 100);
  return `${String(at.key)}=${given}: ${issue.message}`;
}

/** The parameters' values, or the message to answer 400 with. The first failed step of each parameter is its problem. */
export function parseParams<TSchema extends v.GenericSchema>(schema: TSchema, params: unknown): { params: v.InferOutput<TSchema> } | { error: string } {
  const result = v.safeParse(schema, params, { abortPipeEarly: true });
  return result.success ? { params: result.output } : { error: result.issues.map(problemOf).join('; ') };
}

/** A JSON body's fields, or the message to answer 400 with: every problem as `field: problem` (the problem quotes the value). */
export function parseBody<TSchema extends v.GenericSchema>(schema: TSchema, body: unknown): { body: v.InferOutput<TSchema> } | { error: string } {
  const result = v.safeParse(schema, body, { abortPipeEarly: true });
  if (result.success) return { body: result.output };
  return { error: result.issues.map((issue) => (issue.path?.length ? `${String(issue.path[0]!.key)}: ${issue.message}` : issue.message)).join('; ') };
}

/** A parameter of a fixed list of words, `fallback` when absent. */
export const choiceParam = <const T extends readonly string[]>(choices: T, fallback: T[number]) =>
  v.optional(v.picklist(choices, `expected ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`), fallback);
