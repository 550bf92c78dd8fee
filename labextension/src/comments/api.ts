/**
 * The comments REST API (`Comment`, `CommentThread` and `CommentThreadList` in
 * docs/openapi.yaml), called as the person looking at the page.
 *
 * What each person may do with a comment is the server's `can`; the browser shows
 * only that and never decides.
 */
import { requestAPI } from '../api';

/** The longest comment the server takes (`COMMENT_MAX_CHARS` in api/schemas.py). */
export const COMMENT_MAX_CHARS = 10_000;

/** A range of a cell's (or file's) source, in characters. */
export interface IAnchor {
  start: number;
  end: number;
}

/** Where a thread stands since it was posted: on its text, on a changed cell, gone. */
export type AnchorState = 'current' | 'outdated' | 'orphaned';

/** One comment: a thread's first comment or a reply. */
export interface IComment {
  id: number;
  /** The thread's first comment (its own id for a first comment). */
  thread_id: number;
  parent_id: number | null;
  /** WS/PROJECT/FILE, where the thread is now. */
  path: string;
  cell_id: string | null;
  anchor: IAnchor | null;
  quote: string;
  anchor_state: AnchorState;
  author: string;
  /** Markdown, stored verbatim: rendered sanitized, never as raw HTML. */
  body: string;
  created_at: string;
  edited_at: string | null;
  resolved: boolean;
  resolved_by: string | null;
  resolved_at: string | null;
  mentions: string[];
  /** What the signed-in person may do with it now, as the server decided. */
  can: { edit: boolean; resolve: boolean; delete: boolean };
}

/** A thread: its first comment and its replies. */
export interface ICommentThread extends IComment {
  replies: IComment[];
}

/** `GET comments?path=`: the file's threads and whether the person may post. */
export interface ICommentThreadList {
  path: string;
  threads: ICommentThread[];
  can_comment: boolean;
}

/** What a new thread or reply carries (`CommentCreate`). */
export interface ICommentCreate {
  path: string;
  body: string;
  cell_id?: string;
  anchor?: IAnchor;
  parent_id?: number;
}

/** Which threads to list. */
export type StateFilter = 'open' | 'resolved' | 'all';

/** The threads of `path` (every state: the sidebar filters what it shows). */
export function listComments(path: string): Promise<ICommentThreadList> {
  return requestAPI<ICommentThreadList>(
    'GET',
    `comments?path=${encodeURIComponent(path)}&state=all`
  );
}

/** Start a thread, or reply with `parent_id`. */
export function postComment(comment: ICommentCreate): Promise<IComment> {
  return requestAPI<IComment>('POST', 'comments', comment);
}

/** Change a comment's body, or resolve or reopen its thread. */
export function patchComment(
  id: number,
  change: { body: string } | { resolved: boolean }
): Promise<IComment> {
  return requestAPI<IComment>('PATCH', `comments/${id}`, change);
}

/** Delete a comment (a thread's first comment deletes the whole thread). */
export function deleteComment(id: number): Promise<void> {
  return requestAPI<void>('DELETE', `comments/${id}`);
}
