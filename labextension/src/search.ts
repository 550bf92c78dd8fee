/**
 * Find and replace that leaves read-only cells alone.
 *
 * JupyterLab's notebook search provider replaces through the cell models, so the
 * editor's read-only state does not stop it; its code and markdown providers only
 * skip cells whose `editable` metadata is false, which this extension never writes
 * (the lock is one person's, not the file's). Replacing inside a locked cell would
 * only make the server refuse the next save. So this provider, a subclass of
 * JupyterLab's own registered under the same key:
 *
 * - replaces only in cells that are not read-only (the `parameters` cell stays open
 *   to a Contributor), and says how many matches it left and why;
 * - steps over a match in a read-only cell on "Replace" instead of changing it;
 * - hides Replace altogether where every cell is read-only (a Viewer).
 *
 * Searching is unchanged. The server refuses a refused edit anyway: this only keeps
 * the page from making one.
 */
import { Notification } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import type {
  IReplaceOptions,
  ISearchProvider,
  ISearchProviderFactory,
  ISearchProviderRegistry
} from '@jupyterlab/documentsearch';
import { NotebookPanel, NotebookSearchProvider } from '@jupyterlab/notebook';
import type { ITranslator } from '@jupyterlab/translation';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import type { Widget } from '@lumino/widgets';

/** The key JupyterLab's notebook extension registers its search provider under. */
export const NOTEBOOK_SEARCH_KEY = 'jp-notebookSearchProvider';

/** Why cells of a notebook may not change, or null when the extension does not lock it. */
export type LockReason = (panel: NotebookPanel) => string | null;

/** What this provider reads of a cell provider (its cell is protected in the typings). */
interface ICellProvider {
  readonly cell?: Cell;
  readonly matchesCount: number;
  replaceAllMatches(newText: string, options?: IReplaceOptions): Promise<boolean>;
}

/** The private state of JupyterLab 4's notebook provider this subclass relies on. */
interface IInternals {
  _searchProviders?: unknown;
  _currentProviderIndex?: unknown;
}

function isLocked(provider: ICellProvider): boolean {
  return provider.cell?.readOnly === true;
}

/** The notice shown when matches were left in read-only cells. */
export function skippedText(count: number, reason: string | null): string {
  const matches = count === 1 ? '1 match' : `${count} matches`;
  return `Not replaced in read-only cells (${matches})${reason ? `: ${reason}` : '.'}`;
}

/** JupyterLab's notebook search provider, minus replacing inside read-only cells. */
export class LockAwareNotebookSearchProvider extends NotebookSearchProvider {
  constructor(
    widget: NotebookPanel,
    private readonly _reason: LockReason,
    translator?: ITranslator
  ) {
    super(widget, translator);
  }

  /**
   * Read-only (no Replace shown) when the notebook is, when every cell is read-only,
   * or, should JupyterLab's internals change, when any cell is (never replace inside
   * a locked cell, even if that means no Replace at all).
   */
  get isReadOnly(): boolean {
    if (super.isReadOnly) {
      return true;
    }
    const cells = this.widget.content.widgets;
    if (this._cellProviders() === null) {
      return cells.some(cell => cell.readOnly);
    }
    return cells.length > 0 && cells.every(cell => cell.readOnly);
  }

  async replaceCurrentMatch(
    newText: string,
    loop = true,
    options?: IReplaceOptions
  ): Promise<boolean> {
    const providers = this._cellProviders();
    const index = (this as unknown as IInternals)._currentProviderIndex;
    const current =
      providers !== null && typeof index === 'number' ? providers[index] : undefined;
    if (current !== undefined && isLocked(current)) {
      this._notify(1);
      await this.highlightNext(loop, { from: 'previous-match' });
      return false;
    }
    return super.replaceCurrentMatch(newText, loop, options);
  }

  async replaceAllMatches(
    newText: string,
    options?: IReplaceOptions
  ): Promise<boolean> {
    const providers = this._cellProviders();
    if (providers === null) {
      return super.replaceAllMatches(newText, options);
    }
    const skipped = providers
      .filter(isLocked)
      .reduce((sum, provider) => sum + provider.matchesCount, 0);
    const replaced = await Promise.all(
      providers
        .filter(provider => !isLocked(provider))
        .map(provider => provider.replaceAllMatches(newText, options))
    );
    if (skipped > 0) {
      this._notify(skipped);
    }
    return replaced.includes(true);
  }

  /** The cell providers, one per cell in order; null if JupyterLab changed them. */
  private _cellProviders(): ICellProvider[] | null {
    const providers = (this as unknown as IInternals)._searchProviders;
    return Array.isArray(providers) ? (providers as ICellProvider[]) : null;
  }

  private _notify(count: number): void {
    Notification.info(skippedText(count, this._reason(this.widget)), {
      autoClose: 6000
    });
  }
}

/**
 * Register {@link LockAwareNotebookSearchProvider} in place of JupyterLab's notebook
 * provider, whichever plugin activates first: the registry keeps one provider per key,
 * so ours is put back whenever the registry changes (the notebook extension adding its
 * own, for instance). Disposing puts JupyterLab's back.
 */
export function guardSearch(
  registry: ISearchProviderRegistry,
  reason: LockReason
): IDisposable {
  // The registry's typing takes factories of any widget; `isApplicable` is asked first.
  const factory: ISearchProviderFactory<Widget> = {
    isApplicable: (domain: Widget): domain is NotebookPanel =>
      domain instanceof NotebookPanel,
    createNew: (widget: Widget, translator?: ITranslator): ISearchProvider =>
      new LockAwareNotebookSearchProvider(widget as NotebookPanel, reason, translator)
  };
  let adding = false;
  const install = () => {
    if (adding) {
      return;
    }
    adding = true;
    try {
      registry.add(NOTEBOOK_SEARCH_KEY, factory);
    } finally {
      adding = false;
    }
  };
  registry.changed.connect(install);
  install();
  return new DisposableDelegate(() => {
    registry.changed.disconnect(install);
    registry.add(
      NOTEBOOK_SEARCH_KEY,
      NotebookSearchProvider as unknown as ISearchProviderFactory<Widget>
    );
  });
}
