/**
 * Join and SSO prompts where the (otherwise empty) file browser is.
 *
 * - A same-domain user who may join a workspace sees "You can join acme as a Viewer"
 *   with a Join button (`POST workspaces/{ws}/join`, as themselves).
 * - A member blocked by the workspace's enforced SSO provider sees "acme requires
 *   signing in with google", which stays until the situation changes.
 *
 * Both come from `GET me`; the server decides the join, and its refusal is shown
 * next to the button.
 */
import { Notification } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ApiError, requestAPI } from './api';
import { IJoinable, IMe, IMeWorkspace, MeModel, roleLabel, withArticle } from './session';

/** The prompts, kept in step with `me`. `onJoined` runs after a successful join. */
export class Prompts extends Widget {
  constructor(
    private readonly _me: MeModel,
    private readonly _onJoined: () => void = () => undefined
  ) {
    super();
    this.id = 'jupyter-workspace-perms-prompts';
    this.addClass('jp-WorkspacePerms-prompts');
    _me.changed.connect(this.update, this);
    this.update();
  }

  dispose(): void {
    this._me.changed.disconnect(this.update, this);
    super.dispose();
  }

  protected onUpdateRequest(): void {
    const me = this._me.me;
    this.node.textContent = '';
    const cards: HTMLElement[] = [];
    if (me !== null) {
      for (const ws of me.workspaces.filter(w => w.sso_blocked)) {
        cards.push(this._ssoCard(me, ws));
      }
      for (const joinable of me.joinable) {
        cards.push(this._joinCard(joinable));
      }
    }
    cards.forEach(card => this.node.appendChild(card));
    this.setHidden(cards.length === 0);
  }

  private _ssoCard(me: IMe, ws: IMeWorkspace): HTMLElement {
    const provider = ws.enforced_sso_provider ?? 'another provider';
    const card = document.createElement('div');
    card.className = 'jp-WorkspacePerms-prompt jp-mod-sso';
    card.setAttribute('role', 'alert');
    card.dataset.workspace = ws.slug;
    const title = document.createElement('div');
    title.className = 'jp-WorkspacePerms-prompt-title';
    title.textContent = `${ws.slug} requires signing in with ${provider}`;
    const text = document.createElement('div');
    text.className = 'jp-WorkspacePerms-prompt-text';
    text.textContent =
      `You signed in with ${me.identity.login_provider}, so the files of ` +
      `${ws.name || ws.slug} are hidden from you. Sign in with ${provider} to use ` +
      'them; projects shared with you directly still work.';
    card.append(title, text);
    return card;
  }

  private _joinCard(joinable: IJoinable): HTMLElement {
    const role = roleLabel(joinable.role);
    const card = document.createElement('div');
    card.className = 'jp-WorkspacePerms-prompt jp-mod-join';
    card.dataset.workspace = joinable.slug;
    const title = document.createElement('div');
    title.className = 'jp-WorkspacePerms-prompt-title';
    title.textContent = `You can join ${joinable.slug} as ${withArticle(role)}`;
    title.title = `${joinable.name}: people with a verified ${joinable.invite_domain} email may join`;
    const button = document.createElement('button');
    button.className = 'jp-Button jp-mod-styled jp-mod-accept jp-WorkspacePerms-prompt-join';
    button.textContent = 'Join';
    const error = document.createElement('div');
    error.className = 'jp-WorkspacePerms-prompt-error';
    error.setAttribute('role', 'alert');
    button.addEventListener('click', () => {
      button.disabled = true;
      error.textContent = '';
      void this._join(joinable, role).catch((reason: unknown) => {
        button.disabled = false;
        error.textContent =
          reason instanceof ApiError ? reason.message : String(reason);
      });
    });
    card.append(title, button, error);
    return card;
  }

  private async _join(joinable: IJoinable, role: string): Promise<void> {
    await requestAPI('POST', `workspaces/${encodeURIComponent(joinable.slug)}/join`);
    Notification.success(`You joined ${joinable.slug} as ${withArticle(role)}`, {
      autoClose: 5000
    });
    await this._me.refresh();
    this._onJoined();
  }
}
