import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { findUserBySlackId } from '../../config/ds01-config.js';
import { RedisKey } from '../../contract/queues.js';
import { effectiveLimits } from '../../limits/resource-limits.js';
import type { RetireReason } from '../../contract/jobs.js';
import { answerForTopic, composeAnswer, type RetirementReason, type UserContext } from '../../faq/answer.js';
import { parseFeedback, serializeFeedback, type FeedbackRecord } from '../../faq/feedback.js';
import { capQuestion } from '../../faq/question.js';
import { loadKnowledgeBase, type Topic } from '../../faq/knowledge-base.js';
import { buildFaqIndex } from '../../faq/engine.js';
import type { FaqIndex } from '../../faq/search.js';
import { decorateAnswer, greetingMessage, type SlackMessage } from '../blocks/faq.js';
import type { BotDeps } from '../deps.js';
import { recentRetirements } from '../recent-retirements.js';

/**
 * "Ask DS01" glue between Slack and the FAQ engine: the one FaqIndex, the asker's context (their
 * recent retirements, how to reach the admins), and what we keep in Redis (asked counts, feedback).
 */

let index: FaqIndex | undefined;
let topicsById: Map<string, Topic> | undefined;

/** The FAQ index, built once per process (registerEvents builds it at startup). */
export function faqIndex(): FaqIndex {
  index ??= buildFaqIndex();
  return index;
}

export function faqTopic(id: string): Topic | undefined {
  topicsById ??= new Map(loadKnowledgeBase().map((t) => [t.id, t]));
  return topicsById.get(id);
}

/**
 * The worker's retire reasons in the FAQ's words. A recreate is the user's own click; a container
 * removed after sitting stopped past the hold-after-stop time counts as inactivity.
 */
const FAQ_REASON: Record<RetireReason, RetirementReason> = {
  user: 'user',
  recreate: 'user',
  admin: 'admin',
  idle: 'idle',
  hold_after_stop: 'idle',
  max_runtime: 'max_runtime',
};

type FaqDeps = Pick<BotDeps, 'redis' | 'config' | 'hosts' | 'limits' | 'userOverrides'>;

/**
 * What the FAQ needs to know about this asker to answer about *their* situation: their recent
 * retirements, the GPUs free right now, and their running containers with when the group's maximum
 * runtime runs out. Anyone may DM the bot; the container part is only filled for registered users.
 */
export async function userContextFor(deps: FaqDeps, slackUserId: string): Promise<UserContext> {
  const [recent, hosts] = await Promise.all([recentRetirements(deps.redis, slackUserId), deps.hosts.online()]);
  const user = findUserBySlackId(deps.config, slackUserId);
  const gpus = hosts.flatMap((h) => h.gpus);
  const ctx: UserContext = {
    adminContact: deps.config.admin_contact,
    recentRetirements: recent.map((r) => ({ project: r.project, host: r.host, at: r.at, lostPackages: r.lostPackages, reason: FAQ_REASON[r.reason] })),
    gpusNow: { free: gpus.filter((g) => !g.holder).length, total: gpus.length, hosts: hosts.length },
  };
  if (user) {
    const maxRuntimeH = effectiveLimits(deps.limits, {
      user: user.user,
      ...(user.group ? { group: user.group } : {}),
      ...(deps.userOverrides ? { overrides: deps.userOverrides } : {}),
    }).maxRuntimeH;
    ctx.ownContainers = hosts.flatMap((h) =>
      h.containers
        .filter((c) => c.user === user.user && c.state === 'running')
        .map((c) => {
          const since = c.createdAt && !Number.isNaN(Date.parse(c.createdAt)) ? c.createdAt : null;
          const runtimeEndsAt = since && maxRuntimeH != null ? new Date(Date.parse(since) + maxRuntimeH * 3_600_000).toISOString() : null;
          return { project: c.project, host: h.hostId, since, runtimeEndsAt };
        }),
    );
  }
  return ctx;
}

/** A question as asked, kept for a while so that feedback on its answer can name it. */
const AskRecord = z.object({ question: z.string(), slackUserId: z.string() });
type AskRecord = z.infer<typeof AskRecord>;
const ASK_TTL_S = 30 * 24 * 3600;
const MAX_QUESTION = 2000;

export const newAskId = (): string => randomBytes(6).toString('hex');

export async function rememberAsk(redis: Redis, askId: string, ask: AskRecord): Promise<void> {
  await redis.set(RedisKey.faqAsk(askId), JSON.stringify({ ...ask, question: ask.question.slice(0, MAX_QUESTION) }), 'EX', ASK_TTL_S);
}

export async function recallAsk(redis: Redis, askId: string | undefined): Promise<AskRecord | undefined> {
  if (!askId) return undefined;
  const raw = await redis.get(RedisKey.faqAsk(askId));
  if (!raw) return undefined;
  const parsed = AskRecord.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

/** One more answer given for this topic. */
export async function countAsked(redis: Redis, topicId: string): Promise<void> {
  await redis.zincrby(RedisKey.faqAsked, 1, topicId);
}

/** The most often answered topics, most first (topics no longer in the FAQ are skipped). */
export async function mostAsked(redis: Redis, n: number): Promise<Array<{ topic: Topic; count: number }>> {
  const flat = await redis.zrevrange(RedisKey.faqAsked, 0, n * 2 - 1, 'WITHSCORES');
  const out: Array<{ topic: Topic; count: number }> = [];
  for (let i = 0; i + 1 < flat.length && out.length < n; i += 2) {
    const topic = faqTopic(flat[i]!);
    if (topic) out.push({ topic, count: Number(flat[i + 1]) });
  }
  return out;
}

/**
 * Answers a question for this user: the composed FAQ answer (or "not sure" with the closest topics),
 * with its buttons tied to a stored ask so feedback can name the question. Counts confident answers.
 */
export async function askFaq(deps: FaqDeps, slackUserId: string, question: string): Promise<SlackMessage & { topicId: string | null }> {
  // The size cap comes before anything else looks at the text (one DM must not stall the bot).
  const capped = capQuestion(question);
  const idx = faqIndex();
  if (idx.analyse(capped.text).words.length === 0) return { ...greetingMessage(deps.config.admin_contact), topicId: null };
  const result = idx.ask(capped);
  const ctx = await userContextFor(deps, slackUserId);
  const askId = newAskId();
  await rememberAsk(deps.redis, askId, { question: capped.text, slackUserId });
  if (result.confident && result.topic) await countAsked(deps.redis, result.topic.id);
  return { ...decorateAnswer(composeAnswer(result, ctx), askId), topicId: result.confident && result.topic ? result.topic.id : null };
}

/** The answer for one topic the user picked (a topic button), tied to the original ask when known. */
export async function answerTopic(deps: FaqDeps, slackUserId: string, topic: Topic, askId: string | undefined): Promise<SlackMessage> {
  const ctx = await userContextFor(deps, slackUserId);
  let id = askId;
  if (!id || !(await recallAsk(deps.redis, id))) {
    id = newAskId();
    await rememberAsk(deps.redis, id, { question: topic.title, slackUserId });
  }
  await countAsked(deps.redis, topic.id);
  return decorateAnswer(answerForTopic(topic, ctx), id);
}

const KEEP_FEEDBACK = 1000;

/** Stores one vote, newest first; the list keeps the latest KEEP_FEEDBACK votes. */
export async function storeFeedback(redis: Redis, record: FeedbackRecord): Promise<void> {
  await redis
    .multi()
    .lpush(RedisKey.faqFeedback, serializeFeedback(record))
    .ltrim(RedisKey.faqFeedback, 0, KEEP_FEEDBACK - 1)
    .exec();
}

/** The latest votes saying an answer did not help, newest first. */
export async function latestUnhelpful(redis: Redis, n: number): Promise<FeedbackRecord[]> {
  const raw = await redis.lrange(RedisKey.faqFeedback, 0, KEEP_FEEDBACK - 1);
  const out: FeedbackRecord[] = [];
  for (const s of raw) {
    if (out.length >= n) break;
    try {
      const r = parseFeedback(s);
      if (!r.helpful) out.push(r);
    } catch {
      // A record from an older shape: skip it rather than fail the admin's list.
    }
  }
  return out;
}
