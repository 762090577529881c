import { describe, expect, it } from 'vitest';
import { DockerStreamDemuxer, dockerFrame } from './demux.ts';

function collect(chunks: Buffer[]): { stream: number; text: string }[] {
  const frames: { stream: number; text: string }[] = [];
  const demuxer = new DockerStreamDemuxer((stream, payload) => frames.push({ stream, text: payload.toString() }));
  for (const chunk of chunks) demuxer.push(chunk);
  expect(demuxer.pendingBytes).toBe(0);
  return frames;
}

describe('DockerStreamDemuxer', () => {
  const wire = Buffer.concat([dockerFrame(1, 'out one\n'), dockerFrame(2, 'err\n'), dockerFrame(1, ''), dockerFrame(1, 'x'.repeat(70_000))]);
  const expected = [
    { stream: 1, text: 'out one\n' },
    { stream: 2, text: 'err\n' },
    { stream: 1, text: 'x'.repeat(70_000) },
  ];

  it('should split frames that arrive in one chunk', () => {
    expect(collect([wire])).toEqual(expected);
  });

  it('should join frames cut at any byte, headers included', () => {
    for (const cut of [1, 3, 7, 8, 9, 13, 20, 35, 1000]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < wire.length; at += cut) chunks.push(wire.subarray(at, at + cut));
      const frames = collect(chunks);
      // long payloads come whole: one frame, one callback
      expect(frames).toEqual(expected);
    }
  });

  it('should hold an unfinished frame and refuse a stream that is not multiplexed', () => {
    const demuxer = new DockerStreamDemuxer(() => {});
    demuxer.push(dockerFrame(1, 'abc').subarray(0, 10));
    expect(demuxer.pendingBytes).toBe(10);
    expect(() => new DockerStreamDemuxer(() => {}).push(Buffer.from('plain tty output here'))).toThrow(/not a multiplexed Docker stream/);
  });
});
