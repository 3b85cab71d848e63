import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

/** The Slack subcommands the bot understands; a topic's fix_command must use one of them. */
export const BOT_SUBCOMMANDS = ['launch', 'retire', 'image-update', 'status', 'gpus', 'limits', 'queue', 'keepalive', 'help'] as const;

const fixCommandPattern = new RegExp(`^/ds01 (${BOT_SUBCOMMANDS.join('|')})(\\s|$)`);

export const TopicSchema = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'id must be kebab-case'),
  title: z.string().min(3).max(80),
  keywords: z.array(z.string().min(1)).min(3),
  questions: z.array(z.string().min(5)).min(3),
  answer: z.string().min(60).max(800),
  fix_command: z.string().regex(fixCommandPattern, 'fix_command must be a /ds01 command the bot knows'),
  cli_equivalent: z.string().min(2),
  read_more: z.string().regex(/^docs\/[\w./-]+\.md(#[\w-]+)?$/, 'read_more must be a docs/… .md path'),
  /** Topics that are also right for the same questions: a close runner-up among them is no reason to abstain. */
  related: z.array(z.string()).optional(),
});

/** A kind of question that sounds close to DS01 but is not about it; matching it means "not for me". */
export const DeclineSchema = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  reply: z.string().min(20).max(300),
  keywords: z.array(z.string().min(1)).optional(),
  questions: z.array(z.string().min(5)).min(2),
});
export type Decline = z.infer<typeof DeclineSchema>;

export type Topic = z.infer<typeof TopicSchema>;

export const KnowledgeBaseSchema = z.object({ topics: z.array(TopicSchema).min(1), declines: z.array(DeclineSchema).default([]) }).superRefine((kb, ctx) => {
  const seen = new Set<string>();
  const ids = new Set(kb.topics.map((t) => t.id));
  kb.topics.forEach((topic, i) => {
    for (const r of topic.related ?? []) {
      if (!ids.has(r) || r === topic.id) ctx.addIssue({ code: 'custom', message: `related topic "${r}" of "${topic.id}" does not exist`, path: ['topics', i, 'related'] });
    }
  });
  kb.topics.forEach((topic, i) => {
    if (seen.has(topic.id)) {
      ctx.addIssue({ code: 'custom', message: `duplicate topic id "${topic.id}"`, path: ['topics', i, 'id'] });
    }
    seen.add(topic.id);
  });
});

/** Parses and validates knowledge-base YAML; throws with every schema problem listed. */
export function parseKnowledgeBaseFile(yamlText: string): { topics: Topic[]; declines: Decline[] } {
  const parsed = KnowledgeBaseSchema.safeParse(parse(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid FAQ knowledge base:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

export function parseKnowledgeBase(yamlText: string): Topic[] {
  return parseKnowledgeBaseFile(yamlText).topics;
}

let cached: { topics: Topic[]; declines: Decline[] } | undefined;

function load(): { topics: Topic[]; declines: Decline[] } {
  cached ??= parseKnowledgeBaseFile(readFileSync(new URL('./topics.yaml', import.meta.url), 'utf8'));
  return cached;
}

/** The FAQ topics from topics.yaml next to this module, read and validated once per process. */
export function loadKnowledgeBase(): Topic[] {
  return load().topics;
}

/** The "not about DS01" question kinds from topics.yaml. */
export function loadDeclines(): Decline[] {
  return load().declines;
}
