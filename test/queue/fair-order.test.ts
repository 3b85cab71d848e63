import { describe, expect, it } from 'vitest';
import { fairOrder, fairPosition, ordinal, placeText } from '../../src/queue/gpu-queue.js';

const e = (seq: number, user: string) => ({ seq, owner: { user } });

describe('the GPU queue order', () => {
  it("first come first served, but each user's first waiting request before anyone's second", () => {
    const order = fairOrder([e(1, 'carol'), e(2, 'carol'), e(3, 'carol'), e(4, 'dave'), e(5, 'alice'), e(6, 'dave')]);
    expect(order.map((x) => `${x.owner.user}${x.seq}`)).toEqual(['carol1', 'dave4', 'alice5', 'carol2', 'dave6', 'carol3']);
  });
  it('is stable however the entries arrive', () => {
    const a = fairOrder([e(3, 'x'), e(1, 'y'), e(2, 'x')]);
    const b = fairOrder([e(2, 'x'), e(3, 'x'), e(1, 'y')]);
    expect(a).toEqual(b);
  });
  it('says the place in words', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '101st', '111th']);
    expect(placeText(2, 1, null)).toBe('2nd in line for 1 GPU on any host');
    expect(placeText(1, 2, 'gpu2')).toBe('1st in line for 2 GPUs on gpu2');
  });
  it("a new request's place, counted in one pass, is where the fair order puts it", () => {
    // Seeded pseudo-random queues (the same every run): few users, so many are on their 2nd or 3rd request.
    let x = 12345;
    const rand = (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    const req = (seq: number, user: string) => ({ requestId: `r${seq}`, seq, owner: { user } });
    for (let trial = 0; trial < 300; trial++) {
      const waiting = Array.from({ length: rand(40) }, (_, i) => req(i + 1, `u${rand(6)}`));
      const queue = fairOrder(waiting);
      const joining = req(waiting.length + 1, `u${rand(6)}`);
      const expected = fairOrder([...waiting, joining]).indexOf(joining) + 1;
      // Whether the in-memory queue already holds the new entry or not yet.
      expect(fairPosition(queue, joining)).toBe(expected);
      expect(fairPosition(fairOrder([...waiting, joining]), joining)).toBe(expected);
      // An entry already waiting: its own place.
      if (waiting.length) {
        const some = waiting[rand(waiting.length)]!;
        expect(fairPosition(queue, some)).toBe(queue.indexOf(some) + 1);
      }
    }
  });
});
