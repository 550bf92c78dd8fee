/**
 * The integrations connected to a project, in its card under Projects.
 */
import * as React from 'react';

import { Permission } from '../generated';
import {
  LoadError,
  Outcome,
  UserEvent,
  describedBy,
  holds,
  seg,
  useActions,
  useIds
} from './common';
import { byOn } from './integrations';
import { IConnected, IConnectionList, IIntegration, IProjectSummary, Loaded } from './types';

const CONNECT: Permission = 'project:integrations';

/**
 * The integrations connected to one project (in its card under Projects): everyone who
 * may read the project sees them; `project:integrations` (from the server's answer)
 * enables connecting and disconnecting, and the server's answer says what happens to
 * kernels that run now.
 */
export function ProjectIntegrations(props: {
  slug: string;
  project: IProjectSummary;
  connections: Loaded<IConnectionList> | null;
  /** The workspace's integrations, to pick from (null: the person may not list them). */
  available: Loaded<IIntegration[]> | null;
}): JSX.Element | null {
  const ids = useIds();
  const actions = useActions();
  const { project: p, connections } = props;
  const [choice, setChoice] = React.useState('');
  if (!connections) {
    return null; // not readable: the card already says so
  }
  const canConnect = holds(p.permissions, CONNECT);
  const key = `project-integrations-${p.name}`;
  const busy = actions.busy === key;
  const path = (name: string) =>
    `workspaces/${seg(props.slug)}/projects/${seg(p.name)}/integrations/${seg(name)}`;
  const connected = connections.ok ? connections.value.integrations : [];
  const offered =
    props.available && props.available.ok
      ? props.available.value
          .map(i => i.name)
          .filter(n => !connected.some(c => c.name === n))
      : null;
  const picked = choice.trim();
  const connect = async (e: UserEvent) => {
    const done = await actions.run(
      e,
      key,
      () => actions.request<IConnected>('PUT', path(picked)),
      answer => answer.message
    );
    if (done) {
      setChoice('');
    }
  };
  const disconnect = (e: UserEvent, name: string) =>
    actions.run(
      e,
      key,
      () => actions.request<IConnected>('DELETE', path(name)),
      answer => answer.message
    );
  return (
    <div
      className="jp-WorkspacePermsSettings-connections"
      data-connections={p.name}
      role="group"
      aria-labelledby={ids(`${key}-title`)}
    >
      <h5 id={ids(`${key}-title`)}>Integrations connected to {p.name}</h5>
      {!connections.ok && <LoadError message={connections.message} />}
      {connections.ok && connected.length === 0 && (
        <p className="jp-WorkspacePermsSettings-muted">
          None: kernels of {p.name} get no workspace secrets.
        </p>
      )}
      {connected.length > 0 && (
        <ul
          className="jp-WorkspacePermsSettings-list"
          aria-label={`Integrations connected to ${p.name}`}
        >
          {connected.map(c => (
            <li key={c.name} data-integration={c.name}>
              <strong>{c.name}</strong>
              {c.variables.length > 0 && (
                <>
                  {' '}
                  (
                  {c.variables.map((v, n) => (
                    <React.Fragment key={v}>
                      {n > 0 && ', '}
                      <code>{v}</code>
                    </React.Fragment>
                  ))}
                  )
                </>
              )}
              <span className="jp-WorkspacePermsSettings-muted">
                {' '}
                · connected{byOn(c.connected_by, c.connected_at)}
              </span>
              {canConnect && (
                <button
                  type="button"
                  className="jp-WorkspacePermsSettings-button jp-mod-warn"
                  aria-label={`Disconnect ${c.name} from ${p.name}`}
                  disabled={busy}
                  onClick={e => void disconnect(e, c.name)}
                  {...describedBy(actions, key)}
                >
                  Disconnect
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canConnect && connections.ok && (
        <form
          className="jp-WorkspacePermsSettings-inline"
          aria-label={`Connect an integration to ${p.name}`}
          noValidate
          onSubmit={e => void connect(e)}
        >
          <label htmlFor={ids(key + '-pick')}>Connect</label>
          {offered ? (
            <select
              id={ids(key + '-pick')}
              value={offered.includes(choice) ? choice : ''}
              disabled={busy || offered.length === 0}
              onChange={e => setChoice(e.target.value)}
              {...describedBy(actions, key)}
            >
              <option value="">
                {offered.length ? 'choose an integration…' : 'no other integration'}
              </option>
              {offered.map(n => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={ids(key + '-pick')}
              type="text"
              placeholder="integration name"
              autoComplete="off"
              value={choice}
              disabled={busy}
              onChange={e => setChoice(e.target.value)}
              {...describedBy(actions, key)}
            />
          )}
          <button
            type="submit"
            className="jp-WorkspacePermsSettings-button"
            disabled={!picked || busy || (offered !== null && !offered.includes(picked))}
          >
            Connect
          </button>
        </form>
      )}
      {canConnect && connections.ok && (
        <p className="jp-WorkspacePermsSettings-muted">{connections.value.message}</p>
      )}
      {!canConnect && connections.ok && (
        <p className="jp-WorkspacePermsSettings-muted">
          Connecting and disconnecting integrations here is for people the server allows
          to change this project&apos;s integrations.
        </p>
      )}
      <Outcome actionKey={key} />
    </div>
  );
}
