/**
 * Access requests: those the person may decide, with Approve and Deny where the
 * server says so (`can_decide`), and the person's own with what became of them. Approving
 * grants exactly the role asked for; the server decides and its refusal shows next to
 * the row's buttons.
 */
import { Time } from '@jupyterlab/coreutils';
import * as React from 'react';

import { IAccessRequest, decideRequest } from '../requests/api';
import { LoadError, Outcome, Section, describedBy, roleLabel, useActions } from './common';
import { ISettingsData } from './data';

/** Where a request is for, as people read it. */
function where(request: IAccessRequest): string {
  return request.project ? `project ${request.project}` : `workspace ${request.workspace}`;
}

function when(iso: string | null): JSX.Element | null {
  return iso ? (
    <time dateTime={iso} title={Time.format(iso)}>
      {Time.formatHuman(iso)}
    </time>
  ) : null;
}

function isMine(request: IAccessRequest, data: ISettingsData): boolean {
  const { username, email } = data.me.identity;
  return request.username === username || request.username === email;
}

/** Pending first, then the latest. */
function ordered(requests: IAccessRequest[]): IAccessRequest[] {
  const rank = (r: IAccessRequest) => (r.status === 'pending' ? 0 : 1);
  return [...requests].sort(
    (a, b) => rank(a) - rank(b) || b.updated_at.localeCompare(a.updated_at)
  );
}

export function AccessRequestsSection(props: { data: ISettingsData }): JSX.Element | null {
  const loaded = props.data.requests;
  if (loaded === null) {
    return null;
  }
  const requests = loaded.ok ? loaded.value : [];
  // the server lists one's own requests and those one may decide (decided ones too)
  const toDecide = ordered(requests.filter(r => !isMine(r, props.data)));
  const mine = ordered(requests.filter(r => isMine(r, props.data)));
  return (
    <Section name="access-requests" title="Access requests">
      {!loaded.ok && <LoadError message={loaded.message} />}
      {loaded.ok && (
        <>
          <h4>To decide</h4>
          {toDecide.length === 0 ? (
            <p className="jp-WorkspacePermsSettings-muted">
              No requests for you to decide.
            </p>
          ) : (
            <table
              className="jp-WorkspacePermsSettings-table"
              aria-label="Requests to decide"
            >
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Asks for</th>
                  <th scope="col">Message</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {toDecide.map(r => (
                  <DecideRow key={r.id} request={r} />
                ))}
              </tbody>
            </table>
          )}
          <h4>Your requests</h4>
          {mine.length === 0 ? (
            <p className="jp-WorkspacePermsSettings-muted">
              You have not asked for access here. Use “Request access” in the role
              popover (the status bar) or a notebook’s banner.
            </p>
          ) : (
            <ul className="jp-WorkspacePermsSettings-list" aria-label="Your requests">
              {mine.map(r => (
                <li key={r.id} data-request-id={r.id} data-status={r.status}>
                  {roleLabel(r.role)} on {where(r)}: <strong>{r.status}</strong>
                  {r.decided_by && <> by {r.decided_by}</>}{' '}
                  <span className="jp-WorkspacePermsSettings-muted">
                    {when(r.decided_at ?? r.created_at)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Section>
  );
}

function DecideRow(props: { request: IAccessRequest }): JSX.Element {
  const { request } = props;
  const actions = useActions();
  const key = `request-${request.id}`;
  const decide = (e: React.MouseEvent, status: 'approved' | 'denied') =>
    void actions.run(
      e,
      key,
      () => decideRequest(request.workspace, request.id, status),
      status === 'approved'
        ? `Approved: ${request.username} is now ${roleLabel(request.role)} ` +
          `on ${where(request)}.`
        : `Denied: ${request.username} keeps their role.`
    );
  const pending = request.status === 'pending' && request.can_decide;
  return (
    <tr data-request-id={request.id} data-username={request.username}>
      <th scope="row">
        {request.username}
        <div className="jp-WorkspacePermsSettings-muted">
          {request.current_role ? `now ${roleLabel(request.current_role)}` : 'no role yet'}
          {' · '}
          {when(request.created_at)}
        </div>
      </th>
      <td>
        {roleLabel(request.role)} on {where(request)}
      </td>
      <td className="jp-WorkspacePermsSettings-requestMessage">{request.message}</td>
      <td>
        {pending ? (
          <div className="jp-WorkspacePermsSettings-inline">
            <button
              type="button"
              className="jp-WorkspacePermsSettings-button"
              disabled={actions.busy === key}
              onClick={e => decide(e, 'approved')}
              {...describedBy(actions, key)}
            >
              Approve
            </button>
            <button
              type="button"
              className="jp-WorkspacePermsSettings-button jp-mod-warn"
              disabled={actions.busy === key}
              onClick={e => decide(e, 'denied')}
              {...describedBy(actions, key)}
            >
              Deny
            </button>
          </div>
        ) : (
          <>
            {request.status}
            {request.decided_by && ` by ${request.decided_by}`}
          </>
        )}
        <Outcome actionKey={key} />
      </td>
    </tr>
  );
}
