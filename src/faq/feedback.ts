import { z } from 'zod';

/**
 * "Did this help?" feedback: one record per click, built from the button and stored (as JSON) by the
 * bot. Only the shape lives here; where it is stored is the caller's business.
 */

export const FEEDBACK_ACTIONS = { faq_helpful_yes: true, faq_helpful_no: false } as const;
export type FeedbackActionId = keyof typeof FEEDBACK_ACTIONS;

const MAX_QUESTION_LENGTH = 2000;

export const FeedbackRecordSchema = z.object({
  topicId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  question: z.string().trim().min(1).max(MAX_QUESTION_LENGTH),
  helpful: z.boolean(),
  slackUserId: z.string().regex(/^[UW][A-Z0-9]+$/),
  at: z.iso.datetime(),
});

export type FeedbackRecord = z.infer<typeof FeedbackRecordSchema>;

export function isFeedbackAction(actionId: string): actionId is FeedbackActionId {
  return Object.hasOwn(FEEDBACK_ACTIONS, actionId);
}

/** Builds a validated record; an over-long question is cut rather than rejected. Throws on bad input. */
export function buildFeedback(input: { topicId: string; question: string; helpful: boolean; slackUserId: string; at: Date }): FeedbackRecord {
  return FeedbackRecordSchema.parse({
    ...input,
    question: input.question.trim().slice(0, MAX_QUESTION_LENGTH),
    at: input.at.toISOString(),
  });
}

/** The record for a click on faq_helpful_yes / faq_helpful_no, whose button value is the topic id. */
export function feedbackFromAction(action: { actionId: string; value: string; question: string; slackUserId: string; at: Date }): FeedbackRecord {
  if (!isFeedbackAction(action.actionId)) throw new Error(`not a feedback action: ${action.actionId}`);
  return buildFeedback({
    topicId: action.value,
    question: action.question,
    helpful: FEEDBACK_ACTIONS[action.actionId],
    slackUserId: action.slackUserId,
    at: action.at,
  });
}

export function serializeFeedback(record: FeedbackRecord): string {
  return JSON.stringify(FeedbackRecordSchema.parse(record));
}

/** Reads a stored record (JSON text or an already-parsed object); throws if it is not a valid record. */
export function parseFeedback(raw: string | unknown): FeedbackRecord {
  return FeedbackRecordSchema.parse(typeof raw === 'string' ? JSON.parse(raw) : raw);
}
