import { readFileSync } from 'node:fs';
import MiniSearch from 'minisearch';
import { z } from 'zod';

/**
 * Sections of DS01's user docs (page, anchor, heading, key words), built by tools/index-docs.ts.
 * When the FAQ is unsure it points at the sections that look closest, so the user still gets
 * somewhere to read.
 */

export const DocSectionSchema = z.object({
  page: z.string().regex(/^docs\/[\w./-]+\.md$/),
  anchor: z.string(),
  heading: z.string().min(1),
  terms: z.array(z.string()),
});
export type DocSection = z.infer<typeof DocSectionSchema>;

let cached: DocSection[] | undefined;

export function loadDocSections(): DocSection[] {
  cached ??= z.array(DocSectionSchema).parse(JSON.parse(readFileSync(new URL('./doc-sections.json', import.meta.url), 'utf8')));
  return cached;
}

/** A small ranked index over the sections; `words` are the question's already-normalised content words. */
export class DocSectionIndex {
  private readonly index: MiniSearch<DocSection & { id: number; text: string }>;
  constructor(private readonly sections: DocSection[]) {
    this.index = new MiniSearch({
      fields: ['heading', 'text'],
      searchOptions: { boost: { heading: 3 }, prefix: (t) => t.length >= 5, combineWith: 'OR' },
    });
    this.index.addAll(sections.map((s, id) => ({ ...s, id, text: s.terms.join(' ') })));
  }

  closest(words: string[], n: number): DocSection[] {
    if (words.length === 0) return [];
    const seen = new Set<string>();
    const out: DocSection[] = [];
    for (const hit of this.index.search(words.join(' '))) {
      const s = this.sections[Number(hit.id)];
      if (!s || seen.has(s.page + s.heading)) continue;
      seen.add(s.page + s.heading);
      out.push(s);
      if (out.length === n) break;
    }
    return out;
  }
}
