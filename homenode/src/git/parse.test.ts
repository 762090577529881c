import { describe, expect, it } from 'vitest';
import { hidePassword, parseDiff, parseStatus } from './parse.ts';

describe('parseStatus', () => {
  it('should read branch headers, ahead/behind and every record kind', () => {
    const out = [
      '# branch.oid 1234567890abcdef1234567890abcdef12345678',
      '# branch.head feature/x',
      '# branch.upstream origin/feature/x',
      '# branch.ab +2 -3',
      '1 .M N... 100644 100644 100644 aaa bbb src/a file.ts',
      '1 D. N... 100644 000000 000000 aaa 000 gone.txt',
      '2 R. N... 100644 100644 100644 aaa aaa R100 new name.md',
      'old name.md',
      'u UU N... 100644 100644 100644 100644 aaa bbb ccc conflict.txt',
      '? untracked dir/',
      '! ignored.log',
      '',
    ].join('\0');
    expect(parseStatus(out)).toEqual({
      branch: { head: 'feature/x', oid: '1234567890abcdef1234567890abcdef12345678', upstream: 'origin/feature/x', ahead: 2, behind: 3 },
      files: [
        { path: 'src/a file.ts', x: '.', y: 'M', state: 'modified', staged: false, unstaged: true },
        { path: 'gone.txt', x: 'D', y: '.', state: 'deleted', staged: true, unstaged: false },
        { path: 'new name.md', from: 'old name.md', x: 'R', y: '.', state: 'renamed', staged: true, unstaged: false },
        { path: 'conflict.txt', x: 'U', y: 'U', state: 'conflicted', staged: false, unstaged: true },
        { path: 'untracked dir/', x: '?', y: '?', state: 'untracked', staged: false, unstaged: true },
      ],
      clean: false,
    });
  });

  it('should read a detached HEAD and a repo with no commits', () => {
    expect(parseStatus('# branch.oid abc\0# branch.head (detached)\0').branch).toEqual({ head: null, oid: 'abc', upstream: null, ahead: 0, behind: 0 });
    expect(parseStatus('# branch.oid (initial)\0# branch.head main\0')).toEqual({
      branch: { head: 'main', oid: null, upstream: null, ahead: 0, behind: 0 },
      files: [],
      clean: true,
    });
  });
});

describe('parseDiff', () => {
  const diff = [
    'diff --git a/src/app.ts b/src/app.ts',
    'index 111..222 100644',
    '--- a/src/app.ts',
    '+++ b/src/app.ts',
    '@@ -1,2 +1,2 @@',
    '-old',
    '+new',
    '+more',
    ' same',
    'diff --git a/logo.png b/logo.png',
    'new file mode 100644',
    'index 000..333',
    'Binary files /dev/null and b/logo.png differ',
    'diff --git a/old.txt b/new.txt',
    'similarity index 90%',
    'rename from old.txt',
    'rename to new.txt',
    'diff --git "a/t\\303\\251st.txt" "b/t\\303\\251st.txt"',
    'deleted file mode 100644',
    '--- "a/t\\303\\251st.txt"',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-bye',
    '',
  ].join('\n');

  it('should split a diff into files with status, counts and patches', () => {
    const files = parseDiff(diff);
    expect(files.map(({ patch: _patch, ...rest }) => rest)).toEqual([
      { path: 'src/app.ts', status: 'modified', binary: false, additions: 2, deletions: 1, truncated: false },
      { path: 'logo.png', status: 'added', binary: true, additions: 0, deletions: 0, truncated: false },
      { path: 'new.txt', from: 'old.txt', status: 'renamed', binary: false, additions: 0, deletions: 0, truncated: false },
      { path: 'tést.txt', status: 'deleted', binary: false, additions: 0, deletions: 1, truncated: false },
    ]);
    expect(files[0].patch.split('\n')[0]).toBe('diff --git a/src/app.ts b/src/app.ts');
    expect(files[0].patch.endsWith(' same')).toBe(true);
  });

  it('should cut a patch at the per-file limit and mark it', () => {
    const [file] = parseDiff(diff.split('diff --git a/logo.png')[0], 60);
    expect(file.patch).toHaveLength(60);
    expect(file.truncated).toBe(true);
    expect(file.additions).toBe(2);
  });
});

describe('hidePassword', () => {
  it('should hide the password of a URL and leave other URLs alone', () => {
    expect(hidePassword('https://me:tok3n@github.com/o/r.git')).toBe('https://me:***@github.com/o/r.git');
    expect(hidePassword('https://github.com/o/r.git')).toBe('https://github.com/o/r.git');
    expect(hidePassword('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
  });
});
