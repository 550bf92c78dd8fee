/**
 * "Who am I": an item saying "cora@acme.example · Contributor · membership" for the
 * current document's project (or the file browser's folder), and a popover with the
 * workspace, the project's access level and what the role allows, in words. A role
 * given on the project itself (a grant: a guest's, a collaborator's, the creator's
 * project admin) reads "Admin of this project", so that it is not taken for the
 * workspace role the settings page shows. Where a higher role exists, the popover
 * offers "Request access" (./requests/ask.ts). In demo mode it also offers the demo's
 * other personas (./demo.ts).
 *
 * It only shows what `GET me` answered; the server decides every request.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { showPopup, Popup } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';

import { IPersonas, fetchPersonas, isDemo, switcherNode } from './demo';
import { PERMISSION_NAMES, PROJECT_ACCESS, permissionDef } from './generated';
import { requestAccessNode, requestPlace } from './requests/ask';
import {
  IIdentity,
  IMe,
  IProjectSummary,
  IStanding,
  MeModel,
  roleLabel
} from './session';

/** A date as people read it ("5 Jan 2026"); the ISO text if it does not parse. */
export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  return date.toLocaleDateString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric'
  });
}

/** Whether `identity` created `project` (whose creator gets a project admin grant). */
export function isCreator(project: IProjectSummary, identity: IIdentity): boolean {
  return (
    project.creator !== null &&
    (project.creator === identity.username || project.creator === identity.email)
  );
}

/**
 * How the role on a project was obtained: "membership", "guest until 5 Jan 2026",
 * "creator" (the grant its creator got)…
 */
export function howObtained(standing: IStanding, identity?: IIdentity): string {
  const project = standing.project;
  if (project === null || project.source === null) {
    return '';
  }
  let grant = standing.workspace?.guest ? 'guest' : 'grant';
  if (identity && isCreator(project, identity)) {
    grant = 'creator';
  }
  let how: string;
  if (project.source === 'grant') {
    how = grant;
  } else if (project.source === 'membership+grant') {
    how = `membership and ${grant}`;
  } else {
    how = 'membership';
  }
  if (project.source.includes('grant') && project.grant_expires_at) {
    how += ` until ${formatDate(project.grant_expires_at)}`;
  }
  return how;
}

/**
 * The role on a project as people read it: "Contributor" from the workspace
 * membership, "Admin of this project" when a grant on the project gives it.
 */
export function projectRoleText(project: IProjectSummary): string {
  const role = roleLabel(project.role ?? '');
  return project.source?.includes('grant') ? `${role} of this project` : role;
}

/** The item's text parts: who, the role here, and how it was obtained. */
export function describe(
  me: IMe,
  standing: IStanding | null
): { who: string; role: string; how: string } {
  const who = me.identity.email || me.identity.username;
  if (standing === null || standing.workspace === null) {
    return { who, role: '', how: '' };
  }
  const ws = standing.workspace;
  const project = standing.project;
  if (project !== null && project.role !== null) {
    return {
      who,
      role: projectRoleText(project),
      how: howObtained(standing, me.identity)
    };
  }
  if (ws.sso_blocked) {
    return {
      who,
      role: `${ws.slug} requires ${ws.enforced_sso_provider ?? 'another'} sign-in`,
      how: ''
    };
  }
  if (ws.role !== null) {
    return { who, role: `${roleLabel(ws.role)} in ${ws.slug}`, how: 'membership' };
  }
  if (ws.guest) {
    return { who, role: `guest of ${ws.slug}`, how: 'grant' };
  }
  return { who, role: '', how: '' };
}

/**
 * The item itself. `locate` says which path the person is looking at (and whether it
 * is a folder); call {@link update} when it may have changed.
 */
export class WhoAmI extends Widget {
  /**
   * `inStatusBar`: the popover opens above the item (JupyterLab's status bar); else it
   * opens as a dialog (Notebook 7's top area, where there is no room above).
   */
  constructor(
    private readonly _me: MeModel,
    private readonly _locate: () => { path: string; isDirectory: boolean } | null,
    private readonly _inStatusBar = true
  ) {
    super({ node: document.createElement('button') });
    this.id = 'jupyter-workspace-perms-whoami';
    this.addClass('jp-WorkspacePerms-whoami');
    this.node.setAttribute('type', 'button');
    this.node.setAttribute('aria-haspopup', 'dialog');
    this.node.addEventListener('click', this._onClick);
    _me.changed.connect(this.update, this);
    this.update();
  }

  /** What the person may do where they are looking, as `me` says. */
  get standing(): IStanding | null {
    const where = this._locate();
    return where === null
      ? null
      : this._me.standing(where.path, where.isDirectory);
  }

  dispose(): void {
    this._me.changed.disconnect(this.update, this);
    this.node.removeEventListener('click', this._onClick);
    this._popup?.dispose();
    super.dispose();
  }

  protected onUpdateRequest(): void {
    const me = this._me.me;
    this.node.textContent = '';
    if (me === null) {
      this.hide();
      return;
    }
    this.show();
    const { who, role, how } = describe(me, this.standing);
    const main = document.createElement('span');
    main.className = 'jp-WorkspacePerms-whoami-who';
    main.textContent = role ? `${who} · ${role}` : who;
    this.node.appendChild(main);
    if (how) {
      const detail = document.createElement('span');
      detail.className = 'jp-WorkspacePerms-whoami-how';
      detail.textContent = ` · ${how}`;
      this.node.appendChild(detail);
    }
    this.node.title = `Signed in as ${me.identity.display_name || who} (${me.identity.login_provider}); click for what you can do here`;
  }

  private _onClick = (): void => {
    if (this._popup && !this._popup.isDisposed) {
      this._popup.dispose();
      return;
    }
    const me = this._me.me;
    if (me === null) {
      return;
    }
    const body = new Widget({
      node: popoverNode(me, this.standing, () => this.standing)
    });
    body.addClass('jp-WorkspacePerms-whoami-popover');
    if (isDemo()) {
      // asked again on every opening: the server knows who is signed in now
      const personas: Promise<IPersonas> = fetchPersonas();
      body.node.appendChild(switcherNode(personas));
    }
    if (this._inStatusBar) {
      // the demo's switcher fills in later: the popup places itself again when it grows
      this._popup = showPopup({
        body,
        anchor: this,
        align: 'right',
        hasDynamicSize: true
      });
    } else {
      void showDialog({
        title: 'Who am I',
        body,
        buttons: [Dialog.okButton({ label: 'Close' })]
      });
    }
  };

  private _popup: Popup | null = null;
}

function row(list: HTMLElement, term: string, value: string): HTMLElement {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
  return dd;
}

/**
 * The popover: identity, workspace, project access, role and what it allows, and
 * "Request access" where a higher role exists (`current`: the standing now, read
 * again after a refused request).
 */
export function popoverNode(
  me: IMe,
  standing: IStanding | null,
  current: () => IStanding | null = () => standing
): HTMLElement {
  const node = document.createElement('div');
  node.setAttribute('role', 'dialog');
  node.setAttribute('aria-label', 'Who am I');
  const title = document.createElement('h3');
  const identity = me.identity;
  title.textContent = identity.display_name || identity.email;
  const sub = document.createElement('div');
  sub.className = 'jp-WorkspacePerms-whoami-identity';
  sub.textContent = `${identity.email} · signed in with ${identity.login_provider}`;
  node.append(title, sub);

  const list = document.createElement('dl');
  node.appendChild(list);
  const ws = standing?.workspace ?? null;
  const project = standing?.project ?? null;
  if (ws === null) {
    row(list, 'Workspace', 'none here');
  } else {
    let standingText = ws.role ? roleLabel(ws.role) : 'no workspace role';
    if (ws.owner) {
      standingText += ', owner';
    } else if (ws.guest) {
      standingText = 'guest (only projects shared with you)';
    }
    if (ws.sso_blocked) {
      standingText = `requires signing in with ${ws.enforced_sso_provider}`;
    }
    row(list, 'Workspace', `${ws.name || ws.slug} (${ws.slug}) — ${standingText}`);
  }
  if (project !== null) {
    const access = PROJECT_ACCESS[project.access];
    row(list, 'Project', project.name);
    row(list, 'Access', `${access.label}: ${access.description}`);
    const how = standing ? howObtained(standing, identity) : '';
    if (project.role !== null) {
      row(list, 'Your role', `${projectRoleText(project)}${how ? ` (${how})` : ''}`);
    }
  } else if (standing?.location.project) {
    row(list, 'Project', `${standing.location.project} — not visible to you`);
  }

  const held: readonly string[] = project?.permissions ?? ws?.permissions ?? [];
  // what the product does not offer yet is not something one can do
  const permissions = PERMISSION_NAMES.filter(
    p => held.includes(p) && !permissionDef(p)?.reserved
  );
  const heading = document.createElement('h4');
  heading.textContent = permissions.length
    ? 'What you can do here'
    : 'You cannot do anything here';
  node.appendChild(heading);
  if (permissions.length) {
    const ul = document.createElement('ul');
    ul.className = 'jp-WorkspacePerms-whoami-permissions';
    for (const name of permissions) {
      const li = document.createElement('li');
      li.textContent = permissionDef(name)?.description ?? name;
      li.dataset.permission = name;
      ul.appendChild(li);
    }
    node.appendChild(ul);
  }
  const place = requestPlace(standing);
  if (place !== null) {
    const request = requestAccessNode(identity, place, false, current);
    request.classList.add('jp-WorkspacePerms-whoami-request');
    node.appendChild(request);
  }
  return node;
}
