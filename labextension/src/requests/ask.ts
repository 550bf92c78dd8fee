/**
 * "Request access": a button (in the role popover and the notebook banner) that asks
 * for a higher role on the project, or in the workspace from its folder, and a line
 * saying what became of the person's latest request.
 *
 * The button shows where `GET me` says the person may ask (`project:comment` on the
 * project; membership or guest standing for a workspace role) and a higher role
 * exists; the server decides the request itself and its refusal is shown as said.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { messageOf } from '../api';
import { ROLES, Role } from '../generated';
import {
  IIdentity,
  IStanding,
  requestRefresh,
  roleLabel,
  withArticle
} from '../session';
import { IAccessRequest, IAccessRequestCreate, createRequest, listRequests } from './api';

/** Where a request would go, and the role held there now. */
export interface IRequestPlace {
  workspace: string;
  /** null: a workspace role. */
  project: string | null;
  role: Role | null;
}

/** The roles above `role`, lowest first. */
export function rolesAbove(role: Role | null): Role[] {
  return role === null ? [...ROLES] : ROLES.slice(ROLES.indexOf(role) + 1);
}

/** "acme/analysis" or "acme". */
export function placeName(place: { workspace: string; project: string | null }): string {
  return place.project ? `${place.workspace}/${place.project}` : place.workspace;
}

/** Where the person could ask for more from `standing`, or null. */
export function requestPlace(standing: IStanding | null): IRequestPlace | null {
  const ws = standing?.workspace ?? null;
  if (!standing || !ws) {
    return null;
  }
  const project = standing.project;
  if (project !== null) {
    const held = project.permissions ?? [];
    if (!held.includes('project:comment') || rolesAbove(project.role).length === 0) {
      return null;
    }
    return { workspace: ws.slug, project: project.name, role: project.role };
  }
  if (standing.location.project !== null || rolesAbove(ws.role).length === 0) {
    return null; // a project not visible to the person, or nothing higher to ask for
  }
  if (ws.sso_blocked || (ws.role === null && !ws.guest)) {
    return null; // no workspace standing to ask from
  }
  return { workspace: ws.slug, project: null, role: ws.role };
}

function isMine(request: IAccessRequest, identity: IIdentity): boolean {
  return request.username === identity.username || request.username === identity.email;
}

/** The person's latest request for `place`, if any. */
export async function latestRequest(
  place: IRequestPlace,
  identity: IIdentity
): Promise<IAccessRequest | null> {
  const mine = (await listRequests(place.workspace)).filter(
    r => isMine(r, identity) && r.project === place.project
  );
  mine.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return mine[0] ?? null;
}

function day(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  return isNaN(date.getTime())
    ? iso
    : ` on ${date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}`;
}

/** What became of a request, in one sentence. */
export function outcomeText(request: IAccessRequest): string {
  const role = roleLabel(request.role);
  const by = request.decided_by ? ` by ${request.decided_by}` : '';
  switch (request.status) {
    case 'pending':
      return `Your request for ${role} is pending${day(request.created_at)}.`;
    case 'approved':
      return `Your request for ${role} was approved${by}${day(request.decided_at)}.`;
    default:
      return (
        `Your request for ${role} was denied${by}${day(request.decided_at)}; ` +
        'you can ask again.'
      );
  }
}

/** The dialog's form: the role to ask for and an optional message. */
class RequestForm extends Widget implements Dialog.IBodyWidget<IAccessRequestCreate> {
  constructor(place: IRequestPlace, previous: IAccessRequestCreate | null, error: string) {
    super();
    this.addClass('jp-WorkspacePerms-requestForm');
    const intro = document.createElement('p');
    const held = place.role ? withArticle(roleLabel(place.role)) : 'a guest';
    const deciders = place.project
      ? 'The project’s admins decide.'
      : 'The workspace’s Admins decide.';
    intro.textContent = `You are ${held} of ${placeName(place)}. ${deciders}`;
    this._role = document.createElement('select');
    this._role.className = 'jp-mod-styled';
    this._role.setAttribute('aria-label', 'Role to ask for');
    for (const role of rolesAbove(place.role)) {
      const option = document.createElement('option');
      option.value = role;
      option.textContent = roleLabel(role);
      this._role.appendChild(option);
    }
    if (previous && rolesAbove(place.role).includes(previous.role)) {
      this._role.value = previous.role;
    }
    this._message = document.createElement('textarea');
    this._message.className = 'jp-mod-styled';
    this._message.setAttribute('aria-label', 'Message (optional)');
    this._message.placeholder = 'Why you need it (optional)';
    this._message.maxLength = 2000;
    this._message.rows = 3;
    this._message.value = previous?.message ?? '';
    this.node.append(
      intro,
      labelled('Ask for', this._role),
      labelled('Message (optional)', this._message)
    );
    if (error) {
      const alert = document.createElement('p');
      alert.className = 'jp-WorkspacePerms-requestForm-error';
      alert.setAttribute('role', 'alert');
      alert.textContent = error;
      this.node.appendChild(alert);
    }
  }

  getValue(): IAccessRequestCreate {
    const message = this._message.value.trim();
    return { role: this._role.value as Role, ...(message ? { message } : {}) };
  }

  private _role: HTMLSelectElement;
  private _message: HTMLTextAreaElement;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = document.createElement('label');
  const caption = document.createElement('span');
  caption.textContent = text;
  label.append(caption, control);
  return label;
}

/**
 * Ask for a higher role at `place`: the dialog, then the request; a refusal opens the
 * dialog again with the server's message, for the place as `current` says after `me`
 * was asked again. Resolves with the request (null: cancelled).
 */
export async function askForAccess(
  place: IRequestPlace,
  current: () => IStanding | null = () => null
): Promise<IAccessRequest | null> {
  let previous: IAccessRequestCreate | null = null;
  let error = '';
  for (;;) {
    const answer: Dialog.IResult<IAccessRequestCreate> = await showDialog({
      title: `Request access to ${placeName(place)}`,
      body: new RequestForm(place, previous, error),
      focusNodeSelector: 'select',
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Send request' })]
    });
    if (!answer.button.accept || answer.value === null) {
      return null;
    }
    previous = answer.value;
    const body: IAccessRequestCreate = place.project
      ? { ...answer.value, project: place.project }
      : answer.value;
    try {
      const sent = await createRequest(place.workspace, body);
      const role = roleLabel(sent.role);
      if (sent.merged) {
        Notification.info(
          'Merged with your pending request: you now ask for ' +
            `${role} on ${placeName(place)}.`,
          { autoClose: 6000 }
        );
      } else {
        Notification.success(
          `Request sent: ${role} on ${placeName(place)}. You will see the answer here.`,
          { autoClose: 6000 }
        );
      }
      return sent;
    } catch (reason) {
      error = messageOf(reason);
      // the refusal may come from a change made meanwhile (a new role): the page and
      // the dialog follow what the server says now
      await requestRefresh();
      const now = requestPlace(current());
      if (now === null && current() !== null) {
        await showDialog({
          title: 'Request access',
          body: error,
          buttons: [Dialog.okButton({ label: 'Close' })]
        });
        return null;
      }
      place = now ?? place;
    }
  }
}

/**
 * The "Request access" button and the line about the latest request, for `place`.
 * `compact`: a short status (the notebook banner's single line); `current`: where the
 * person stands now (read again after a refusal).
 */
export function requestAccessNode(
  identity: IIdentity,
  place: IRequestPlace,
  compact = false,
  current: () => IStanding | null = () => null
): HTMLElement {
  const node = document.createElement('span');
  node.className = 'jp-WorkspacePerms-request';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'jp-Button jp-mod-styled jp-WorkspacePerms-request-button';
  button.textContent = 'Request access';
  button.title = `Ask for a higher role on ${placeName(place)}`;
  const status = document.createElement('span');
  status.className = 'jp-WorkspacePerms-request-status';
  status.setAttribute('role', 'status');
  node.append(button, status);

  const show = (request: IAccessRequest | null) => {
    status.textContent = '';
    status.title = '';
    if (request === null) {
      return;
    }
    const text = outcomeText(request);
    status.dataset.status = request.status;
    status.title = text;
    status.textContent = compact
      ? `Request for ${roleLabel(request.role)}: ${request.status}`
      : text;
  };
  latestRequest(place, identity).then(show, error =>
    console.warn('jupyter-workspace-perms: could not read access requests', error)
  );
  button.addEventListener('click', () => {
    void askForAccess(place, current).then(sent => {
      if (sent) {
        show(sent);
      }
    });
  });
  return node;
}
