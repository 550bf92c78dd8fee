/**
 * Who is signed in and what the server lets them do where: `GET me`, kept fresh.
 *
 * Everything the role item, the read-only cells, the banners and the prompts show
 * comes from this one answer of the server (plus the contents model's `writable`).
 * The browser never decides: it only mirrors what the server said, and every rule
 * stays enforced on the server whatever this module believes.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './api';
import { Permission, ProjectAccess, Role } from './generated';

/** The signed-in identity (`Identity` in docs/openapi.yaml). */
export interface IIdentity {
  username: string;
  display_name: string;
  email: string;
  email_verified: boolean;
  login_provider: string;
}

/** A project as `me` lists it (`ProjectSummary`). */
export interface IProjectSummary {
  name: string;
  access: ProjectAccess;
  role: Role | null;
  /** How the role was obtained: membership, grant or both (null without a role). */
  source: 'membership' | 'grant' | 'membership+grant' | null;
  /** When the grant behind the role ends (ISO), or null. */
  grant_expires_at: string | null;
  name_only: boolean;
  creator: string | null;
  permissions: Permission[];
}

/** A workspace as `me` lists it (`MeWorkspace`). */
export interface IMeWorkspace {
  slug: string;
  name: string;
  role: Role | null;
  owner: boolean;
  guest: boolean;
  sso_blocked: boolean;
  enforced_sso_provider: string | null;
  permissions: Permission[];
  projects: IProjectSummary[];
}

/** A workspace the user may join through a domain invite (`Joinable`). */
export interface IJoinable {
  slug: string;
  name: string;
  invite_domain: string;
  role: Role;
}

/** The answer of `GET me`. */
export interface IMe {
  identity: IIdentity;
  workspaces: IMeWorkspace[];
  joinable: IJoinable[];
  policy_version: number;
}

/** Where a path is: its workspace and project folder names (either may be null). */
export interface ILocation {
  workspace: string | null;
  project: string | null;
}

/** What the signed-in person may do on a path, as `me` says. */
export interface IStanding {
  location: ILocation;
  workspace: IMeWorkspace | null;
  project: IProjectSummary | null;
  /** May change the file's contents and cells (`project:write`, or
   * `workspace:edit_files` for a file directly in the workspace folder). */
  canWrite: boolean;
  /** May start kernels and run saved cells (`project:execute`). */
  canExecute: boolean;
}

/**
 * The workspace and project of a path relative to the server root (a drive prefix such
 * as `RTC:` is ignored). A file directly in a workspace folder has no project; a
 * folder path (`isDirectory`) names its project from its second segment.
 */
export function locate(path: string, isDirectory = false): ILocation {
  const bare = path.replace(/^[^/:]+:/, '');
  const parts = bare.split('/').filter(p => p !== '');
  const workspace = parts.length >= (isDirectory ? 1 : 2) ? parts[0] : null;
  const project = parts.length >= (isDirectory ? 2 : 3) ? parts[1] : null;
  return { workspace, project };
}

/** "Contributor" for `contributor`: role names as people read them (display only). */
export function roleLabel(role: Role | string): string {
  return role.charAt(0).toUpperCase() + role.slice(1);
}

/** "a Viewer", "an Editor". */
export function withArticle(word: string): string {
  return (/^[aeiou]/i.test(word) ? 'an ' : 'a ') + word;
}

/** How often `me` is asked again while the page is open (ms). */
export const POLL_INTERVAL = 30_000;

/**
 * `GET me`, refreshed every {@link POLL_INTERVAL}, when the window regains focus and on
 * {@link requestRefresh}; {@link changed} fires when the answer differs.
 */
export class MeModel {
  constructor() {
    window.addEventListener('focus', this._onFocus);
    this._timer = window.setInterval(() => void this.refresh(), POLL_INTERVAL);
    Private.models.add(this);
  }

  /** The last answer, or null before the first one (or when `me` failed). */
  get me(): IMe | null {
    return this._me;
  }

  /** Fires with the new answer whenever it changes. */
  get changed(): ISignal<this, IMe | null> {
    return this._changed;
  }

  /** Ask the server again; resolves with the (possibly unchanged) answer. */
  async refresh(): Promise<IMe | null> {
    if (this._pending) {
      return this._pending;
    }
    this._pending = (async () => {
      try {
        const me = await requestAPI<IMe>('GET', 'me');
        const text = JSON.stringify(me);
        if (text !== this._text) {
          this._text = text;
          this._me = me;
          this._changed.emit(me);
        }
      } catch (error) {
        // Keep the last answer: the server keeps deciding every request anyway.
        console.warn('jupyter-workspace-perms: could not refresh `me`', error);
      }
      return this._me;
    })();
    try {
      return await this._pending;
    } finally {
      this._pending = null;
    }
  }

  /** The workspace `me` lists under `slug`, if any. */
  workspace(slug: string | null): IMeWorkspace | null {
    if (slug === null || this._me === null) {
      return null;
    }
    return this._me.workspaces.find(w => w.slug === slug) ?? null;
  }

  /**
   * What the person may do on `path`; null while `me` is unknown (then nothing is
   * locked: the server still refuses what it must).
   */
  standing(path: string, isDirectory = false): IStanding | null {
    if (this._me === null) {
      return null;
    }
    const location = locate(path, isDirectory);
    const workspace = this.workspace(location.workspace);
    const project =
      workspace?.projects.find(
        p => p.name === location.project && !p.name_only
      ) ?? null;
    const projectPermissions: readonly string[] = project?.permissions ?? [];
    let canWrite = projectPermissions.includes('project:write');
    if (location.project === null && workspace !== null) {
      canWrite = workspace.permissions.includes('workspace:edit_files');
    }
    return {
      location,
      workspace,
      project,
      canWrite,
      canExecute: projectPermissions.includes('project:execute')
    };
  }

  /** Stop polling. */
  dispose(): void {
    window.removeEventListener('focus', this._onFocus);
    window.clearInterval(this._timer);
    Private.models.delete(this);
  }

  private _onFocus = (): void => {
    void this.refresh();
  };

  private _me: IMe | null = null;
  private _text = '';
  private _pending: Promise<IMe | null> | null = null;
  private _timer: number;
  private _changed = new Signal<this, IMe | null>(this);
}

/**
 * Ask every open {@link MeModel} to refresh: call it after any change made through the
 * REST API from this page (joining, settings), so what people see follows at once.
 */
export function requestRefresh(): Promise<void> {
  return Promise.all([...Private.models].map(m => m.refresh())).then(
    () => undefined
  );
}

namespace Private {
  export const models = new Set<MeModel>();
}
