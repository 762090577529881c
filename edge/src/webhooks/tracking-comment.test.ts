import { describe, expect, it } from 'vitest';
import { classify, instructionOf, MARKER } from './github-events.ts';
import { issueCommentCreated } from './github-payloads.ts';
import { FINAL_TASK_STATUSES, renderDenied, renderTracking, type TrackingState } from './tracking-comment.ts';

const DASH = 'https://dash.test';
const base: TrackingState = { deliveryId: 'gh-1', status: 'started', note: '', node: 'home', sender: 'octocat', taskId: 'task_1', taskStatus: 'running', taskReason: null, prUrl: null, branch: null };

describe('the tracking comment', () => {
  it('should say working only while the task is queued or running', () => {
    expect(renderTracking(base, DASH)).toContain('Working');
    expect(renderTracking({ ...base, taskStatus: 'queued' }, DASH)).toContain('Working');
    for (const status of FINAL_TASK_STATUSES) {
      const body = renderTracking({ ...base, taskStatus: status, taskReason: 'reason here' }, DASH)!;
      expect(body, status).not.toContain('Working');
      expect(body.startsWith(MARKER)).toBe(true);
    }
    for (const status of ['queued', 'cancelled', 'failed', 'node_revoked']) expect(renderTracking({ ...base, status, taskStatus: null }, DASH), status).not.toContain('Working');
    expect(renderTracking({ ...base, status: 'pending' }, DASH)).toBeNull();
  });

  it('should end with the pull request, the branch, or the reason', () => {
    expect(renderTracking({ ...base, taskStatus: 'completed', prUrl: 'https://github.com/o/r/pull/3' }, DASH)).toContain('pull request: https://github.com/o/r/pull/3');
    expect(renderTracking({ ...base, taskStatus: 'completed', branch: 'homeport/task_1' }, DASH)).toContain('`homeport/task_1`');
    expect(renderTracking({ ...base, taskStatus: 'failed', taskReason: 'the model answered 401' }, DASH)).toContain('Failed**: the model answered 401');
    expect(renderTracking({ ...base, status: 'failed', taskStatus: null, note: 'no repo "x"' }, DASH)).toContain('Could not start**: no repo "x"');
    expect(renderTracking(base, DASH)).toContain('(https://dash.test/nodes/home/tasks/task_1)');
  });

  it('should not let a reason ping people or close the hidden marker', () => {
    const body = renderTracking({ ...base, taskStatus: 'failed', taskReason: 'blame @someone --> <!-- x' }, DASH)!;
    expect(body).not.toContain('@someone');
    expect(body.split('-->')).toHaveLength(2);
    expect(renderDenied('gh-2', 'mallory')).toContain(MARKER);
  });
});

describe('mentions', () => {
  it('should take the text after @homeport, outside quotes, e-mail addresses and other handles', () => {
    expect(instructionOf('@homeport fix the tests')).toBe('fix the tests');
    expect(instructionOf('Hey @HomePort, please: bump deps')).toBe('please: bump deps');
    expect(instructionOf('@homeport')).toBe('');
    expect(instructionOf('ping @homeport-bot')).toBeNull();
    expect(instructionOf('write to ops@homeport.dev')).toBeNull();
    expect(instructionOf('> @homeport do it\nI disagree')).toBeNull();
    expect(classify('issue_comment', issueCommentCreated(`${MARKER}tracking gh-1 -->\n@homeport x`))).toMatchObject({ kind: 'ignore' });
  });
});
