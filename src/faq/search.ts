import MiniSearch, { type SearchResult } from 'minisearch';
import type { Topic } from './knowledge-base.js';

/**
 * Retrieval for "Ask DS01": one MiniSearch document per topic, a shared text pipeline for index and
 * query (split, drop stop words, light stemming, synonym expansion), spelling correction of the
 * question against the knowledge base's own vocabulary, and a confidence rule that refuses to answer
 * when too little of the question is about DS01 or two topics are too close to call.
 */

export interface FaqResult {
  /** true when `topic` is a good enough match to answer directly. */
  confident: boolean;
  /** The answer topic, only when confident. */
  topic: Topic | null;
  /** Ranking score of the best match (0 when nothing matched). */
  score: number;
  /** Three topics for buttons: the runners-up when confident, the closest three otherwise. */
  alternatives: Topic[];
}

/** One ranked candidate with the numbers the confidence rule looked at (for tests and tuning). */
export interface RankedTopic {
  topic: Topic;
  score: number;
  /** Share of the question's content words (corrected ones count half) that this topic matched. */
  coverage: number;
  /** The question's words this topic matched. */
  matched: Array<{ word: string; corrected: boolean }>;
}

export interface FaqAnalysis {
  words: Array<{ word: string; corrected: boolean }>;
  ranked: RankedTopic[];
  confident: boolean;
}

/** Knobs of the confidence rule; the defaults are tuned on test/faq/questions.yaml. */
export interface FaqTuning {
  /** Minimum score of the best topic, per content word of the question. */
  minScorePerWord: number;
  /** Minimum share of the question's words the best topic must match. */
  minCoverage: number;
  /** Best score must be at least this multiple of the runner-up's. */
  minMargin: number;
  boost: { title: number; keywords: number; questions: number; answer: number };
  /** Query words found in few topics count more: weight = (topics / topics with the word) ^ rarity. */
  rarity: number;
}

export const DEFAULT_TUNING: FaqTuning = {
  minScorePerWord: 30,
  minCoverage: 0.4,
  minMargin: 1.4,
  boost: { title: 2.5, keywords: 3, questions: 2, answer: 1 },
  rarity: 0.5,
};

const ALTERNATIVES = 3;

const STOP_WORDS = new Set(
  `a about above after again against all am an and any are aren as at be because been before being below between both
  but by can cannot could couldn did didn do does doesn doing don down during each few for from further get gets getting
  got had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn it its itself
  just let me more most much my myself no nor not now of off on once only or other ought our ours ourselves out over own
  same shan she should shouldn so some such than that the their theirs them themselves then there these they this those
  through to too under until up very was wasn we were weren what when where which while who whom why will with won
  would wouldn you your yours yourself yourselves s t d ll m re ve y im ive id youre thats whats wheres hows cant dont
  doesnt didnt isnt wont hi hey hello hiya thanks thank thx cheers please pls plz ok okay lol wtf omg u r ur ya yeah yes
  anyone someone something anything thing things stuff really still also even ever like want wanted need needs know
  tell say says said one ds01 guys folks keeps mean means seem seems try tried trying next make made`.split(/\s+/),
);

/**
 * Everyday words that also occur in the knowledge base. They help rank topics, but a question that
 * matches only such words ("how do I renew my student card") is not about DS01 often enough to answer.
 */
const WEAK_WORDS = new Set(
  `add already another available avoid away back begin bin book box broken busy card change changed check close code
  connect contact count create data day days decide delete deleted different difference done drive error extend extra
  fail failed failure false file files find finished first fix flow folder found free full go gone group half happen
  happened help home hour hours hr hrs install installed issue job join keep kept lab laptop large last learn left
  library list live log login logout long longer lost machine many max maximum memory min mins minute minutes missing
  model multiple name named names new nothing open others output outputs overnight part password period pick problem
  process project put reduce remote report restarted results returns run running runs safe save saved screen see select
  server set setup several share shared sharing show single sit size skip slow space start started stay stop stopped
  stops storage stuck student support talk team teammate colleague coworker template time two update use user using wait
  waiting warning work working yesterday crash crashes version versions permission denied awake people old`
    .split(/\s+/)
    .map((w) => stem(w)),
);

/** Words that mean the same thing to our users; each word also indexes as the group's first word. */
const SYNONYM_GROUPS: string[][] = [
  ['package', 'pip', 'module', 'library', 'libraries', 'lib', 'libs', 'dependency', 'dependencies', 'deps', 'pkg', 'pkgs', 'requirement'],
  ['retire', 'retired', 'stopped', 'killed', 'gone', 'disappeared', 'vanished', 'shut', 'shutdown'],
  ['gpu', 'cuda', 'card', 'graphics', 'nvidia', 'a100'],
  ['container', 'instance', 'box'],
  ['idle', 'inactive', 'inactivity', 'afk', 'unused'],
  ['file', 'folder', 'directory', 'dir', 'results', 'outputs', 'output'],
  ['launch', 'start', 'deploy', 'spin', 'boot'],
  ['error', 'err', 'exception', 'fail', 'failure', 'crash', 'broken'],
  ['memory', 'ram', 'mem'],
  ['disk', 'storage', 'drive'],
  ['help', 'support', 'admin', 'admins', 'administrator', 'contact'],
  ['share', 'collaborate', 'colleague', 'teammate', 'team', 'coworker'],
  ['limit', 'quota', 'allowance', 'allowed', 'cap'],
  ['jupyter', 'notebook', 'jupyterlab', 'ipynb'],
  ['vscode', 'cursor', 'ide', 'editor'],
  ['venv', 'virtualenv', 'conda', 'pyenv', 'mamba'],
  ['train', 'training', 'epoch'],
  ['lost', 'lose', 'losing', 'wiped'],
  ['minute', 'min', 'mins'],
  ['hour', 'hours', 'hrs', 'hr'],
];

/** Light suffix stripping, applied identically to the index and to questions. */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length >= 6) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && !w.endsWith('eed') && w.length >= 5) w = undouble(w.slice(0, -2));
  if (w.endsWith('e') && w.length >= 4) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([^aeiouylsz])\1$/.test(w) ? w.slice(0, -1) : w;
}

const CANONICAL = new Map<string, string>();
for (const group of SYNONYM_GROUPS) {
  const canonical = stem(group[0] ?? '');
  for (const word of group) CANONICAL.set(stem(word), canonical);
}

/** Rewrites a few multi-word spellings into the single word the index uses. */
function normalise(text: string): string {
  return text
    .replace(/\bds01-[\w-]+\/[\w.-]+(:[\w.-]+)?/gi, 'image')
    .replace(/\b[\w-]+\._\.[\w-]+/g, 'container')
    .replace(/[\w.-]+: command not found/gi, 'command not found')
    .replace(/\b(stop|keep)\b(?=.{1,40}\bfrom \w+ing\b)/gi, 'prevent')
    .replace(/\bvs\.? ?code\b/gi, 'vscode')
    .replace(/\bpython ?[23](\.\d+)?\b/gi, 'python version')
    .replace(/\bkeep[ -]alive\b/gi, 'keepalive');
}

/** Splits text into lowercase words; dashed, dotted and camelCase words also yield their joined form. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const chunk of normalise(text).match(/[A-Za-z0-9][A-Za-z0-9_.'-]*/g) ?? []) {
    const parts = chunk
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((p) => p.length > 0);
    for (const part of parts) if (part !== words[words.length - 1]) words.push(part);
    const joinable = parts.length > 1 && !chunk.includes("'") && parts.every((p) => /[a-z]/.test(p) && p !== 'ds01');
    if (joinable) words.push(parts.join(''));
  }
  return words;
}

/**
 * MiniSearch tokenizer: the words plus pairs of neighbouring content words ("image_found"), so that
 * phrases such as "image not found" and "container not found" point to different topics.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const segment of text.split(/[|\n]|[.?!:;,](?=\s)/)) {
    const words = splitWords(segment);
    const content = words.filter((w) => !isNoise(w)).map(stem);
    tokens.push(...words);
    for (let i = 1; i < content.length; i++) tokens.push(`${content[i - 1]}_${content[i]}`);
  }
  return tokens;
}

function isNoise(word: string): boolean {
  return word.length < 2 || STOP_WORDS.has(word) || /^\d+[a-z]?$/.test(word);
}

/** MiniSearch processTerm: stop words out, stem, plus the synonym group's word when there is one. */
function processTerm(word: string): string[] | null {
  if (word.includes('_')) return [word];
  if (isNoise(word)) return null;
  const stemmed = stem(word);
  const canonical = CANONICAL.get(stemmed);
  return canonical && canonical !== stemmed ? [stemmed, canonical] : [stemmed];
}

/** Optimal-string-alignment distance, giving up once it exceeds `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (prevPrev[j - 2] ?? 0) + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prevPrev = prev;
    prev = cur;
  }
  return prev[b.length] ?? max + 1;
}

interface TopicDoc {
  id: string;
  title: string;
  keywords: string;
  questions: string;
  answer: string;
}

export class FaqIndex {
  private readonly topics: Map<string, Topic>;
  private readonly index: MiniSearch<TopicDoc>;
  private readonly tuning: FaqTuning;
  /** Words used in titles, keywords and questions (with frequency), the spelling corrector's dictionary. */
  private readonly vocabulary = new Map<string, number>();
  private readonly knownStems = new Set<string>();
  private readonly corrections = new Map<string, string | null>();
  /** Number of topics each indexed term occurs in. */
  private readonly topicFrequency = new Map<string, number>();

  constructor(topics: Topic[], tuning: Partial<FaqTuning> = {}) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.topics = new Map(topics.map((t) => [t.id, t]));
    this.index = new MiniSearch<TopicDoc>({
      fields: ['title', 'keywords', 'questions', 'answer'],
      tokenize,
      processTerm,
      searchOptions: {
        boost: this.tuning.boost,
        boostTerm: (term) => (topics.length / (this.topicFrequency.get(term) ?? topics.length)) ** this.tuning.rarity,
        prefix: (term) => term.length >= 5,
        fuzzy: (term) => (term.length >= 6 ? 0.2 : false),
        maxFuzzy: 2,
        combineWith: 'OR',
      },
    });
    this.index.addAll(
      topics.map((t) => ({
        id: t.id,
        title: t.title,
        keywords: t.keywords.join(' | '),
        questions: t.questions.join(' | '),
        answer: t.answer,
      })),
    );
    for (const t of topics) {
      const text = [t.title, ...t.keywords, ...t.questions, t.answer].join(' | ');
      const terms = new Set(tokenize(text).flatMap((token) => processTerm(token) ?? []));
      for (const term of terms) this.topicFrequency.set(term, (this.topicFrequency.get(term) ?? 0) + 1);
    }
    const dictionary = [...topics.flatMap((t) => [t.title, ...t.keywords, ...t.questions]), ...SYNONYM_GROUPS.flat()];
    for (const word of splitWords(dictionary.join(' '))) {
      if (isNoise(word)) continue;
      this.vocabulary.set(word, (this.vocabulary.get(word) ?? 0) + 1);
      this.knownStems.add(stem(word));
    }
  }

  ask(question: string): FaqResult {
    const { ranked, confident } = this.analyse(question);
    const best = ranked[0];
    const pool = confident ? ranked.slice(1) : ranked;
    return {
      confident,
      topic: confident && best ? best.topic : null,
      score: best?.score ?? 0,
      alternatives: this.fillAlternatives(pool.map((r) => r.topic), confident && best ? best.topic.id : undefined),
    };
  }

  /** The full ranking and the words the question was reduced to; `ask` is built on this. */
  analyse(question: string): FaqAnalysis {
    const words = splitWords(question)
      .filter((w) => !isNoise(w))
      .map((word) => {
        const fixed = this.correct(word);
        return { word: fixed ?? word, corrected: fixed !== undefined && fixed !== word };
      });
    if (words.length === 0) return { words, ranked: [], confident: false };

    const hits = this.index.search(words.map((w) => w.word).join(' '));
    const ranked = hits.flatMap((hit) => {
      const topic = this.topics.get(String(hit.id));
      if (!topic) return [];
      const matched = matchedWords(words, hit);
      return [{ topic, score: hit.score, coverage: coverage(words, matched), matched }];
    });
    return { words, ranked, confident: this.isConfident(words, ranked) };
  }

  /**
   * Answer only when the best topic scores well for the question's length, matches enough of it
   * (including a real DS01 word, or every word of a longer question) and clearly beats the runner-up.
   */
  private isConfident(words: Words, ranked: RankedTopic[]): boolean {
    const [first, second] = ranked;
    if (!first) return false;
    const { minScorePerWord, minCoverage, minMargin } = this.tuning;
    const hasDomainWord = first.matched.some((w) => !w.corrected && !WEAK_WORDS.has(stem(w.word)));
    const matchesAll = first.coverage === 1 && words.length >= 2;
    return (
      first.score >= minScorePerWord * words.length &&
      first.coverage >= minCoverage &&
      (hasDomainWord || matchesAll) &&
      (second === undefined || first.score >= minMargin * second.score)
    );
  }

  /** Known words stay; an unknown word of 5+ letters becomes the closest dictionary word, if one is near. */
  private correct(word: string): string | undefined {
    if (this.vocabulary.has(word) || this.knownStems.has(stem(word))) return word;
    if (word.length < 5) return undefined;
    const memo = this.corrections.get(word);
    if (memo !== undefined) return memo ?? undefined;
    const max = word.length >= 8 ? 2 : 1;
    let best: string | null = null;
    let bestDistance = max + 1;
    let bestFrequency = 0;
    for (const [candidate, frequency] of this.vocabulary) {
      if (candidate.length < 4) continue;
      const d = editDistance(word, candidate, max);
      if (d > max) continue;
      if (d < bestDistance || (d === bestDistance && frequency > bestFrequency)) {
        best = candidate;
        bestDistance = d;
        bestFrequency = frequency;
      }
    }
    if (this.corrections.size > 10_000) this.corrections.clear();
    this.corrections.set(word, best);
    return best ?? undefined;
  }

  private fillAlternatives(candidates: Topic[], exclude: string | undefined): Topic[] {
    const chosen: Topic[] = [];
    for (const topic of [...candidates, ...this.topics.values()]) {
      if (chosen.length === ALTERNATIVES) break;
      if (topic.id !== exclude && !chosen.includes(topic)) chosen.push(topic);
    }
    return chosen;
  }
}

type Words = FaqAnalysis['words'];

function matchedWords(words: Words, hit: SearchResult): Words {
  const matched = new Set(hit.queryTerms);
  return words.filter(({ word }) => (processTerm(word) ?? []).some((t) => matched.has(t)));
}

/** Share of the question's words a hit matched; words we had to spell-correct count half. */
function coverage(words: Words, matched: Words): number {
  return matched.reduce((sum, w) => sum + (w.corrected ? 0.5 : 1), 0) / words.length;
}
