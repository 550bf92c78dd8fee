/**
 * The person's own personal access tokens: create with an expiry (the secret is shown
 * once, with a copy button), revoke. The server bounds the lifetime and says so when it
 * refuses one.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import {
  LoadError,
  Outcome,
  Section,
  UserEvent,
  dateOf,
  describedBy,
  expiryFromDate,
  expiryText,
  today,
  useActions,
  useIds
} from './common';
import { ISettingsData } from './data';
import { IToken, ITokenCreated } from './types';

export function TokensSection(props: { data: ISettingsData }): JSX.Element {
  const tokens = props.data.tokens;
  const [created, setCreated] = React.useState<ITokenCreated | null>(null);
  return (
    <Section name="tokens" title="Personal access tokens">
      <p className="jp-WorkspacePermsSettings-muted">
        A token signs scripts and other Jupyter clients in as you (header{' '}
        <code>Authorization: token …</code>).
      </p>
      {created && <NewSecret token={created} onDone={() => setCreated(null)} />}
      <CreateToken onCreated={setCreated} latest={props.data.latestTokenExpiry} />
      {!tokens.ok && <LoadError message={tokens.message} />}
      {tokens.ok && tokens.value.length > 0 && (
        <table className="jp-WorkspacePermsSettings-table" aria-label="Your tokens">
          <thead>
            <tr>
              <th scope="col">Token</th>
              <th scope="col">Note</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="jp-WorkspacePermsSettings-visuallyHidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.value.map(t => (
              <TokenRow key={t.id} token={t} />
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

/**
 * `latest`: the latest expiry the server allows a token made now (from `GET tokens`);
 * the date picker offers no later day. A typed date outside it still goes to the server,
 * whose refusal says why (the form does not validate in the browser's stead).
 */
function CreateToken(props: {
  onCreated: (t: ITokenCreated) => void;
  latest: string | null;
}): JSX.Element {
  const ids = useIds();
  const actions = useActions();
  const [note, setNote] = React.useState('');
  const [until, setUntil] = React.useState('');
  const key = 'token-create';
  const create = async (e: UserEvent) => {
    let made: ITokenCreated | null = null;
    const body: Record<string, unknown> = { note };
    if (until) {
      body.expires_at = expiryFromDate(until, props.latest);
    }
    const done = await actions.run(
      e,
      key,
      async () => {
        made = await actions.request<ITokenCreated>('POST', 'tokens', body);
      },
      'Token created.'
    );
    if (done && made) {
      props.onCreated(made);
      setNote('');
      setUntil('');
    }
  };
  return (
    <form
      className="jp-WorkspacePermsSettings-form"
      aria-label="Create a token"
      noValidate
      onSubmit={e => void create(e)}
    >
      <label htmlFor={ids(key + '-note')}>Note</label>
      <input
        id={ids(key + '-note')}
        type="text"
        maxLength={255}
        value={note}
        placeholder="what it is for"
        onChange={e => setNote(e.target.value)}
      />
      <label htmlFor={ids(key + '-until')}>Expires on</label>
      <input
        id={ids(key + '-until')}
        type="date"
        value={until}
        min={today()}
        {...(props.latest ? { max: dateOf(props.latest) } : {})}
        onChange={e => setUntil(e.target.value)}
        {...describedBy(actions, key)}
      />
      <button
        type="submit"
        className="jp-WorkspacePermsSettings-button"
        disabled={actions.busy === key}
      >
        Create token
      </button>
      <span className="jp-WorkspacePermsSettings-muted">
        Without a date it gets the longest lifetime the server allows.
      </span>
      <Outcome actionKey={key} />
    </form>
  );
}

function NewSecret(props: { token: ITokenCreated; onDone: () => void }): JSX.Element {
  const [copied, setCopied] = React.useState('');
  const input = React.useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.token.token);
      setCopied('Copied.');
    } catch {
      input.current?.select();
      setCopied('Select the token and copy it (the browser refused clipboard access).');
    }
  };
  return (
    <div className="jp-WorkspacePermsSettings-secret" role="region" aria-label="New token">
      <p>
        <strong>Copy your new token now:</strong> it is shown only this once (
        {expiryText(props.token.expires_at)}).
      </p>
      <div className="jp-WorkspacePermsSettings-inline">
        <input
          ref={input}
          aria-label="New token"
          readOnly
          value={props.token.token}
          onFocus={e => e.target.select()}
        />
        <button
          type="button"
          className="jp-WorkspacePermsSettings-button"
          onClick={() => void copy()}
        >
          Copy
        </button>
        <button
          type="button"
          className="jp-WorkspacePermsSettings-button"
          onClick={props.onDone}
        >
          Done
        </button>
        <span role="status">{copied}</span>
      </div>
    </div>
  );
}

function TokenRow(props: { token: IToken }): JSX.Element {
  const actions = useActions();
  const t = props.token;
  const key = `token-revoke-${t.id}`;
  const revoke = async (e: UserEvent) => {
    const answer = await showDialog({
      title: 'Revoke token',
      body:
        `Revoke ${t.prefix}…${t.note ? ` (${t.note})` : ''}? ` +
        'Scripts using it stop working.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Revoke' })]
    });
    if (answer.button.accept) {
      await actions.run(
        e,
        key,
        () => actions.request('DELETE', `tokens/${t.id}`),
        'Revoked.'
      );
    }
  };
  return (
    <tr data-token={t.id} className={t.revoked ? 'jp-mod-revoked' : ''}>
      <th scope="row">
        <code>{t.prefix}…</code>
      </th>
      <td>{t.note}</td>
      <td>{dateOf(t.created_at)}</td>
      <td>{t.revoked ? 'revoked' : t.expires_at ? dateOf(t.expires_at) : 'never'}</td>
      <td>
        {!t.revoked && (
          <button
            type="button"
            className="jp-WorkspacePermsSettings-button jp-mod-warn"
            aria-label={`Revoke ${t.prefix}`}
            onClick={e => void revoke(e)}
            disabled={actions.busy === key}
            {...describedBy(actions, key)}
          >
            Revoke
          </button>
        )}
        <Outcome actionKey={key} />
      </td>
    </tr>
  );
}
