/**
 * @module
 * Commands the edge queued while this node was offline carry an id
 * (`x-homeport-command-id`). If the tunnel drops after the node ran one but before the
 * edge got the answer, the edge sends it again; the node answers from memory instead of
 * running it twice. The newest MAX_REMEMBERED answers are kept in a 0600 JSON file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMiddleware } from 'hono/factory';
import { writePrivateFile } from '../pairing.ts';

export const COMMAND_ID_HEADER = 'x-homeport-command-id';
const MAX_REMEMBERED = 500;

interface Answer {
  id: string;
  status: number;
  body: string;
}

export class CommandMemory {
  #answers: Answer[];
  readonly #path: string;

  constructor(dataDir: string) {
    this.#path = join(dataDir, 'commands-seen.json');
    try {
      this.#answers = JSON.parse(readFileSync(this.#path, 'utf8'));
    } catch {
      this.#answers = [];
    }
  }

  get(id: string): Answer | undefined {
    return this.#answers.find((a) => a.id === id);
  }

  remember(answer: Answer) {
    this.#answers = [...this.#answers.filter((a) => a.id !== answer.id), answer].slice(-MAX_REMEMBERED);
    writePrivateFile(this.#path, JSON.stringify(this.#answers));
  }
}

/** Runs a command id at most once; requests without an id pass untouched. */
export function commandOnce(memory: CommandMemory) {
  return createMiddleware(async function commandOnce(c, next) {
    const id = c.req.header(COMMAND_ID_HEADER);
    if (!id) return next();
    const seen = memory.get(id);
    if (seen) return c.body(seen.body, seen.status as 200, { 'content-type': 'application/json', 'x-homeport-replayed': '1' });
    await next();
    const body = await c.res.clone().text();
    memory.remember({ id, status: c.res.status, body });
  });
}
