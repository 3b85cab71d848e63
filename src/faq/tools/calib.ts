/**
 * Dev tool: for every confident answer on the development sets, the share of the question's
 * specificity (IDF over topics and DS01 doc sections) that the chosen topic matched; prints how a
 * threshold on it would trade correct answers for confidently wrong ones. Never run on a held-out set.
 */
import { loadDocSections } from '../doc-sections.js';
import { buildFaqIndex } from '../engine.js';
import { readQuestionSet } from '../evaluate.js';
import { loadKnowledgeBase } from '../knowledge-base.js';
import { splitWords, stem } from '../search.js';

type Item = { q: string; expect: string[] | 'none' };
const items: Item[] = [];
const add = (file: string) => {
  const d = readQuestionSet(new URL(`../../../test/faq/${file}`, import.meta.url));
  for (const o of d.on_topic) items.push({ q: o.q, expect: o.topics });
  for (const q of [...d.uncovered, ...d.off_topic]) items.push({ q, expect: 'none' });
};
for (const f of process.argv.slice(2)) add(f);

const docs: string[][] = [...loadKnowledgeBase().map((t) => splitWords([t.title, ...t.keywords, ...t.questions, t.answer].join(' '))), ...loadDocSections().map((s) => s.terms)];
const df = new Map<string, number>();
for (const d of docs) for (const w of new Set(d.map(stem))) df.set(w, (df.get(w) ?? 0) + 1);
const idf = (w: string) => Math.log((docs.length + 1) / ((df.get(stem(w)) ?? 0) + 1)) + 1;

const index = buildFaqIndex();
const rows: Array<{ wc: number; ok: boolean }> = [];
for (const it of items) {
  const r = index.ask(it.q);
  if (!r.confident || r.via !== 'search') continue;
  const a = index.analyse(it.q);
  const top = a.ranked.find((x) => x.topic.id === r.topic!.id);
  if (!top) continue;
  const total = a.words.reduce((s, w) => s + idf(w.word), 0);
  const got = top.matched.reduce((s, w) => s + idf(w.word), 0);
  const ok = it.expect !== 'none' && it.expect.includes(r.topic!.id);
  rows.push({ wc: total ? got / total : 0, ok });
}
const ok = rows.filter((r) => r.ok).length;
console.log(`confident via search: ${rows.length} (${ok} right, ${rows.length - ok} wrong)`);
for (const t of [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6]) {
  const lostRight = rows.filter((r) => r.ok && r.wc < t).length;
  const removedWrong = rows.filter((r) => !r.ok && r.wc < t).length;
  console.log(`threshold ${t}: right lost ${lostRight}, wrong removed ${removedWrong}`);
}
