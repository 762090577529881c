import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineSplitter, ServerLog } from './server-log.ts';

describe('LineSplitter', () => {
  it('should join lines split across chunks and keep the last partial line for flush', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('hel'))).toEqual([]);
    expect(s.push(Buffer.from('lo\nwor'))).toEqual(['hello']);
    expect(s.push(Buffer.from('ld\n\nnext'))).toEqual(['world', '']);
    expect(s.flush()).toEqual(['next']);
    expect(s.flush()).toEqual([]);
  });

  it('should decode a UTF-8 character split between two chunks', () => {
    const bytes = Buffer.from('grüße ✓\n');
    const s = new LineSplitter();
    const out = [...s.push(bytes.subarray(0, 3)), ...s.push(bytes.subarray(3, 10)), ...s.push(bytes.subarray(10))];
    expect(out).toEqual(['grüße ✓']);
  });

  it('should drop the carriage return of CRLF line ends', () => {
    expect(new LineSplitter().push('a\r\nb\r\n')).toEqual(['a', 'b']);
  });

  it('should cut a very long line and say how much was cut, across chunks', () => {
    const s = new LineSplitter(10);
    expect(s.push('0123456789abc')).toEqual([]);
    expect(s.push('def\nshort\n')).toEqual(['0123456789 … [6 more characters cut]', 'short']);
    expect(s.push('x'.repeat(25))).toEqual([]);
    expect(s.flush()).toEqual(['xxxxxxxxxx … [15 more characters cut]']);
  });
});

describe('ServerLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'homeport-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should keep only the last ringLines lines, numbered in order', () => {
    const log = new ServerLog({ file: join(dir, 'a.log'), ringLines: 5, fileBytes: 1e6, files: 2 });
    for (let i = 0; i < 12; i++) log.append(i % 2 ? 'stderr' : 'stdout', [`line ${i}`]);
    const lines = log.lines();
    expect(lines.map((l) => l.text)).toEqual(['line 7', 'line 8', 'line 9', 'line 10', 'line 11']);
    expect(lines.map((l) => l.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(lines[0].stream).toBe('stderr');
    expect(log.lines({ tail: 2 }).map((l) => l.text)).toEqual(['line 10', 'line 11']);
    expect(log.lines({ after: 10 }).map((l) => l.seq)).toEqual([11, 12]);
    // Every line still reached the file.
    expect(readFileSync(join(dir, 'a.log'), 'utf8').trim().split('\n')).toHaveLength(12);
    log.close();
  });

  it('should rotate the file by size and keep at most `files` files', () => {
    const file = join(dir, 'b.log');
    const log = new ServerLog({ file, ringLines: 10, fileBytes: 500, files: 3 });
    for (let i = 0; i < 100; i++) log.append('stdout', [`a line of output number ${i}`]);
    log.close();
    expect(existsSync(file) && existsSync(`${file}.1`) && existsSync(`${file}.2`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(statSync(f).size).toBeLessThanOrEqual(500);
    // The newest lines are in the current file, the ones just before in .1.
    const current = readFileSync(file, 'utf8');
    expect(current).toContain('number 99');
    const previous = readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    const firstCurrent = Number(/number (\d+)/.exec(current)![1]);
    expect(previous.at(-1)).toContain(`number ${firstCurrent - 1}`);
  });

  it('should refill the ring from the file after a restart', () => {
    const file = join(dir, 'c.log');
    const first = new ServerLog({ file, ringLines: 100, fileBytes: 1e6, files: 2 });
    first.append('stdout', ['one', 'two with  spaces ']);
    first.append('system', ['started']);
    first.close();
    const second = new ServerLog({ file, ringLines: 2, fileBytes: 1e6, files: 2 });
    expect(second.lines().map((l) => [l.seq, l.stream, l.text])).toEqual([
      [1, 'stdout', 'two with  spaces '],
      [2, 'system', 'started'],
    ]);
    expect(second.append('stdout', ['three'])[0].seq).toBe(3);
    second.close();
  });
});
