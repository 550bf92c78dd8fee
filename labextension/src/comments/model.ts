/**
 * The threads of one file, kept fresh: asked again every {@link POLL_INTERVAL} while
 * someone is looking (the sidebar is shown or the file is the current document, and
 * the browser tab is visible), so another person's comment shows within two seconds.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { messageOf } from '../api';
import { ICommentThreadList, listComments } from './api';

/** How often the threads are asked again while someone is looking (ms). */
export const POLL_INTERVAL = 1500;
/** The shortest pause between two asks, when an answer was slow (ms). */
const MIN_PAUSE = 250;

/** A server path without a drive prefix (`RTC:acme/a/x.ipynb` → `acme/a/x.ipynb`). */
export function serverPath(path: string): string {
  return path.replace(/^[^/:]+:/, '');
}

export class CommentsModel implements IDisposable {
  constructor(private readonly _interval = POLL_INTERVAL) {
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  /** The file whose threads are shown, or null. */
  get path(): string | null {
    return this._path;
  }

  /** The server's last answer for {@link path}, or null before it. */
  get list(): ICommentThreadList | null {
    return this._list;
  }

  /** Why the threads could not be read (the server's message), or ''. */
  get error(): string {
    return this._error;
  }

  /** Fires when the path, the answer or the error changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Show the threads of `path` (null: none). */
  setPath(path: string | null): void {
    const next = path === null ? null : serverPath(path);
    if (next === this._path) {
      return;
    }
    this._path = next;
    this._list = null;
    this._error = '';
    this._text = '';
    this._changed.emit();
    this._schedule(0);
  }

  /** Whether someone is looking: polls while true. */
  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    this._schedule(0);
  }

  get active(): boolean {
    return this._active;
  }

  /** Ask the server now (after a change made from this page). */
  async refresh(): Promise<void> {
    const path = this._path;
    if (path === null || this._isDisposed) {
      return;
    }
    const ticket = ++this._ticket;
    let list: ICommentThreadList | null = null;
    let error = '';
    try {
      list = await listComments(path);
    } catch (reason) {
      error = messageOf(reason);
    }
    if (ticket !== this._ticket || path !== this._path || this._isDisposed) {
      return; // another file by now, or a newer answer is on its way
    }
    const text = JSON.stringify([list, error]);
    if (text !== this._text) {
      this._text = text;
      // a failed poll keeps the last threads on screen, with the error above them
      this._list = list ?? this._list;
      this._error = error;
      this._changed.emit();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    window.clearTimeout(this._timer);
    document.removeEventListener('visibilitychange', this._onVisibility);
    Signal.clearData(this);
  }

  /** Poll after `delay` ms if someone is looking; stop otherwise. */
  private _schedule(delay: number): void {
    window.clearTimeout(this._timer);
    if (!this._active || this._path === null || document.hidden || this._isDisposed) {
      return;
    }
    this._timer = window.setTimeout(async () => {
      const started = Date.now();
      await this.refresh();
      // every interval from the start of the last ask, however long its answer took
      const elapsed = Date.now() - started;
      this._schedule(Math.max(MIN_PAUSE, this._interval - elapsed));
    }, delay);
  }

  private _onVisibility = (): void => this._schedule(0);

  private _path: string | null = null;
  private _list: ICommentThreadList | null = null;
  private _error = '';
  private _text = '';
  private _active = false;
  private _ticket = 0;
  private _timer = 0;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
}
