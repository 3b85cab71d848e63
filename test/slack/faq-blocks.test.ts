import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { answerForTopic, composeAnswer } from '../../src/faq/answer.js';
import { buildFeedback } from '../../src/faq/feedback.js';
import { loadKnowledgeBase } from '../../src/faq/knowledge-base.js';
import { FaqIndex } from '../../src/faq/search.js';
import { askIdOf, decorateAnswer, greetingMessage, unhelpfulFeedbackMessage, withFeedbackThanks } from '../../src/slack/blocks/faq.js';

const topics = loadKnowledgeBase();
const byId = (id: string) => topics.find((t) => t.id === id);
const ctx = { adminContact: '#ds01-help' };
const actionIds = (blocks: KnownBlock[]) => JSON.stringify(blocks).match(/"action_id":"[a-z_]+"/g) ?? [];

describe('FAQ answers on Slack', () => {
  it('ties the feedback and topic buttons to the ask through their block ids', () => {
    const answer = decorateAnswer(answerForTopic(byId('retirement')!, ctx), 'abc123def456');
    const ids = answer.blocks.map((b) => b.block_id).filter(Boolean);
    expect(ids).toEqual(['faq_fbq:abc123def456', 'faq_fb:abc123def456']);
    expect(askIdOf('faq_fb:abc123def456')).toBe('abc123def456');

    const unsure = decorateAnswer(composeAnswer(new FaqIndex(topics).ask('best pizza in town'), ctx), 'abc123def456');
    const alt = unsure.blocks.map((b) => b.block_id).filter(Boolean);
    expect(alt).toEqual(['faq_alt:abc123def456:0', 'faq_alt:abc123def456:1', 'faq_alt:abc123def456:2']);
    expect(new Set(alt).size).toBe(3);
    expect(askIdOf(alt[2])).toBe('abc123def456');
    expect(askIdOf('image_update_open')).toBeUndefined();
  });

  it('after a vote the prompt and both buttons give way to a thanks; the rest of the answer stays', () => {
    const answer = decorateAnswer(answerForTopic(byId('retirement')!, ctx), 'abc123def456');
    const no = withFeedbackThanks(answer.blocks, false, '#ds01-help');
    expect(actionIds(no)).toEqual([]);
    expect(JSON.stringify(no)).not.toContain('Did this help?');
    expect(JSON.stringify(no)).toContain('#ds01-help');
    expect(no).toHaveLength(answer.blocks.length - 1);
    expect(no[0]).toEqual(answer.blocks[0]);
    expect(JSON.stringify(withFeedbackThanks(answer.blocks, true, '#x'))).toMatch(/Glad it helped/);
  });

  it('a greeting says what to ask and how to reach the admins', () => {
    expect(greetingMessage('#ds01-help').text).toMatch(/why did my packages disappear\?.*\n.*\/ds01 help[\s\S]*#ds01-help/);
  });

  it('lists unhelpful answers for admins, escaping what users typed', () => {
    const r = buildFeedback({ topicId: 'retirement', question: 'why <b>gone</b>?', helpful: false, slackUserId: 'U0ALICE', at: new Date('2025-05-01T10:00:00Z') });
    const m = unhelpfulFeedbackMessage([r], byId);
    expect(m.text).toContain('<@U0ALICE> asked “why &lt;b&gt;gone&lt;/b&gt;?”');
    expect(m.text).toContain('2025-05-01 10:00 UTC');
    expect(m.text).toContain(byId('retirement')!.title);
    expect(unhelpfulFeedbackMessage([], byId).text).toMatch(/Nobody has marked/);
  });
});
