import { describe, expect, it } from 'vitest';
import { decideDm, type DmMessageEvent } from '../../src/slack/faq/dm-message.js';

const BOT = 'U0DS01BOT';
const dm = (over: Partial<DmMessageEvent> = {}): DmMessageEvent => ({
  type: 'message',
  channel: 'D0ALICE',
  channel_type: 'im',
  user: 'U0ALICE',
  text: 'why did my packages disappear?',
  ts: '1700000000.000100',
  ...over,
});

describe('which message events are questions for the bot', () => {
  it('a plain DM is answered, top level', () => {
    expect(decideDm(dm(), BOT)).toEqual({ answer: true, channel: 'D0ALICE', user: 'U0ALICE', question: 'why did my packages disappear?', ts: '1700000000.000100' });
  });

  it('a reply in a thread the bot or the user started is answered in that thread', () => {
    for (const parent of [BOT, 'U0ALICE', undefined]) {
      const d = decideDm(dm({ thread_ts: '1699999999.000001', ...(parent ? { parent_user_id: parent } : {}) }), BOT);
      expect(d).toMatchObject({ answer: true, threadTs: '1699999999.000001' });
    }
  });

  it('a thread parent itself (thread_ts equal to ts) is answered at top level', () => {
    const d = decideDm(dm({ thread_ts: '1700000000.000100' }), BOT);
    expect(d.answer && d.threadTs).toBe(undefined);
  });

  it("a reply in somebody else's thread is left alone", () => {
    expect(decideDm(dm({ thread_ts: '1699999999.000001', parent_user_id: 'U0BOB' }), BOT)).toEqual({ answer: false, reason: 'foreign_thread' });
  });

  it('bots, the bot itself, edits, deletes, other subtypes, channels and empty text are ignored', () => {
    const cases: Array<[Partial<DmMessageEvent>, string]> = [
      [{ bot_id: 'B0OTHER' }, 'bot'],
      [{ subtype: 'bot_message', user: undefined }, 'bot'],
      [{ user: BOT }, 'self'],
      [{ subtype: 'message_changed' }, 'subtype'],
      [{ subtype: 'message_deleted' }, 'subtype'],
      [{ subtype: 'file_share' }, 'subtype'],
      [{ channel_type: 'channel', channel: 'C0GENERAL' }, 'not_dm'],
      [{ channel_type: 'mpim' }, 'not_dm'],
      [{ text: '   ' }, 'empty'],
      [{ user: undefined }, 'no_user'],
    ];
    for (const [over, reason] of cases) expect(decideDm(dm(over), BOT)).toEqual({ answer: false, reason });
  });
});
