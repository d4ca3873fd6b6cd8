// The alarms page's rules: the list (everyone), and for admins a form per rule (new, edit), enable,
// disable, delete, and the whole set exported and imported as the rules file's JSON. The hub judges
// every rule (hub/alarms/rules.ts, validateRule); the form only sends what was typed and puts each
// problem the API answers ({field, problem}) beside the input it is about. The file's own state
// (where it is, when it was read, the problems of an edit that was not applied) is shown above.
import { LABELLED_METRICS, METRIC_SPECS } from '../../protocol/metrics.ts';
import { SPECIAL_RULE_METRICS, type AlarmRuleInput, type FieldProblem, type RulesResponse } from '../../shared/alarm-types.ts';
import { csrfHeaders } from './api.ts';
import { byId, h, setText } from './dom.ts';
import { fmtDateTime } from './format.ts';
import { zoneChoice } from './time-format.ts';

/** A refused request: the API's message and its problems by field. */
export class Refused extends Error {
  constructor(
    message: string,
    readonly problems: FieldProblem[],
  ) {
    super(message);
  }
}

/** Sends JSON; throws Refused with the API's problems when it answers 4xx/5xx. */
export async function sendJson<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: csrfHeaders({ 'content-type': 'application/json', accept: 'application/json' }),
    body: body === undefined ? null : JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => ({}))) as { error?: string; problems?: FieldProblem[] };
  if (!res.ok) throw new Refused(answer.error ?? `${res.status} ${res.statusText}`, answer.problems ?? []);
  return answer as T;
}

/** Shows each problem beside its field (`fields` by key) and the rest in `general`; clears the old ones. */
export function showProblems(form: HTMLElement, problems: readonly FieldProblem[], keyOf: (field: string) => string, general: HTMLElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.problem[data-for]')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const rest: string[] = [];
  for (const p of problems) {
    const key = keyOf(p.field);
    const box = form.querySelector<HTMLElement>(`.problem[data-for="${CSS.escape(key)}"]`);
    if (!box) {
      rest.push(p.field ? `${p.field}: ${p.problem}` : p.problem);
      continue;
    }
    // Several problems of one list (nodes[0], nodes[2]) or of one object (labels.unit) share its box, each with its field.
    const text = /\[\d+\]|(^|\.)labels\./.test(p.field) ? `${p.field}: ${p.problem}` : p.problem;
    box.textContent = box.textContent ? `${box.textContent}; ${text}` : text;
    box.hidden = false;
    box.parentElement?.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
  }
  general.replaceChildren(...rest.map((t) => h('li', { text: t })));
  general.hidden = rest.length === 0;
}

/** A labelled input with its problem line; `key` is what problems are mapped to. */
function field(key: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  input.id ||= `rule-${key}`;
  input.setAttribute('aria-describedby', `${input.id}-problem`);
  return h(
    'div',
    { class: 'field', 'data-field': key },
    h('label', { for: input.id, text: label }),
    input,
    hint ? h('span', { class: 'hint', text: hint }) : null,
    h('p', { class: 'problem', id: `${input.id}-problem`, 'data-for': key, role: 'alert', hidden: true }),
  );
}

const text = (id: string, value: string | undefined, placeholder = '') =>
  h('input', { type: 'text', id, value: value ?? '', placeholder, spellcheck: 'false', autocomplete: 'off' });

/** The form's key for an API field: `rules[2].` dropped, list items to their list, a channel to its row. */
function ruleKey(field: string): string {
  const f = field.replace(/^rules\[\d+\]\./, '');
  const channel = /^notify\.channels\[(\d+)\]/.exec(f);
  if (channel) return `channel-${channel[1]}`;
  if (f.startsWith('notify')) return f === 'notify.channels' ? 'channels' : 'notify';
  if (f.startsWith('labels')) return 'labels';
  return f.replace(/\[\d+\].*$/, '');
}

/** Keys the form edits; any other key of a rule (noise control, notification timing) is kept as it was. */
const FORM_KEYS = [
  'id',
  'metric',
  'when',
  'threshold',
  'labels',
  'for',
  'window',
  'horizon',
  'trend_window',
  'nodes',
  'node_pattern',
  'tags',
  'enabled',
  'description',
];

const list = (value: string) => value.split(/[\s,]+/).filter((v) => v !== '');

/** The labels a labelled metric's values carry, for the labels field's hint; null for other metrics, [] for a node's own (any). */
function labelsOf(metric: string): string[] | null {
  const spec = LABELLED_METRICS.find((m) => m.name === metric);
  if (spec) return [spec.label, ...(spec.otherLabels ?? [])].filter((l) => l !== '');
  return metric.startsWith('custom:') ? [] : null;
}

/** `{"container": "web*"}` as the form shows it: `container=web*, image=nginx*`. */
const labelsText = (labels: Record<string, string> | undefined) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** The labels field as the rule's `labels`; text the form cannot read goes as it is, for the hub to refuse with its reason. */
function parseLabels(value: string): Record<string, string> | string | undefined {
  const parts = value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) return value.trim();
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The metric choices: the registry's alarm metrics, its labelled metrics (one alarm per label set), then the special forms. */
function metricSelect(current: string): { select: HTMLSelectElement; param: HTMLInputElement; value: () => string } {
  const select = h('select', { id: 'rule-metric' });
  select.append(
    h(
      'optgroup',
      { label: 'Metrics' },
      ...METRIC_SPECS.filter((s) => s.alarms).map((m) => h('option', { value: m.name, text: `${m.name} — ${m.description} (${m.unit})` })),
    ),
    h(
      'optgroup',
      { label: 'Labelled metrics: one alarm per label set' },
      ...LABELLED_METRICS.map((m) => h('option', { value: m.name, text: `${m.name}${m.label ? ` {${m.label}}` : ''} — ${m.description} (${m.unit})` })),
    ),
    h(
      'optgroup',
      { label: 'Special' },
      ...SPECIAL_RULE_METRICS.map((s) => h('option', { value: s.metric, text: `${s.metric}${s.param ? `${s.param.toUpperCase()}` : ''} — ${s.description}` })),
    ),
  );
  const param = h('input', { type: 'text', id: 'rule-metric-param', spellcheck: 'false', 'aria-label': 'Mount or process name' });
  const special = SPECIAL_RULE_METRICS.find((s) => s.param && current.startsWith(s.metric));
  if (special) {
    select.value = special.metric;
    param.value = current.slice(special.metric.length);
  } else if (current) {
    if (![...select.options].some((o) => o.value === current)) select.append(h('option', { value: current, text: current }));
    select.value = current;
  }
  const sync = () => {
    const s = SPECIAL_RULE_METRICS.find((m) => m.metric === select.value);
    param.hidden = !s?.param;
    param.placeholder = s?.param ?? '';
  };
  select.addEventListener('change', sync);
  sync();
  return { select, param, value: () => (param.hidden ? select.value : `${select.value}${param.value.trim()}`) };
}

/** Sends what was typed: a number when it reads as one, else the text itself for the hub to refuse with its reason. */
function numberOrText(value: string): number | string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function channelRow(url: string, index: number, rows: HTMLElement): HTMLElement {
  const input = h('input', {
    type: 'text',
    class: 'channel-url',
    value: url,
    placeholder: 'https://…, ntfy://host/topic, telegram://…',
    spellcheck: 'false',
    'aria-label': `Channel ${index + 1}`,
  });
  input.id = `rule-channel-${index}`;
  const result = h('span', { class: 'channel-result', 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'channel-test', text: 'Send a test' });
  test.addEventListener('click', () => {
    test.disabled = true;
    result.textContent = 'sending…';
    sendJson('POST', '/api/alarms/channels/test', { url: input.value.trim() })
      .then(() => (result.textContent = 'Sent: look for it on the channel.'))
      .catch((err: Error) => (result.textContent = `Not sent: ${err.message}`))
      .finally(() => (test.disabled = false));
  });
  const remove = h('button', { type: 'button', class: 'channel-remove', text: 'Remove', 'aria-label': `Remove channel ${index + 1}` });
  const row = h(
    'div',
    { class: 'field channel', 'data-field': `channel-${index}` },
    input,
    ' ',
    test,
    ' ',
    remove,
    ' ',
    result,
    h('p', { class: 'problem', id: `${input.id}-problem`, 'data-for': `channel-${index}`, role: 'alert', hidden: true }),
  );
  input.setAttribute('aria-describedby', `${input.id}-problem`);
  remove.addEventListener('click', () => {
    row.remove();
    renumber(rows);
  });
  return row;
}

/** After a removal: the rows' problem keys follow their new positions, as the API will count them. */
function renumber(rows: HTMLElement): void {
  [...rows.children].forEach((row, i) => {
    row.setAttribute('data-field', `channel-${i}`);
    row.querySelector('.problem')?.setAttribute('data-for', `channel-${i}`);
  });
}

/** The form of one rule (null: a new one) in a dialog; `saved` after the hub took it. */
export function openRuleEditor(rule: AlarmRuleInput | null, saved: () => void): void {
  const original = (rule ?? {}) as Record<string, unknown>;
  const isNew = rule === null;
  const id = text('rule-id', rule?.id, 'disk-data');
  id.readOnly = !isNew;
  // A new rule starts on the first metric of the list.
  const metric = metricSelect(rule?.metric ?? METRIC_SPECS.find((s) => s.alarms)!.name);
  const threshold = h('input', {
    type: 'text',
    id: 'rule-threshold',
    inputmode: 'decimal',
    value: rule?.threshold === undefined ? '' : String(rule.threshold),
    autocomplete: 'off',
  });
  // RED above the threshold, or below it (a container not running, a weak signal).
  const when = h('select', { id: 'rule-when' }, h('option', { value: 'above', text: 'above' }), h('option', { value: 'below', text: 'below' }));
  when.value = rule?.when ?? 'above';
  const labels = text('rule-labels', labelsText(rule?.labels), 'container=web*');
  const labelsHint = h('span', { class: 'hint' });
  const labelsRow = field('labels', 'Labels', labels);
  labelsRow.insertBefore(labelsHint, labelsRow.querySelector('.problem'));
  // Shown for labelled metrics only, with the labels the metric carries.
  const syncLabels = () => {
    const carried = labelsOf(metric.value());
    labelsRow.hidden = carried === null && labels.value.trim() === '';
    labelsHint.textContent =
      carried === null
        ? 'only for labelled metrics'
        : `label=glob, comma-separated (* any run, ? one); none: every label set${carried.length ? `. Labels: ${carried.join(', ')}` : ''}`;
  };
  metric.select.addEventListener('change', syncLabels);
  metric.param.addEventListener('input', syncLabels);
  syncLabels();
  const durations = (['for', 'window', 'horizon', 'trend_window'] as const).map((key) => [key, text(`rule-${key}`, rule?.[key])] as const);
  const nodes = text('rule-nodes', rule?.nodes?.join(', '), 'pi-1, pi-2');
  const pattern = text('rule-node_pattern', rule?.node_pattern, 'pi-*');
  const tags = text('rule-tags', (original['tags'] as string[] | undefined)?.join(', '), 'site-b, room:kitchen');
  const enabled = h('input', { type: 'checkbox', id: 'rule-enabled', checked: rule?.enabled !== false });
  const description = h('textarea', { id: 'rule-description', rows: 2, maxlength: 500 });
  description.value = rule?.description ?? '';
  const rows = h('div', { class: 'channel-rows' });
  (rule?.notify?.channels ?? []).forEach((url, i) => rows.append(channelRow(url, i, rows)));
  const addChannel = h('button', { type: 'button', id: 'rule-add-channel', text: 'Add a channel' });
  addChannel.addEventListener('click', () => {
    const row = channelRow('', rows.children.length, rows);
    rows.append(row);
    row.querySelector('input')?.focus();
  });
  const { channels: _channels, ...otherNotify } = rule?.notify ?? {};
  const kept = [
    ...Object.keys(original)
      .filter((k) => !FORM_KEYS.includes(k) && k !== 'notify')
      .map((k) => `${k} ${JSON.stringify(original[k])}`),
    ...Object.entries(otherNotify).map(([k, v]) => `notify.${k} ${JSON.stringify(v)}`),
  ];
  const general = h('ul', { class: 'problems', id: 'rule-problems', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', id: 'rule-save', text: isNew ? 'Create rule' : 'Save rule' });
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const form = h(
    'form',
    { id: 'rule-form', novalidate: true },
    h('h2', { text: isNew ? 'New alarm rule' : `Rule ${rule.id}` }),
    general,
    field('id', 'Id', id, isNew ? 'letters, digits, . _ -' : 'the id stays; delete and create to rename'),
    h(
      'div',
      { class: 'field', 'data-field': 'metric' },
      h('label', { for: 'rule-metric', text: 'Metric' }),
      metric.select,
      ' ',
      metric.param,
      h('p', { class: 'problem', id: 'rule-metric-problem', 'data-for': 'metric', role: 'alert', hidden: true }),
    ),
    h(
      'div',
      { class: 'field-row' },
      field('when', 'Fires when', when, 'the value is above or below the threshold'),
      field('threshold', 'Threshold', threshold, "in the metric's unit (not used by offline)"),
    ),
    labelsRow,
    h(
      'div',
      { class: 'field-row' },
      ...durations.map(([key, input]) => field(key, key.replace('_', ' '), input, key === 'horizon' ? '"0": no AMBER' : undefined)),
    ),
    h(
      'fieldset',
      {},
      h('legend', { text: 'Nodes (none given: every node; several: a node must match each)' }),
      field('nodes', 'These nodes', nodes),
      field('node_pattern', 'Name pattern', pattern, '* any run, ? one character'),
      field('tags', 'Carrying a tag', tags),
    ),
    h(
      'fieldset',
      { class: 'channels' },
      h('legend', { text: 'Notification channels' }),
      rows,
      addChannel,
      h('p', { class: 'problem', 'data-for': 'channels', role: 'alert', hidden: true }),
      h('p', { class: 'problem', 'data-for': 'notify', role: 'alert', hidden: true }),
    ),
    h(
      'div',
      { class: 'field check', 'data-field': 'enabled' },
      enabled,
      h('label', { for: 'rule-enabled', text: 'Enabled' }),
      h('p', { class: 'problem', 'data-for': 'enabled', role: 'alert', hidden: true }),
    ),
    field('description', 'Description', description),
    kept.length ? h('p', { class: 'hint', text: `Also in this rule, kept as they are (edit them in the file): ${kept.join(', ')}` }) : null,
    h('p', { class: 'actions' }, save, ' ', cancel),
  );
  const dialog = h('dialog', { class: 'rule-editor', 'aria-label': isNew ? 'New alarm rule' : `Edit rule ${rule.id}` }, form);

  const collect = (): Record<string, unknown> => {
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(original).filter(([k]) => !FORM_KEYS.includes(k) && k !== 'notify'));
    const put = (key: string, value: unknown) => {
      if (value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0)) out[key] = value;
    };
    put('id', id.value.trim());
    put('metric', metric.value());
    // "above" is the default: written only when the rule said it already.
    if (when.value === 'below' || 'when' in original) out['when'] = when.value;
    put('threshold', numberOrText(threshold.value));
    put('labels', parseLabels(labels.value));
    for (const [key, input] of durations) put(key, input.value.trim());
    put('nodes', list(nodes.value));
    put('node_pattern', pattern.value.trim());
    put('tags', list(tags.value));
    if (!enabled.checked || 'enabled' in original) out['enabled'] = enabled.checked;
    put('description', description.value.trim());
    const channels = [...rows.querySelectorAll<HTMLInputElement>('input.channel-url')].map((i) => i.value.trim());
    const notify = { ...otherNotify, ...(channels.length ? { channels } : {}) };
    if (Object.keys(notify).length) out['notify'] = notify;
    return out;
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save.disabled = true;
    const body = collect();
    const request = isNew ? sendJson('POST', '/api/alarms/rules', body) : sendJson('PUT', `/api/alarms/rules/${encodeURIComponent(rule.id)}`, body);
    request
      .then(() => {
        dialog.close();
        saved();
      })
      .catch((err: Error) => {
        const problems = err instanceof Refused && err.problems.length ? err.problems : [{ field: '', problem: err.message }];
        showProblems(form, problems, ruleKey, general);
        form.dataset['problems'] = String(problems.length);
        form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      })
      .finally(() => (save.disabled = false));
  });
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  (isNew ? id : threshold).focus();
}

/** Targets as one short text. */
function targets(r: AlarmRuleInput): string {
  const parts = [r.nodes?.length ? r.nodes.join(', ') : '', r.node_pattern ?? '', ((r as { tags?: string[] }).tags ?? []).map((t) => `#${t}`).join(' ')].filter(
    (p) => p !== '',
  );
  return parts.length ? parts.join(' · ') : 'all nodes';
}

/** A channel as the list shows it: scheme and host (its tokens stay in the form). */
function channelHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

export interface RulesView {
  render(rules: RulesResponse): void;
}

/** The rules section: file state, the list, and (for admins) new, edit, enable, delete, export, import. */
export function mountRules(canEdit: boolean, changed: () => void): RulesView {
  const tbody = byId<HTMLTableElement>('rules').tBodies[0]!;
  const fileBox = byId('rules-file');
  const tools = byId('rules-tools');
  let current: RulesResponse | null = null;
  let shown = '';
  const act = (fn: () => Promise<unknown>, button: HTMLButtonElement) => {
    button.disabled = true;
    fn()
      .then(changed)
      .catch((err: Error) => setText(byId('rules-message'), `Not done: ${err.message}`))
      .finally(() => (button.disabled = false));
  };
  if (canEdit) {
    const add = h('button', { type: 'button', id: 'rule-new', text: 'New rule' });
    add.addEventListener('click', () => openRuleEditor(null, changed));
    const exportButton = h('button', { type: 'button', id: 'rules-export', text: 'Export' });
    exportButton.addEventListener('click', () => {
      if (!current) return;
      const blob = new Blob([`${JSON.stringify({ version: current.version, rules: current.rules }, null, 2)}\n`], { type: 'application/json' });
      const a = h('a', { href: URL.createObjectURL(blob), download: 'alarm-rules.json' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    });
    const importInput = h('input', { type: 'file', id: 'rules-import', accept: 'application/json,.json', 'aria-label': 'Import a rules file' });
    const importProblems = h('ul', { class: 'problems', id: 'rules-import-problems', role: 'alert', hidden: true });
    importInput.addEventListener('change', () => {
      const file = importInput.files?.[0];
      if (!file) return;
      void file
        .text()
        .then((t) => {
          let doc: unknown;
          try {
            doc = JSON.parse(t);
          } catch (err) {
            throw new Refused(`${file.name} is not JSON: ${(err as Error).message}`, []);
          }
          return sendJson<RulesResponse>('PUT', '/api/alarms/rules', doc);
        })
        .then((r) => {
          importProblems.hidden = true;
          setText(byId('rules-message'), `Imported ${r.rules.length} rules from ${file.name}.`);
          changed();
        })
        .catch((err: Error) => {
          const problems = err instanceof Refused ? err.problems : [];
          importProblems.replaceChildren(
            ...(problems.length ? problems.map((p) => h('li', { text: p.field ? `${p.field}: ${p.problem}` : p.problem })) : [h('li', { text: err.message })]),
          );
          importProblems.hidden = false;
          setText(byId('rules-message'), `${file.name} was not imported:`);
        })
        .finally(() => (importInput.value = ''));
    });
    tools.append(add, ' ', exportButton, ' ', h('label', { class: 'import', for: 'rules-import', text: 'Import…' }), importInput, importProblems);
  }

  const row = (r: AlarmRuleInput): HTMLTableRowElement => {
    const actions: HTMLElement[] = [];
    if (canEdit) {
      const edit = h('button', { type: 'button', 'data-action': 'edit', text: 'Edit' });
      edit.addEventListener('click', () => openRuleEditor(r, changed));
      const on = r.enabled !== false;
      const toggle = h('button', { type: 'button', 'data-action': on ? 'disable' : 'enable', text: on ? 'Disable' : 'Enable' });
      toggle.addEventListener('click', () => act(() => sendJson('PUT', `/api/alarms/rules/${encodeURIComponent(r.id)}`, { ...r, enabled: !on }), toggle));
      const del = h('button', { type: 'button', 'data-action': 'delete', text: 'Delete' });
      // Two clicks: the first asks, the second deletes (within 5 s).
      let armed: ReturnType<typeof setTimeout> | null = null;
      del.addEventListener('click', () => {
        if (armed === null) {
          del.textContent = `Delete ${r.id}?`;
          armed = setTimeout(() => {
            armed = null;
            del.textContent = 'Delete';
          }, 5000);
          return;
        }
        clearTimeout(armed);
        act(() => sendJson('DELETE', `/api/alarms/rules/${encodeURIComponent(r.id)}`), del);
      });
      actions.push(edit, toggle, del);
    }
    const channels = r.notify?.channels ?? [];
    return h(
      'tr',
      { 'data-rule': r.id, 'data-enabled': String(r.enabled !== false) },
      h('td', { text: r.id }),
      h('td', { text: r.labels ? `${r.metric} {${labelsText(r.labels)}}` : r.metric }),
      h('td', { class: 'num', text: r.threshold === undefined ? '—' : r.when === 'below' ? `below ${r.threshold}` : String(r.threshold) }),
      h('td', { text: r.for ?? '—' }),
      h('td', { text: r.window ?? '—' }),
      h('td', { text: r.horizon ?? '—' }),
      h('td', { text: r.trend_window ?? '—' }),
      h('td', { text: targets(r) }),
      h('td', {
        text: channels.length ? channels.map(channelHost).join(', ') : '—',
        title: channels.length ? `${channels.length} channel${channels.length > 1 ? 's' : ''}` : '',
      }),
      h('td', { text: r.enabled === false ? 'off' : 'on' }),
      h('td', { class: 'wrap', text: r.description ?? '' }),
      h('td', {}, ...actions),
    );
  };

  return {
    render(rules: RulesResponse): void {
      // Unchanged: left alone, so that a Delete waiting for its second click keeps waiting.
      const key = JSON.stringify(rules) + zoneChoice();
      if (key === shown) return;
      shown = key;
      current = rules;
      const { file } = rules;
      fileBox.dataset['problems'] = String(file.problems.length);
      const loaded = file.loaded_at_ms === null ? '' : `, rules read ${fmtDateTime(file.loaded_at_ms)}`;
      fileBox.replaceChildren(
        h(
          'p',
          { class: 'hint' },
          'Rules file ',
          h('code', { text: file.path }),
          `${loaded}. Edits to it apply within seconds; changes made here are written to it.`,
        ),
      );
      if (file.problems.length) {
        fileBox.append(
          h(
            'div',
            { class: 'file-problems', role: 'alert' },
            h('p', {
              text: `The file on disk has ${file.problems.length} problem${file.problems.length > 1 ? 's' : ''} and was not applied; the rules below stay in force until it is fixed:`,
            }),
            h('ul', {}, ...file.problems.map((p) => h('li', { text: p.field ? `${p.field}: ${p.problem}` : p.problem }))),
          ),
        );
      }
      tbody.replaceChildren(...(rules.rules.length ? rules.rules.map(row) : [h('tr', {}, h('td', { colspan: 12, class: 'empty', text: 'No rules.' }))]));
    },
  };
}
