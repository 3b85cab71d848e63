import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildFaqIndex } from '../engine.js';
const file = process.argv[2]!;
const d = parse(readFileSync(file, 'utf8')) as { on_topic: Array<{ q: string; topics: string[] }>; uncovered?: string[]; off_topic: string[] };
const idx = buildFaqIndex();
for (const { q, topics } of d.on_topic) {
  const r = idx.ask(q);
  if (r.confident && r.topic && topics.includes(r.topic.id)) continue;
  console.log(`${r.confident ? 'WRONG' : 'UNSURE'}\t${r.via}\t${r.confident ? r.topic?.id : r.alternatives[0]?.id}\t[${topics}]\t${q.slice(0, 140).replace(/\n/g, ' ')}`);
}
for (const q of d.uncovered ?? []) {
  const r = idx.ask(q);
  if (r.confident) console.log(`UNCOV-ANSWERED\t${r.via}\t${r.topic?.id}\t\t${q.slice(0, 140).replace(/\n/g, ' ')}`);
}
for (const q of d.off_topic) {
  const r = idx.ask(q);
  if (r.confident) console.log(`OFF-ANSWERED\t${r.via}\t${r.topic?.id}\t\t${q.slice(0, 140)}`);
}
