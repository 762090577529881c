/**
 * @module
 * What a CLI command module exports. main.ts keeps the port and share commands; each
 * other area (pairing and accounts, repos and servers, files, …) lives in its own
 * module under commands/ and is listed once in main.ts's COMMANDS.
 */
export interface CommandContext {
  /** the words after the command name */
  rest: string[];
  /** rest's words that start with -- */
  flags: Set<string>;
  /** rest's words that do not */
  args: string[];
  /** writes one line to stdout */
  out: (line: string) => void;
}

export interface Command {
  name: string;
  /** help lines, already aligned like main.ts's HELP */
  usage: string[];
  /** the exit code */
  run(ctx: CommandContext): Promise<number>;
}

/** A mistake in how the command was typed: printed with the help, exit code 2. */
export class UsageError extends Error {}

/** The value after `--name` (or `--name=value`), or undefined. */
export function optionValue(rest: string[], name: string): string | undefined {
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === name) return rest[i + 1];
    if (rest[i].startsWith(name + '=')) return rest[i].slice(name.length + 1);
  }
  return undefined;
}

/**
 * A secret from the terminal without echo, or the first line of stdin when it is not a
 * terminal (scripts: `echo "$PW" | homeport login …`). Never from argv, which others can read.
 */
export async function readSecret(label: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    process.stderr.write(label);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}
