/**
 * @module
 * What every path answers, byte for byte: the small body and the download's pieces.
 * The dev server and the bare pipe's node side both take their bytes from here.
 */

/** The small GET's body: a few hundred bytes, the size of a typical JSON or HTML fragment. */
export const SMALL_BODY = Buffer.from(
  ('{"ok":true,"service":"homeport-bench","note":"a small response of a few hundred bytes, ' + 'x'.repeat(400)).slice(0, 318) + '"}\n',
);

export const MiB = 1024 * 1024;

/** One reusable buffer the download is streamed from (never the whole body at once). */
export function filler(size: number): Buffer {
  return Buffer.alloc(size, 'homeport ');
}
