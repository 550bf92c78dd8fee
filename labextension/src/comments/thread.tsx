/**
 * One thread: its quote, where it stands (outdated, orphaned), the first comment and
 * its replies, and the buttons the server's `can` allows — nothing more.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Time } from '@jupyterlab/coreutils';
import * as React from 'react';

import {
  AnchorState,
  IComment,
  ICommentThread,
  deleteComment,
  patchComment,
  postComment
} from './api';
import { Composer, Refusal, useAction } from './composer';
import { Markdown } from './markdown';

/** How a thread whose cell changed or went away is labelled. */
export const ANCHOR_TEXT: Record<AnchorState, string> = {
  current: '',
  outdated: 'outdated — the cell changed since',
  orphaned: 'orphaned — the cell or file is gone'
};

export interface IThreadProps {
  thread: ICommentThread;
  /** Whether the person may reply (`can_comment` of the list). */
  canComment: boolean;
  /** Ask the server again after a change. */
  onChanged: () => Promise<void>;
}

function When(props: { iso: string; prefix?: string }): JSX.Element {
  return (
    <time dateTime={props.iso} title={Time.format(props.iso)}>
      {props.prefix}
      {Time.formatHuman(props.iso)}
    </time>
  );
}

export function Thread(props: IThreadProps): JSX.Element {
  const { thread, canComment } = props;
  const action = useAction();
  const [replying, setReplying] = React.useState(false);
  const state = thread.anchor_state;
  const change = (call: () => Promise<unknown>) =>
    action.run(async () => {
      await call();
      await props.onChanged();
    });
  return (
    <article
      className={
        'jp-WorkspacePerms-thread' + (thread.resolved ? ' jp-mod-resolved' : '')
      }
      data-thread-id={thread.id}
      data-anchor-state={state}
      aria-label={`Thread by ${thread.author}`}
    >
      {state !== 'current' && (
        <p className={`jp-WorkspacePerms-thread-anchor jp-mod-${state}`}>
          {ANCHOR_TEXT[state]}
        </p>
      )}
      {thread.quote && (
        <blockquote className="jp-WorkspacePerms-thread-quote" title={thread.quote}>
          {thread.quote}
        </blockquote>
      )}
      <CommentView comment={thread} onChanged={props.onChanged} isThread />
      {thread.replies.map(reply => (
        <CommentView key={reply.id} comment={reply} onChanged={props.onChanged} />
      ))}
      {thread.resolved && (
        <p className="jp-WorkspacePerms-thread-resolved">
          Resolved{thread.resolved_by ? ` by ${thread.resolved_by}` : ''}
          {thread.resolved_at && <When iso={thread.resolved_at} prefix=" · " />}
        </p>
      )}
      <div className="jp-WorkspacePerms-thread-actions">
        {canComment && !replying && (
          <button
            type="button"
            className="jp-WorkspacePerms-comments-button"
            onClick={() => setReplying(true)}
          >
            Reply
          </button>
        )}
        {thread.can.resolve && (
          <button
            type="button"
            className="jp-WorkspacePerms-comments-button"
            disabled={action.busy}
            onClick={() =>
              void change(() => patchComment(thread.id, { resolved: !thread.resolved }))
            }
          >
            {thread.resolved ? 'Reopen' : 'Resolve'}
          </button>
        )}
      </div>
      {replying && (
        <Composer
          label="Reply"
          submit="Reply"
          autoFocus
          onCancel={() => setReplying(false)}
          onSubmit={async body => {
            const ok = await change(() =>
              postComment({ path: thread.path, body, parent_id: thread.id })
            );
            if (ok) {
              setReplying(false);
            }
            return ok;
          }}
        />
      )}
      <Refusal message={action.error} />
    </article>
  );
}

/** One comment: author, time, body; Edit and Delete where the server allows them. */
function CommentView(props: {
  comment: IComment;
  onChanged: () => Promise<void>;
  isThread?: boolean;
}): JSX.Element {
  const { comment } = props;
  const action = useAction();
  const [editing, setEditing] = React.useState(false);
  const remove = async () => {
    const what = props.isThread ? 'this thread and its replies' : 'this reply';
    const answer = await showDialog({
      title: 'Delete comment',
      body: `Delete ${what}? This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (answer.button.accept) {
      await action.run(async () => {
        await deleteComment(comment.id);
        await props.onChanged();
      });
    }
  };
  return (
    <div
      className={
        'jp-WorkspacePerms-comment' + (props.isThread ? '' : ' jp-mod-reply')
      }
      data-comment-id={comment.id}
    >
      <div className="jp-WorkspacePerms-comment-header">
        <span className="jp-WorkspacePerms-comment-author">{comment.author}</span>
        <When iso={comment.created_at} prefix=" · " />
        {comment.edited_at && (
          <span
            className="jp-WorkspacePerms-comment-edited"
            title={Time.format(comment.edited_at)}
          >
            {' '}
            (edited)
          </span>
        )}
      </div>
      {editing ? (
        <Composer
          label="Edit comment"
          submit="Save"
          initial={comment.body}
          autoFocus
          onCancel={() => setEditing(false)}
          onSubmit={async body => {
            const ok = await action.run(async () => {
              await patchComment(comment.id, { body });
              await props.onChanged();
            });
            if (ok) {
              setEditing(false);
            }
            return ok;
          }}
        />
      ) : (
        <Markdown body={comment.body} />
      )}
      {!editing && (comment.can.edit || comment.can.delete) && (
        <div className="jp-WorkspacePerms-comment-actions">
          {comment.can.edit && (
            <button
              type="button"
              className="jp-WorkspacePerms-comments-button jp-mod-plain"
              onClick={() => setEditing(true)}
            >
              Edit
            </button>
          )}
          {comment.can.delete && (
            <button
              type="button"
              className="jp-WorkspacePerms-comments-button jp-mod-plain jp-mod-warn"
              disabled={action.busy}
              onClick={() => void remove()}
            >
              Delete
            </button>
          )}
        </div>
      )}
      <Refusal message={action.error} />
    </div>
  );
}
