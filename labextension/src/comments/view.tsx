/**
 * The comments sidebar's content: the current file's threads (grouped by cell in a
 * notebook), a state filter, and the form for a new comment on the active cell.
 *
 * It shows what the server answered: the threads it listed, `can_comment` for the
 * form and the reply buttons, each comment's `can` for the rest.
 */
import * as React from 'react';

import { permissionDef } from '../generated';
import { roleLabel } from '../session';
import { ICommentThread, ICommentThreadList, StateFilter, postComment } from './api';
import { Composer, Refusal, useAction } from './composer';
import { ICellInfo, ICommentTarget } from './target';
import { Thread } from './thread';

export interface ICommentsViewProps {
  /** The file shown (null: no document of a project is open). */
  path: string | null;
  list: ICommentThreadList | null;
  /** Why the threads could not be read, or ''. */
  error: string;
  /** Whether the file is a notebook (threads are grouped by cell). */
  isNotebook: boolean;
  /** Whether text can be selected to anchor a comment (a notebook or a text editor). */
  hasEditor: boolean;
  /** The notebook's cells, in order. */
  cells: ICellInfo[];
  /** Where a new comment goes now (asked again when it is sent). */
  target: () => ICommentTarget;
  /** The cell whose threads to bring into view (a marker was clicked). */
  focus: { cellId: string; key: number } | null;
  onChanged: () => Promise<void>;
  onShowCell: (cellId: string) => void;
}

const FILTERS: { value: StateFilter; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' }
];

function shown(thread: ICommentThread, filter: StateFilter): boolean {
  return filter === 'all' || thread.resolved === (filter === 'resolved');
}

/** The file's name and folder, as the header shows it. */
function fileLabel(path: string): string {
  return path.split('/').slice(1).join('/');
}

export function CommentsView(props: ICommentsViewProps): JSX.Element {
  const [filter, setFilter] = React.useState<StateFilter>('open');
  const { list, path } = props;
  const threads = list?.threads ?? [];
  const count = (f: StateFilter) => threads.filter(t => shown(t, f)).length;
  return (
    <div
      className="jp-WorkspacePerms-comments"
      aria-busy={!!path && !list && !props.error}
    >
      <header className="jp-WorkspacePerms-comments-header">
        <h2>Comments</h2>
        {path && (
          <p className="jp-WorkspacePerms-comments-file" title={path}>
            {fileLabel(path)}
          </p>
        )}
        {list && (
          <label className="jp-WorkspacePerms-comments-filter">
            Show{' '}
            <select
              className="jp-mod-styled"
              aria-label="Which threads to show"
              value={filter}
              onChange={e => setFilter(e.target.value as StateFilter)}
            >
              {FILTERS.map(f => (
                <option key={f.value} value={f.value}>
                  {f.label} ({count(f.value)})
                </option>
              ))}
            </select>
          </label>
        )}
      </header>
      <Refusal message={props.error} />
      {!path && (
        <p className="jp-WorkspacePerms-comments-empty">
          Open a notebook or file of a project to read and write its comments.
        </p>
      )}
      {path && !list && !props.error && (
        <p className="jp-WorkspacePerms-comments-empty" role="status">
          Loading comments…
        </p>
      )}
      {list && (
        <>
          {list.can_comment ? (
            <NewComment
              path={list.path}
              isNotebook={props.isNotebook}
              hasEditor={props.hasEditor}
              target={props.target}
              onChanged={props.onChanged}
            />
          ) : (
            <p className="jp-WorkspacePerms-comments-note">
              You can read these comments. Writing them needs the{' '}
              {roleLabel(permissionDef('project:comment')?.minRole ?? 'viewer')} role or
              above on this project: ask a project admin.
            </p>
          )}
          <Threads {...props} filter={filter} />
        </>
      )}
    </div>
  );
}

/** "Comment on the active cell" (or on the file), with the selection as its anchor. */
function NewComment(props: {
  path: string;
  isNotebook: boolean;
  hasEditor: boolean;
  target: () => ICommentTarget;
  onChanged: () => Promise<void>;
}): JSX.Element {
  const action = useAction();
  const target = props.target();
  let where = 'Comment on this file';
  if (props.isNotebook) {
    where = target.cell
      ? `Comment on ${target.cell.label}`
      : 'Select a cell to comment on';
  }
  return (
    <section className="jp-WorkspacePerms-comments-new" aria-label="New comment">
      <h3 title={where}>{where}</h3>
      {props.hasEditor && (
        <p className="jp-WorkspacePerms-comments-hint">
          {props.isNotebook
            ? 'Select text in the cell first to attach the comment to it.'
            : 'Select text first to attach the comment to it.'}
        </p>
      )}
      <Composer
        label="New comment"
        submit="Comment"
        disabled={props.isNotebook && !target.cell}
        onSubmit={body =>
          action.run(async () => {
            const now = props.target(); // the active cell and selection when sent
            await postComment({
              path: props.path,
              body,
              ...(now.cell ? { cell_id: now.cell.id } : {}),
              ...(now.anchor ? { anchor: now.anchor } : {})
            });
            await props.onChanged();
          })
        }
      />
      <Refusal message={action.error} />
    </section>
  );
}

interface IGroup {
  key: string;
  title: string | null;
  cellId: string | null;
  threads: ICommentThread[];
}

/** Threads by cell, in the notebook's order; threads of removed cells, then the file's. */
function groups(props: ICommentsViewProps, threads: ICommentThread[]): IGroup[] {
  if (!props.isNotebook) {
    return [{ key: 'file', title: null, cellId: null, threads }];
  }
  const found: IGroup[] = props.cells.map(cell => ({
    key: `cell-${cell.id}`,
    title: cell.label,
    cellId: cell.id,
    threads: threads.filter(t => t.cell_id === cell.id)
  }));
  const known = new Set(props.cells.map(c => c.id));
  found.push({
    key: 'gone',
    title: 'Cells no longer in the notebook',
    cellId: null,
    threads: threads.filter(t => t.cell_id !== null && !known.has(t.cell_id))
  });
  found.push({
    key: 'file',
    title: 'The whole notebook',
    cellId: null,
    threads: threads.filter(t => t.cell_id === null)
  });
  return found.filter(g => g.threads.length > 0);
}

function Threads(props: ICommentsViewProps & { filter: StateFilter }): JSX.Element {
  const { list, filter, focus } = props;
  const threads = (list?.threads ?? []).filter(t => shown(t, filter));
  const refs = React.useRef(new Map<string, HTMLElement>());
  React.useEffect(() => {
    if (focus) {
      refs.current.get(focus.cellId)?.scrollIntoView({ block: 'start' });
    }
  }, [focus]);
  if (threads.length === 0) {
    const none = {
      open: 'No open threads',
      resolved: 'No resolved threads',
      all: 'No threads'
    };
    return (
      <p className="jp-WorkspacePerms-comments-empty">
        {none[filter]} on this file yet.
      </p>
    );
  }
  return (
    <>
      {groups(props, threads).map(group => (
        <section
          key={group.key}
          className={
            'jp-WorkspacePerms-comments-group' +
            (focus && group.cellId === focus.cellId ? ' jp-mod-focused' : '')
          }
          data-cell-id={group.cellId ?? undefined}
          ref={node => {
            if (group.cellId && node) {
              refs.current.set(group.cellId, node);
            }
          }}
        >
          {group.title && (
            <h3 className="jp-WorkspacePerms-comments-groupTitle">
              {group.cellId ? (
                <button
                  type="button"
                  className="jp-WorkspacePerms-comments-cellLink"
                  title="Show this cell in the notebook"
                  onClick={() => props.onShowCell(group.cellId as string)}
                >
                  {group.title}
                </button>
              ) : (
                group.title
              )}
            </h3>
          )}
          {group.threads.map(thread => (
            <Thread
              key={thread.id}
              thread={thread}
              canComment={!!list?.can_comment}
              onChanged={props.onChanged}
            />
          ))}
        </section>
      ))}
    </>
  );
}
