/**
 * @module
 * Parsers for the machine-readable git output the repo work API asks for:
 * `status --porcelain=v2 --branch -z`, unified diffs (per file, capped), and the
 * field-separated formats used for log, branches, stashes, tags and remotes.
 */

export type FileState = 'modified' | 'added' | 'deleted' | 'renamed' | 'copied' | 'typechange' | 'conflicted' | 'untracked';

export interface ChangedFile {
  path: string;
  /** the old path of a rename or copy */
  from?: string;
  /** index (staged) and worktree status letters as git prints them ('.' = unchanged) */
  x: string;
  y: string;
  state: FileState;
  staged: boolean;
  unstaged: boolean;
}

export interface BranchState {
  /** null when HEAD is detached */
  head: string | null;
  /** null before the first commit */
  oid: string | null;
  upstream: string | null;
  ahead: number;
  behind: number;
}

export interface RepoStatus {
  branch: BranchState;
  files: ChangedFile[];
  clean: boolean;
}

const STATE_OF: Record<string, FileState> = {
  M: 'modified',
  A: 'added',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'typechange',
};

/** The text after the first `n` space-separated fields (paths may contain spaces). */
function afterFields(record: string, n: number): string {
  let at = 0;
  for (let i = 0; i < n; i++) at = record.indexOf(' ', at) + 1;
  return record.slice(at);
}

export function parseStatus(output: string): RepoStatus {
  const branch: BranchState = { head: null, oid: null, upstream: null, ahead: 0, behind: 0 };
  const files: ChangedFile[] = [];
  const records = output.split('\0');
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    if (record === '') continue;
    if (record.startsWith('# ')) {
      const [key, ...rest] = record.slice(2).split(' ');
      const value = rest.join(' ');
      if (key === 'branch.oid') branch.oid = value === '(initial)' ? null : value;
      else if (key === 'branch.head') branch.head = value === '(detached)' ? null : value;
      else if (key === 'branch.upstream') branch.upstream = value;
      else if (key === 'branch.ab') {
        const match = /^\+(\d+) -(\d+)$/.exec(value);
        if (match) [branch.ahead, branch.behind] = [Number(match[1]), Number(match[2])];
      }
      continue;
    }
    const kind = record[0];
    if (kind === '?') {
      files.push({ path: record.slice(2), x: '?', y: '?', state: 'untracked', staged: false, unstaged: true });
      continue;
    }
    if (kind === '!') continue;
    const [x, y] = [record[2], record[3]];
    if (kind === 'u') {
      files.push({ path: afterFields(record, 10), x, y, state: 'conflicted', staged: false, unstaged: true });
      continue;
    }
    const path = afterFields(record, kind === '2' ? 9 : 8);
    const letter = x !== '.' ? x : y;
    const file: ChangedFile = { path, x, y, state: STATE_OF[letter] ?? 'modified', staged: x !== '.', unstaged: y !== '.' };
    if (kind === '2') file.from = records[++i];
    files.push(file);
  }
  return { branch, files, clean: files.length === 0 };
}

export interface FileDiff {
  path: string;
  from?: string;
  status: 'added' | 'deleted' | 'modified' | 'renamed' | 'copied';
  binary: boolean;
  additions: number;
  deletions: number;
  patch: string;
  /** the patch was cut at the per-file limit */
  truncated: boolean;
}

/** Undoes git's C-style quoting of unusual file names ("a/t\303\251st"). */
function unquote(name: string): string {
  if (!name.startsWith('"')) return name;
  const bytes: number[] = [];
  const body = name.slice(1, name.lastIndexOf('"'));
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== '\\') {
      bytes.push(...Buffer.from(body[i]));
      continue;
    }
    const next = body[++i];
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(escapes[next] ?? next.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

function stripPrefix(name: string): string {
  const plain = unquote(name.trim());
  return plain.replace(/^[ab]\//, '');
}

/** Splits a unified diff into files, cutting each patch at `maxPatchChars`. */
export function parseDiff(output: string, maxPatchChars = 256 * 1024): FileDiff[] {
  const files: FileDiff[] = [];
  const chunks = output.split(/^(?=diff --git )/m).filter((c) => c.startsWith('diff --git '));
  for (const chunk of chunks) {
    const lines = chunk.split('\n');
    const file: FileDiff = { path: '', status: 'modified', binary: false, additions: 0, deletions: 0, patch: '', truncated: false };
    let oldName: string | null = null;
    let newName: string | null = null;
    let inHunks = false;
    for (const line of lines.slice(1)) {
      if (inHunks) {
        if (line.startsWith('+')) file.additions++;
        else if (line.startsWith('-')) file.deletions++;
        continue;
      }
      if (line.startsWith('@@')) inHunks = true;
      else if (line.startsWith('new file mode')) file.status = 'added';
      else if (line.startsWith('deleted file mode')) file.status = 'deleted';
      else if (line.startsWith('rename from ')) [file.status, oldName] = ['renamed', unquote(line.slice(12))];
      else if (line.startsWith('rename to ')) newName = unquote(line.slice(10));
      else if (line.startsWith('copy from ')) [file.status, oldName] = ['copied', unquote(line.slice(10))];
      else if (line.startsWith('copy to ')) newName = unquote(line.slice(8));
      else if (line.startsWith('--- ') && line !== '--- /dev/null') oldName ??= stripPrefix(line.slice(4));
      else if (line.startsWith('+++ ') && line !== '+++ /dev/null') newName ??= stripPrefix(line.slice(4));
      else if (line.startsWith('Binary files ') || line === 'GIT binary patch') file.binary = true;
    }
    if (!oldName && !newName) {
      // no ---/+++ lines (binary, mode-only): "diff --git a/P b/P" has P twice
      const header = lines[0].slice('diff --git '.length);
      const half = header.length >= 5 ? header.slice(2, (header.length - 1) / 2) : header;
      oldName = newName = unquote(half);
    }
    file.path = newName ?? oldName ?? '';
    if ((file.status === 'renamed' || file.status === 'copied') && oldName) file.from = oldName;
    if (chunk.length > maxPatchChars) {
      file.patch = chunk.slice(0, maxPatchChars);
      file.truncated = true;
    } else file.patch = chunk.replace(/\n$/, '');
    files.push(file);
  }
  return files;
}

export interface LogEntry {
  hash: string;
  short: string;
  parents: string[];
  author: { name: string; email: string };
  date: string;
  subject: string;
  body?: string;
}

/** The `--format` that `parseLog` reads: unit separators between fields, record separators after. */
export const LOG_FORMAT = '%H%x1f%h%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%b%x1e';

export function parseLog(output: string): LogEntry[] {
  return output
    .split('\x1e')
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.includes('\x1f'))
    .map((record) => {
      const [hash, short, parents, name, email, date, subject, body] = record.split('\x1f');
      const entry: LogEntry = { hash, short, parents: parents ? parents.split(' ') : [], author: { name, email }, date, subject };
      if (body?.trim()) entry.body = body.trim();
      return entry;
    });
}

export interface BranchInfo {
  name: string;
  remote: boolean;
  current: boolean;
  commit: string;
  upstream: string | null;
  /** "ahead 1, behind 2", "gone" or "" */
  track: string;
}

export const BRANCH_FORMAT = '%(refname)%1f%(refname:short)%1f%(objectname:short)%1f%(upstream:short)%1f%(upstream:track,nobracket)%1f%(HEAD)';

export function parseBranches(output: string): BranchInfo[] {
  return output
    .split('\n')
    .map((line) => line.split('\x1f'))
    .filter((fields) => fields.length === 6)
    // skips "(HEAD detached at …)" and the symbolic refs/remotes/<remote>/HEAD
    .filter(([ref]) => (ref.startsWith('refs/heads/') || ref.startsWith('refs/remotes/')) && !ref.endsWith('/HEAD'))
    .map(([ref, name, commit, upstream, track, head]) => ({
      name,
      remote: ref.startsWith('refs/remotes/'),
      current: head === '*',
      commit,
      upstream: upstream || null,
      track,
    }));
}

/** `name\turl (fetch|push)` lines, with any password in a URL hidden. */
export function parseRemotes(output: string): { name: string; fetchUrl: string | null; pushUrl: string | null }[] {
  const remotes = new Map<string, { name: string; fetchUrl: string | null; pushUrl: string | null }>();
  for (const line of output.split('\n')) {
    const match = /^(\S+)\t(.*) \((fetch|push)\)$/.exec(line);
    if (!match) continue;
    const [, name, url, kind] = match;
    const remote = remotes.get(name) ?? { name, fetchUrl: null, pushUrl: null };
    const shown = hidePassword(url);
    if (kind === 'fetch') remote.fetchUrl = shown;
    else remote.pushUrl = shown;
    remotes.set(name, remote);
  }
  return [...remotes.values()];
}

export function hidePassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/** Lines of fields separated by \x1f, each turned into an object by `keys`. */
export function parseFields<K extends string>(output: string, keys: readonly K[]): Record<K, string>[] {
  return output
    .split('\n')
    .filter((line) => line.includes('\x1f') || (keys.length === 1 && line !== ''))
    .map((line) => {
      const values = line.split('\x1f');
      return Object.fromEntries(keys.map((key, i) => [key, values[i] ?? ''])) as Record<K, string>;
    });
}
