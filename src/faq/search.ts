import MiniSearch, { type SearchResult } from 'minisearch';
import { DocSectionIndex, type DocSection } from './doc-sections.js';
import type { Decline, Topic } from './knowledge-base.js';
import { capQuestion, tokensOf, type CappedQuestion } from './question.js';
import { matchSignature, type ErrorSignature } from './signatures.js';
import { isEnglishWord } from './spelling.js';

/**
 * "Ask DS01", in layers:
 *  0. the question is size-capped (question.ts) before anything else touches it;
 *  1. exact error signatures (signatures.ts): a pasted error or DS01 notice picks its topic outright;
 *  2. ranked retrieval: one MiniSearch document per topic (plus "decline" documents for questions
 *     that look close but are not about DS01), a shared text pipeline for index and query (split,
 *     drop stop words, light stemming, synonyms), spelling correction only of words that are not
 *     ordinary English, and a confidence rule. A long message is judged by its best sentence, and
 *     two close topics that are declared related do not count as a reason to abstain;
 *  3. when unsure: the closest topics and the closest sections of DS01's docs.
 */

export interface FaqResult {
  /** true when `topic` is a good enough match to answer directly. */
  confident: boolean;
  /** Which layer decided: an error signature, the ranking, a decline, or nothing. */
  via: 'signature' | 'search' | 'declined' | 'none';
  /** The error signature that matched, when via is 'signature'. */
  signature?: ErrorSignature;
  /** A polite reason when the question looked like one DS01 does not cover (via 'declined'). */
  declined?: string;
  /** Doc sections closest to the question, offered when not confident. */
  sections: DocSection[];
  /** Set when the question was longer than the cap and only part of it was read. */
  truncatedFrom?: number;
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
  matched: Array<{ word: string; corrected: boolean; known: boolean }>;
}

export interface FaqAnalysis {
  /** known: the word occurs in the knowledge base (or was corrected into one that does). */
  words: Array<{ word: string; corrected: boolean; known: boolean }>;
  ranked: RankedTopic[];
  confident: boolean;
}

export interface FaqSources {
  /** Questions that look like DS01 ones but are not (general Python, your own laptop...). */
  declines?: Decline[];
  /** DS01 doc sections to point at when unsure. */
  sections?: DocSection[];
}

/** Sentences of a long message that are judged on their own, at most. */
const MAX_SENTENCES = 24;
const DOC_SECTIONS_SHOWN = 3;
const DECLINE_PREFIX = 'decline:';

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
  /** Ranking score = MiniSearch score × coverage ^ this: a topic that explains more of the question wins. */
  coverageExponent: number;
}

export const DEFAULT_TUNING: FaqTuning = {
  minScorePerWord: 30,
  minCoverage: 0.4,
  minMargin: 1.4,
  boost: { title: 2.5, keywords: 3, questions: 2, answer: 1 },
  rarity: 0.5,
  coverageExponent: 0.5,
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
  tell say says said one ds01 guys folks onto actually basically literally keeps mean means seem seems try tried trying next make made`.split(/\s+/),
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
  waiting warning work working yesterday write writing written read reading tips final meeting room book allowed allow crash crashes version versions permission denied awake people old`
    .split(/\s+/)
    .map((w) => stem(w)),
);

/** Words that mean the same thing to our users; each word also indexes as the group's first word. */
const SYNONYM_GROUPS: string[][] = [
  ['package', 'pip', 'module', 'library', 'libraries', 'lib', 'libs', 'dependency', 'dependencies', 'deps', 'pkg', 'pkgs', 'requirement'],
  ['retire', 'retired', 'stopped', 'killed', 'gone', 'disappeared', 'vanished', 'shut', 'shutdown', 'nuked', 'nuke', 'deleted'],
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
  ['venv', 'virtualenv', 'conda', 'pyenv', 'mamba', 'miniconda', 'micromamba'],
  ['environment', 'env', 'envs', 'environments'],
  ['queue', 'waitlist', 'queued', 'queueing'],
  ['tunnel', 'forwarding', 'forward', 'tunneling', 'tunnelling'],
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

/** Trims punctuation from both ends of a token (a loop, no regex). */
function bare(token: string): string {
  let a = 0;
  let b = token.length;
  const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  while (a < b && !isWordChar(token.charCodeAt(a))) a++;
  while (b > a && !isWordChar(token.charCodeAt(b - 1))) b--;
  return token.slice(a, b);
}

const IMAGE_NAME = /^ds01-[\w-]{1,40}\/[\w.-]{1,40}(?::[\w.-]{1,40})?$/i;
const PYTHON_VERSION = /^[23](?:\.\d{1,3}){0,2}$/;
const LOOKAHEAD_TOKENS = 8;
const NEGATIONS = new Set(["won't", 'wont', "doesn't", 'doesnt', "can't", 'cant', 'cannot', "couldn't", "isn't", "didn't", "aren't"]);

/**
 * Rewrites a few multi-word spellings into the single word the index uses, token by token. Works
 * on whitespace tokens of bounded length (question.ts), so every regex here sees at most
 * MAX_TOKEN_CHARS characters and the whole pass is linear in the question.
 */
function normaliseTokens(tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const word = bare(token);
    const lower = word.toLowerCase();
    const next = bare(tokens[i + 1] ?? '').toLowerCase();
    if (IMAGE_NAME.test(word)) out.push('image');
    else if (word.includes('._.')) out.push('container');
    else if (lower === 'vs' && next === 'code') {
      out.push('vscode');
      i++;
    } else if (lower === 'log' && next === 'in') {
      out.push('login');
      i++;
    } else if (NEGATIONS.has(lower.replace('’', "'"))) {
      // "won't start" is not "start": keep the negation as a word the index knows.
      out.push('fails');
    } else if (lower === 'keep' && next === 'alive') {
      out.push('keepalive');
      i++;
    } else if (lower === 'keep-alive' || lower === '.keep-alive') out.push('keepalive');
    else if (lower === 'python' && PYTHON_VERSION.test(next)) {
      out.push('python', 'version');
      i++;
    } else if (lower.startsWith('python') && PYTHON_VERSION.test(lower.slice(6))) out.push('python', 'version');
    else if ((lower === 'stop' || lower === 'keep') && preventsSomething(tokens, i)) out.push('prevent');
    else out.push(token);
  }
  return out;
}

/** "stop/keep X from <verb>ing" within the next few tokens. */
function preventsSomething(tokens: string[], at: number): boolean {
  for (let j = at + 1; j < Math.min(tokens.length - 1, at + LOOKAHEAD_TOKENS); j++) {
    if (
      bare(tokens[j] ?? '').toLowerCase() === 'from' &&
      bare(tokens[j + 1] ?? '')
        .toLowerCase()
        .endsWith('ing')
    )
      return true;
  }
  return false;
}

/** Splits text into lowercase words; dashed, dotted and camelCase words also yield their joined form. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const token of normaliseTokens(tokensOf(text))) {
    for (const chunk of token.match(/[A-Za-z0-9][A-Za-z0-9_.'-]*/g) ?? []) {
      const parts = chunk
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((p) => p.length > 0);
      for (const part of parts) if (part !== words[words.length - 1]) words.push(part);
      const joinable = parts.length > 1 && !chunk.includes("'") && parts.every((p) => /[a-z]/.test(p) && p !== 'ds01');
      if (joinable) words.push(parts.join(''));
    }
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
  private readonly declines: Map<string, Decline>;
  private readonly index: MiniSearch<TopicDoc>;
  private readonly sections: DocSectionIndex | undefined;
  private readonly tuning: FaqTuning;
  /** Words used in titles, keywords and questions (with frequency), the spelling corrector's dictionary. */
  private readonly vocabulary = new Map<string, number>();
  private readonly knownStems = new Set<string>();
  private readonly corrections = new Map<string, string | null>();
  /** Number of topics each indexed term occurs in. */
  private readonly topicFrequency = new Map<string, number>();

  constructor(topics: Topic[], tuning: Partial<FaqTuning> = {}, sources: FaqSources = {}) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
    this.topics = new Map(topics.map((t) => [t.id, t]));
    this.declines = new Map((sources.declines ?? []).map((d) => [`${DECLINE_PREFIX}${d.id}`, d]));
    this.sections = sources.sections && sources.sections.length > 0 ? new DocSectionIndex(sources.sections) : undefined;
    const docs: TopicDoc[] = [
      ...topics.map((t) => ({
        id: t.id,
        title: t.title,
        keywords: t.keywords.join(' | '),
        questions: t.questions.join(' | '),
        answer: t.answer,
      })),
      ...[...this.declines].map(([id, d]) => ({ id, title: '', keywords: (d.keywords ?? []).join(' | '), questions: d.questions.join(' | '), answer: '' })),
    ];
    const documents = docs.length;
    this.index = new MiniSearch<TopicDoc>({
      fields: ['title', 'keywords', 'questions', 'answer'],
      tokenize,
      processTerm,
      searchOptions: {
        boost: this.tuning.boost,
        boostTerm: (term) => (documents / (this.topicFrequency.get(term) ?? documents)) ** this.tuning.rarity,
        prefix: (term) => term.length >= 5,
        fuzzy: (term) => (term.length >= 6 ? 0.2 : false),
        maxFuzzy: 2,
        combineWith: 'OR',
      },
    });
    this.index.addAll(docs);
    for (const d of docs) {
      const text = [d.title, d.keywords, d.questions, d.answer].join(' | ');
      const terms = new Set(tokenize(text).flatMap((token) => processTerm(token) ?? []));
      for (const term of terms) this.topicFrequency.set(term, (this.topicFrequency.get(term) ?? 0) + 1);
    }
    const dictionary = [
      ...topics.flatMap((t) => [t.title, ...t.keywords, ...t.questions]),
      ...[...this.declines.values()].flatMap((d) => [...(d.keywords ?? []), ...d.questions]),
      ...SYNONYM_GROUPS.flat(),
    ];
    for (const word of splitWords(dictionary.join(' '))) {
      if (isNoise(word)) continue;
      this.vocabulary.set(word, (this.vocabulary.get(word) ?? 0) + 1);
      this.knownStems.add(stem(word));
    }
  }

  /**
   * Answers a question. The cap comes first: nothing below sees more than MAX_QUESTION_CHARS, and
   * every step after it is linear in that.
   */
  ask(question: string | CappedQuestion): FaqResult {
    const capped = typeof question === 'string' ? capQuestion(question) : question;
    const truncated = capped.truncated ? { truncatedFrom: capped.originalLength } : {};
    const text = capped.text;

    const signature = matchSignature(text);
    const signed = signature ? this.topics.get(signature.topic) : undefined;
    if (signature && signed) {
      return {
        confident: true,
        via: 'signature',
        signature,
        topic: signed,
        score: Number.POSITIVE_INFINITY,
        alternatives: this.fillAlternatives(this.relatedOf(signed), signed.id),
        sections: [],
        ...truncated,
      };
    }

    const whole = this.analyseCapped(text);
    const lead = whole.ranked[0];
    const declined = lead ? this.declines.get(lead.topic.id) : undefined;
    let best: FaqAnalysis | undefined = whole.confident ? whole : undefined;
    if (!best && !declined) {
      for (const sentence of sentencesOf(text)) {
        const a = this.analyseCapped(sentence);
        if (a.confident && (!best || this.strength(a) > this.strength(best))) best = a;
      }
    }
    const top = best?.ranked[0];
    if (best && top && !this.declines.has(top.topic.id)) {
      return {
        confident: true,
        via: 'search',
        topic: top.topic,
        score: top.score,
        alternatives: this.fillAlternatives([...this.relatedOf(top.topic), ...best.ranked.slice(1).map((r) => r.topic)], top.topic.id),
        sections: [],
        ...truncated,
      };
    }
    const decline = declined ?? (top ? this.declines.get(top.topic.id) : undefined);
    return {
      confident: false,
      via: decline ? 'declined' : 'none',
      ...(decline ? { declined: decline.reply } : {}),
      topic: null,
      score: lead?.score ?? 0,
      alternatives: this.fillAlternatives(
        whole.ranked.map((r) => r.topic),
        undefined,
      ),
      sections: decline
        ? []
        : (this.sections?.closest(
            whole.words.map((w) => w.word),
            DOC_SECTIONS_SHOWN,
          ) ?? []),
      ...truncated,
    };
  }

  /** The full ranking and the words the question was reduced to (the question is capped first). */
  analyse(question: string): FaqAnalysis {
    return this.analyseCapped(capQuestion(question).text);
  }

  private analyseCapped(text: string): FaqAnalysis {
    const words = splitWords(text)
      .filter((w) => !isNoise(w))
      .map((word) => {
        const fixed = this.correct(word);
        return { word: fixed ?? word, corrected: fixed !== undefined && fixed !== word, known: fixed !== undefined };
      });
    if (words.length === 0) return { words, ranked: [], confident: false };

    const hits = this.index.search(words.map((w) => w.word).join(' '));
    const ranked = hits.flatMap((hit) => {
      const id = String(hit.id);
      const topic = this.topics.get(id) ?? this.declineTopic(id);
      if (!topic) return [];
      const matched = matchedWords(words, hit);
      const cov = coverage(words, matched);
      return [{ topic, score: hit.score * Math.min(1, cov) ** this.tuning.coverageExponent, coverage: cov, matched }];
    });
    ranked.sort((a, b) => b.score - a.score);
    return { words, ranked, confident: this.isConfident(words, ranked) };
  }

  /** How far above the bar an analysis is, comparable across questions of different length. */
  private strength(a: FaqAnalysis): number {
    return (a.ranked[0]?.score ?? 0) / (this.tuning.minScorePerWord * Math.max(1, weight(a.words)));
  }

  /**
   * Answer only when the best topic scores well for the question's length, matches enough of it
   * (including a real DS01 word, or every word of a longer question) and beats the runner-up
   * clearly, unless the runner-up is a topic the best one names as related (both are right then).
   */
  private isConfident(words: Words, ranked: RankedTopic[]): boolean {
    const [first, second] = ranked;
    if (!first) return false;
    const { minScorePerWord, minCoverage, minMargin } = this.tuning;
    const hasDomainWord = first.matched.some((w) => w.known && !w.corrected && !WEAK_WORDS.has(stem(w.word)));
    const matchesAll = first.matched.length === words.length && words.length >= 2;
    const related = second !== undefined && this.areRelated(first.topic, second.topic);
    return (
      first.score >= minScorePerWord * weight(words) &&
      first.coverage >= minCoverage &&
      (hasDomainWord || matchesAll) &&
      (second === undefined || related || first.score >= minMargin * second.score)
    );
  }

  private areRelated(a: Topic, b: Topic): boolean {
    return (a.related ?? []).includes(b.id) || (b.related ?? []).includes(a.id);
  }

  private relatedOf(topic: Topic): Topic[] {
    return (topic.related ?? []).flatMap((id) => this.topics.get(id) ?? []);
  }

  /** A decline as a rankable pseudo-topic (never shown: ask() turns it into a polite refusal). */
  private declineTopic(id: string): Topic | undefined {
    const d = this.declines.get(id);
    if (!d) return undefined;
    return { id, title: '', keywords: [], questions: d.questions, answer: d.reply, fix_command: '/ds01 help', cli_equivalent: '', read_more: 'docs/index.md' };
  }

  /**
   * Known words stay; so do ordinary English words (never "lunch" → "launch"). Any other word of 5+
   * letters becomes the closest dictionary word, if one is near.
   */
  private correct(word: string): string | undefined {
    if (this.vocabulary.has(word) || this.knownStems.has(stem(word))) return word;
    if (word.length < 5 || isEnglishWord(word)) return undefined;
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
      if (topic.id !== exclude && !this.declines.has(topic.id) && !chosen.includes(topic)) chosen.push(topic);
    }
    return chosen;
  }
}

/**
 * The sentences of a message worth judging on their own: split at ? ! newlines and ". ", each with
 * at least three words, at most MAX_SENTENCES. Only meaningful when the message has more than one.
 */
function sentencesOf(text: string): string[] {
  const parts = text.split(/[?!\n]|\.\s/).map((s) => s.trim());
  const useful = parts.filter((s) => tokensOf(s).length >= 3);
  return useful.length > 1 ? useful.slice(0, MAX_SENTENCES) : [];
}

type Words = FaqAnalysis['words'];

function matchedWords(words: Words, hit: SearchResult): Words {
  const matched = new Set(hit.queryTerms);
  return words.filter(({ word }) => (processTerm(word) ?? []).some((t) => matched.has(t)));
}

/**
 * How many words a question "has" for the confidence bar: a word the knowledge base does not know
 * at all ("actually", "weekend", "panicking") counts half, so chatty phrasing is not held against
 * a question, while it still dilutes one that is mostly about something else.
 */
function weight(words: Words): number {
  return words.reduce((sum, w) => sum + (w.known ? 1 : UNKNOWN_WORD_WEIGHT), 0);
}

const UNKNOWN_WORD_WEIGHT = 0.5;

/** Share of the question's (weighted) words a hit matched; words we had to spell-correct count half. */
function coverage(words: Words, matched: Words): number {
  return matched.reduce((sum, w) => sum + (w.corrected ? 0.5 : 1), 0) / weight(words);
}
