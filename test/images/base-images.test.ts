import { describe, expect, it } from 'vitest';
import { ds01Owner, foreignImage, imageReferences, substitute } from '../../workers/images/base-images.js';

const args = { DS01_USER_ID: '1002', DS01_GROUP_ID: '1002', DS01_USERNAME: 'bob' };

describe('which images a Dockerfile builds from', () => {
  it('resolves ARG defaults, build args and stage names the way Docker does', () => {
    const df = [
      'ARG DS01_USER_ID',
      'ARG BASE=ds01-1001/demo:latest',
      'ARG MINE=ds01-${DS01_USER_ID}/thesis',
      'FROM ${BASE} AS builder',
      'FROM $MINE:latest',
      'COPY --from=builder /a /b',
      'COPY --from=docker.io/ds01-1003/x:latest /c /d',
      'RUN --mount=type=bind,from=ds01-1004/y,target=/m ls /m',
      'FROM scratch',
      '',
    ].join('\n');
    expect(imageReferences(df, args)).toEqual(['ds01-1001/demo:latest', 'ds01-1002/thesis:latest', 'docker.io/ds01-1003/x:latest', 'ds01-1004/y']);
  });

  it("names the first image that is another user's, and allows the owner's and public ones", () => {
    expect(foreignImage(['python:3.11', 'ds01-1002/a:latest'], 1002)).toBeNull();
    expect(foreignImage(['python:3.11', 'DS01-1001/a'], 1002)).toBe('DS01-1001/a');
    expect(ds01Owner('index.docker.io/ds01-7/x')).toBe(7);
    expect(ds01Owner('ds01-test/base:latest')).toBeNull();
    expect(ds01Owner('registry.example/ds01-1/x')).toBeNull();
  });

  it('substitutes every variable form, and a hostile word stays linear (an unclosed ${ is kept as written)', () => {
    const vars = new Map([
      ['A', 'x'],
      ['E', ''],
    ]);
    expect(substitute('${A}-$A-${E:-d}-${A:+alt}-${E:+no}-$-${nope}', vars)).toBe('x-x-d-alt--$-');
    const hostile = '${A'.repeat(50_000);
    expect(substitute(hostile, vars)).toBe(hostile);
  });

  it('refuses, with a sentence, a Dockerfile whose FROM it cannot read', () => {
    expect(() => imageReferences('FROM ["x"]\n', args)).toThrow(/cannot read reliably/);
  });

  it('a Dockerfile over the size cap is told it is too large, not that it sets an escape character', () => {
    const huge = `FROM python:3.11\n${' \t'.repeat(150_000)}\nRUN echo hi\n`;
    const refused = (df: string) => {
      try {
        imageReferences(df, args);
      } catch (err) {
        return (err as { userMessage?: string }).userMessage ?? '';
      }
      return 'accepted';
    };
    expect(refused(huge)).toMatch(/larger than 256 kB.*did not build/);
    expect(refused('# escape=`\nFROM python:3.11\n')).toMatch(/custom escape character/);
  });
});
