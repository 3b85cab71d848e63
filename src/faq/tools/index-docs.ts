import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocSection } from '../doc-sections.js';

/**
 * Builds src/faq/doc-sections.json from DS01's user docs: one entry per `##`/`###` section with its
 * page, anchor, heading and the section's most frequent content words. Only headings and single
 * words are kept (for finding sections), never DS01's sentences.
 *
 *   npx tsx src/faq/tools/index-docs.ts ../shared/ds01-reference/docs
 */

const TERMS_PER_SECTION = 20;
const STOP = new Set(
  `the a an and or of to in on for is are be it this that with as by you your can if not use from at run
  do does will what how when which then there their they them have has was were all any more one new get
  see also example next step e g i my we our its into out up so just only other than use using used`.split(/\s+/),
);

function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .trim()
    .replace(/ /g, '-');
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : []));
}

export function indexDocs(docsDir: string): DocSection[] {
  const out: DocSection[] = [];
  for (const file of walk(docsDir).sort()) {
    const page = `docs/${path.relative(docsDir, file).split(path.sep).join('/')}`;
    let current: { heading: string; anchor: string; body: string[] } | undefined;
    let title = '';
    let parent = '';
    const flush = () => {
      if (!current) return;
      const counts = new Map<string, number>();
      for (const w of `${current.heading} ${current.body.join(' ')}`.toLowerCase().match(/[a-z][a-z0-9-]{2,30}/g) ?? []) {
        if (!STOP.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
      const terms = [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TERMS_PER_SECTION)
        .map(([w]) => w);
      if (terms.length >= 3) out.push({ page, anchor: current.anchor, heading: current.heading, terms });
    };
    let inCode = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.startsWith('```')) inCode = !inCode;
      const h1 = !inCode && /^# (.{1,120})$/.exec(line);
      if (h1) title = (h1[1] ?? '').replace(/[`*"]/g, '').trim();
      const h = !inCode && /^(#{2,3}) (.{1,120})$/.exec(line);
      if (h) {
        flush();
        const raw = h[2] ?? '';
        const explicit = /\{#([\w-]{1,60})\}\s*$/.exec(raw);
        const own = raw
          .replace(/\s*\{#[\w-]{1,60}\}\s*$/, '')
          .replace(/[`*"]/g, '')
          .trim();
        if (h[1] === '##') parent = own;
        // "Step 2", "Option 1", "Q": name the section by its parent so it reads on its own.
        const generic = own.length < 4 || /^(step|option|method|pattern|scenario|phase|path|q)\b/i.test(own) || own.startsWith('#!');
        const heading = h[1] === '###' && generic ? `${parent || title} › ${own}` : own;
        current = { heading, anchor: explicit?.[1] ?? slug(own), body: [title, parent] };
      } else current?.body.push(line);
    }
    flush();
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const docs = process.argv[2] ?? '../shared/ds01-reference/docs';
  const sections = indexDocs(docs);
  writeFileSync(new URL('../doc-sections.json', import.meta.url), `${JSON.stringify(sections)}\n`);
  console.log(`${sections.length} sections`);
}
