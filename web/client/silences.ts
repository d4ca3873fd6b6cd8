// The alarms page's silences: the list (their target, rule, end, reason and author; Remove for
// operators and admins), and the form that makes one: one node, a node name pattern, a tag or every
// node; one rule or all; for a duration ("90m", "3d") or to an end time; with a reason, which the
// form requires. The hub checks the rest (hub/alarms/silences.ts), each problem shown by its field.
import type { FieldProblem, SilenceInfo } from '../../shared/alarm-types.ts';
import { byId, h, setText } from './dom.ts';
import { fmtDateTime } from './format.ts';
import { Refused, sendJson, showProblems } from './rule-editor.ts';
import { zoneChoice } from './time-format.ts';

type TargetKind = 'node' | 'node_pattern' | 'tag' | 'all';

const TARGET_KEYS: Record<string, string> = {
  node: 'target',
  node_pattern: 'target',
  tag: 'target',
  rule_id: 'rule',
  subject: 'rule',
  for: 'end',
  until_ms: 'end',
  reason: 'reason',
};

function target(s: SilenceInfo): string {
  if (s.node) return s.node;
  if (s.node_pattern) return `nodes ${s.node_pattern}`;
  if (s.tag) return `tag ${s.tag}`;
  return 'every node';
}

export interface SilencesView {
  render(silences: SilenceInfo[]): void;
  /** Fills the form for one alarm (from its row's Silence… button) and puts the cursor on the reason. */
  prefill(node: string, ruleId: string, subject: string): void;
  /** The rule ids the form offers. */
  setRules(ids: readonly string[]): void;
}

/** `canChange`: operators and admins (the API refuses viewers anyway). */
export function mountSilences(canChange: boolean, changed: () => void): SilencesView {
  const tbody = byId<HTMLTableElement>('silences').tBodies[0]!;
  const kind = h('select', { id: 'silence-kind', 'aria-label': 'Silence which nodes' });
  for (const [value, label] of [
    ['node', 'node'],
    ['node_pattern', 'nodes matching'],
    ['tag', 'nodes tagged'],
    ['all', 'every node'],
  ] as const)
    kind.append(h('option', { value, text: label }));
  const value = h('input', {
    type: 'text',
    id: 'silence-target',
    placeholder: 'pi-1',
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-label': 'Node, pattern or tag',
  });
  const rule = h('select', { id: 'silence-rule' }, h('option', { value: '', text: 'every rule' }));
  let subject = '';
  const duration = h('input', { type: 'text', id: 'silence-for', value: '1h', placeholder: '90m, 3d', size: 8, spellcheck: 'false', autocomplete: 'off' });
  const until = h('input', { type: 'datetime-local', id: 'silence-until' });
  const reason = h('input', { type: 'text', id: 'silence-reason', size: 40, maxlength: 500, placeholder: 'why, for whoever looks next' });
  const submit = h('button', { type: 'submit', text: 'Silence' });
  const general = h('ul', { class: 'problems', id: 'silence-problems', role: 'alert', hidden: true });
  const problem = (key: string) => h('p', { class: 'problem', id: `silence-${key}-problem`, 'data-for': key, role: 'alert', hidden: true });
  const form = h(
    'form',
    { id: 'silence-form', novalidate: true },
    general,
    h('div', { class: 'field' }, h('label', { for: 'silence-kind', text: 'Nodes' }), kind, ' ', value, problem('target')),
    h('div', { class: 'field' }, h('label', { for: 'silence-rule', text: 'Rule' }), rule, problem('rule')),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'silence-for', text: 'For' }),
      duration,
      h('label', { for: 'silence-until', class: 'inline', text: 'or until' }),
      until,
      problem('end'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'silence-reason', text: 'Reason' }), reason, problem('reason')),
    h('p', { class: 'actions' }, submit),
  );
  value.setAttribute('aria-describedby', 'silence-target-problem');
  reason.setAttribute('aria-describedby', 'silence-reason-problem');
  duration.setAttribute('aria-describedby', 'silence-end-problem');
  kind.addEventListener('change', () => {
    value.hidden = kind.value === 'all';
    value.placeholder = kind.value === 'node_pattern' ? 'pi-*' : kind.value === 'tag' ? 'site-b' : 'pi-1';
  });
  // One end or the other: typing in one clears the other.
  duration.addEventListener('input', () => (until.value = ''));
  until.addEventListener('input', () => (duration.value = ''));
  if (canChange) byId('silence-new').append(form);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = {};
    const k = kind.value as TargetKind;
    if (k !== 'all') body[k] = value.value.trim();
    if (rule.value) body['rule_id'] = rule.value;
    if (rule.value && subject) body['subject'] = subject;
    if (until.value) {
      // datetime-local has no zone: read in the zone the page shows times in.
      body['until_ms'] = zoneChoice() === 'utc' ? Date.parse(`${until.value}Z`) : new Date(until.value).getTime();
    } else body['for'] = duration.value.trim();
    body['reason'] = reason.value.trim();
    const keyOf = (field: string) => TARGET_KEYS[field] ?? '';
    if (!body['reason']) {
      showProblems(form, [{ field: 'reason', problem: 'say why: whoever sees the silence next will want to know' }], keyOf, general);
      reason.focus();
      return;
    }
    submit.disabled = true;
    sendJson('POST', '/api/alarms/silence', body)
      .then(() => {
        showProblems(form, [], keyOf, general);
        reason.value = '';
        subject = '';
        changed();
      })
      .catch((err: Error) => {
        const problems: FieldProblem[] = err instanceof Refused && err.problems.length ? err.problems : [{ field: '', problem: err.message }];
        showProblems(form, problems, keyOf, general);
      })
      .finally(() => (submit.disabled = false));
  });

  let shown = '';
  return {
    render(silences: SilenceInfo[]): void {
      const key = JSON.stringify(silences) + zoneChoice();
      if (key === shown) return;
      shown = key;
      const rows = silences.map((s) => {
        const remove = canChange ? h('button', { type: 'button', 'data-action': 'unsilence', text: 'Remove' }) : null;
        remove?.addEventListener('click', () => {
          remove.disabled = true;
          sendJson('DELETE', `/api/alarms/silences/${s.id}`)
            .then(changed)
            .catch((err: Error) => setText(byId('silence-message'), `Not removed: ${err.message}`))
            .finally(() => (remove.disabled = false));
        });
        return h(
          'tr',
          { 'data-silence': String(s.id) },
          h('td', { text: target(s) }),
          h('td', { text: s.rule_id ? (s.subject ? `${s.rule_id} ${s.subject}` : s.rule_id) : 'every rule' }),
          h('td', { text: fmtDateTime(s.until_ms) }),
          h('td', { class: 'wrap', text: s.reason ?? '' }),
          h('td', { text: s.created_by ?? '—' }),
          h('td', {}, remove),
        );
      });
      tbody.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 6, class: 'empty', text: 'No silences.' }))]));
    },
    prefill(node: string, ruleId: string, alarmSubject: string): void {
      kind.value = 'node';
      kind.dispatchEvent(new Event('change'));
      value.value = node;
      rule.value = ruleId;
      subject = alarmSubject;
      form.scrollIntoView({ block: 'center' });
      reason.focus();
    },
    setRules(ids: readonly string[]): void {
      const have = [...rule.options].slice(1).map((o) => o.value);
      if (have.join('\u0000') === ids.join('\u0000')) return;
      const chosen = rule.value;
      rule.replaceChildren(h('option', { value: '', text: 'every rule' }), ...ids.map((id) => h('option', { value: id, text: id })));
      rule.value = ids.includes(chosen) ? chosen : '';
    },
  };
}
