import { loadDocSections } from './doc-sections.js';
import { loadDeclines, loadKnowledgeBase } from './knowledge-base.js';
import { FaqIndex, type FaqTuning } from './search.js';

/** The FAQ index with everything the bot uses: topics, declines and DS01's doc sections. */
export function buildFaqIndex(tuning: Partial<FaqTuning> = {}): FaqIndex {
  return new FaqIndex(loadKnowledgeBase(), tuning, { declines: loadDeclines(), sections: loadDocSections() });
}
