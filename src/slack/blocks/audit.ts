import type { KnownBlock } from '@slack/types';
import type { AuditEntry } from '../../audit/audit-log.js';

const icon = { done: ':white_check_mark:', refused: ':no_entry_sign:', failed: ':x:' } as const;

/** One line per audit entry, newest first: when, who, what, on what, where, how it ended. */
export function auditLine(e: AuditEntry): string {
  const when = e.at.slice(0, 16).replace('T', ' ');
  const forWhom = e.owner && e.owner !== e.who ? ` for ${e.owner}` : '';
  const target = e.target ? ` \`${e.target}\`` : '';
  const host = e.host ? ` on ${e.host}` : '';
  const code = e.code ? ` (${e.code})` : '';
  return `${icon[e.result]} ${when} UTC — ${e.who}${forWhom}: ${e.what}${target}${host} — ${e.result}${code}`;
}

export function auditMessage(entries: AuditEntry[], user?: string): { text: string; blocks: KnownBlock[] } {
  const title = user ? `Audit trail for ${user}` : 'Audit trail';
  if (entries.length === 0) {
    const text = `${title}: nothing recorded yet.`;
    return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
  }
  const lines = entries.map(auditLine);
  return {
    text: `${title} (newest first)\n${lines.join('\n')}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: title } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'Newest first; the last 20. Every entry is also in the bot and worker logs.' }] },
    ],
  };
}
