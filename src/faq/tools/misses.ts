/** Dev tool: a question set's misses (wrong, unsure, uncovered answered, off-topic answered). Never on a held-out set. */
import { buildFaqIndex } from '../engine.js';
import { readQuestionSet } from '../evaluate.js';

const d = readQuestionSet(process.argv[2]!);
const idx = buildFaqIndex();
const line = (q: string) => q.slice(0, 140).replace(/\n/g, ' ');
for (const { q, topics } of d.on_topic) {
  const r = idx.ask(q);
  if (r.confident && r.topic && topics.includes(r.topic.id)) continue;
  console.log(`${r.confident ? 'WRONG' : 'UNSURE'}\t${r.via}\t${r.confident ? r.topic?.id : r.alternatives[0]?.id}\t[${topics}]\t${line(q)}`);
}
for (const q of d.uncovered) {
  const r = idx.ask(q);
  if (r.confident) console.log(`UNCOV-ANSWERED\t${r.via}\t${r.topic?.id}\t\t${line(q)}`);
}
for (const q of d.off_topic) {
  const r = idx.ask(q);
  if (r.confident) console.log(`OFF-ANSWERED\t${r.via}\t${r.topic?.id}\t\t${line(q)}`);
}
