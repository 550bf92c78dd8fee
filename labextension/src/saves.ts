/**
 * A save the server refused because cells changed that may not (`merge_refused`): say
 * what to do next.
 *
 * Someone who may run but not edit (a Contributor) can save outputs and parameter
 * values only. When a locked cell changed anyway (by a script, another extension, or
 * before the page knew it was locked), every save is refused and the notebook stays
 * dirty. JupyterLab's own "File Save Error" dialog shows the server's message, which
 * names the cells; this adds a lasting notification saying how to get back, with a
 * button for File → Reload Notebook from Disk, and dismisses it once a save succeeds
 * or the notebook is clean again.
 *
 * An explicit save (Ctrl+S, the toolbar) runs JupyterLab's save command, whose
 * rejection nobody catches: the refusal would end up as an uncaught error although the
 * person has been told. {@link isReported} lets the page's `unhandledrejection`
 * handler recognize those (and only those) refusals.
 */
import { Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';

import type { ReasonCode } from './generated';

/** The reason the server gives a refused save (the HTTP reason phrase too). */
export const MERGE_REFUSED: ReasonCode = 'merge_refused';

/** What the notification says (toasts show at most 140 characters). */
export const SAVE_REFUSED_TEXT =
  'Save refused. Undo your changes to those cells, or use File → Reload Notebook ' +
  'from Disk; your outputs are saved once the cells match.';

/** The command behind File → Reload Notebook from Disk. */
export const RELOAD_COMMAND = 'docmanager:reload';

/**
 * Whether `error` is the server refusing a save with `merge_refused`. JupyterLab's
 * contents client keeps only the message of the answer's body, not its `reason`, so
 * this reads the HTTP reason phrase the server sets to the same code. Over HTTP/2 there
 * is no reason phrase: then a 403 on a notebook whose cells are locked (`lockedHere`)
 * is taken for one (the only save refusal such a person meets there).
 */
export function isMergeRefusal(error: unknown, lockedHere: boolean): boolean {
  if (!(error instanceof ServerConnection.ResponseError)) {
    return false;
  }
  const { status, statusText } = error.response;
  return (
    status === 403 &&
    (statusText === MERGE_REFUSED || (statusText === '' && lockedHere))
  );
}

/** Whether `error` is a refused save the person has been told about. */
export function isReported(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && Private.reported.has(error)
  );
}

/**
 * Watches the saves of one notebook: wraps its context's `save` (every save goes
 * through it: the save command, autosave, save all, saving on close) to recognize a
 * refusal, which it reports and still rethrows, so that callers know the save failed.
 */
export class RefusedSaves implements IDisposable {
  constructor(
    private readonly _panel: NotebookPanel,
    private readonly _lockedHere: () => boolean,
    private readonly _reload: () => Promise<void>
  ) {
    const context = _panel.context;
    const save = context.save;
    context.save = async (): Promise<void> => {
      try {
        await save.call(context);
      } catch (error) {
        if (isMergeRefusal(error, this._lockedHere())) {
          Private.reported.add(error as object);
          this._show();
        }
        throw error;
      }
    };
    context.saveState.connect(this._onSaveState, this);
    context.model.stateChanged.connect(this._onModelState, this);
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    const context = this._panel.context;
    // Back to the prototype's `save`.
    delete (context as unknown as { save?: unknown }).save;
    context.saveState.disconnect(this._onSaveState, this);
    context.model.stateChanged.disconnect(this._onModelState, this);
    this._dismiss();
  }

  private _show(): void {
    const options = {
      autoClose: false as const,
      actions: [
        {
          label: 'Reload from disk',
          caption: 'File → Reload Notebook from Disk: drop the unsaved changes',
          callback: () => void this._reload()
        }
      ]
    };
    if (
      this._id !== null &&
      Notification.update({
        id: this._id,
        message: SAVE_REFUSED_TEXT,
        type: 'error',
        ...options
      })
    ) {
      return;
    }
    this._id = Notification.error(SAVE_REFUSED_TEXT, options);
  }

  private _dismiss(): void {
    if (this._id !== null) {
      Notification.dismiss(this._id);
      this._id = null;
    }
  }

  private _onSaveState(_: unknown, state: string): void {
    if (state === 'completed') {
      this._dismiss();
    }
  }

  /** Reloaded from disk (or every change undone): nothing is left to refuse. */
  private _onModelState(_: unknown, change: { name: string }): void {
    if (change.name === 'dirty' && !this._panel.context.model.dirty) {
      this._dismiss();
    }
  }

  private _id: string | null = null;
  private _isDisposed = false;
}

namespace Private {
  /** Refusals already shown to the person (their uncaught rejection is expected). */
  export const reported = new WeakSet<object>();
}
