/**
 * Writing a comment: a text area for Markdown with a send and a cancel button, and the
 * server's refusal under it. Ctrl+Enter (⌘+Enter) sends.
 */
import * as React from 'react';

import { messageOf } from '../api';
import { COMMENT_MAX_CHARS } from './api';

/** Runs one change at a time and keeps the server's refusal of the last try. */
export function useAction(): {
  busy: boolean;
  error: string;
  run: (call: () => Promise<unknown>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState('');
  const mounted = React.useRef(true);
  React.useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );
  const run = React.useCallback(async (call: () => Promise<unknown>) => {
    setBusy(true);
    setError('');
    try {
      await call();
      return true;
    } catch (reason) {
      if (mounted.current) {
        setError(messageOf(reason));
      }
      return false;
    } finally {
      if (mounted.current) {
        setBusy(false);
      }
    }
  }, []);
  const clear = React.useCallback(() => setError(''), []);
  return { busy, error, run, clear };
}

/** The server's refusal, announced. */
export function Refusal(props: { message: string }): JSX.Element | null {
  return props.message ? (
    <p className="jp-WorkspacePerms-comments-error" role="alert">
      {props.message}
    </p>
  ) : null;
}

export interface IComposerProps {
  /** The text area's accessible name ("Reply", "Edit comment", "New comment"). */
  label: string;
  /** The send button's text. */
  submit: string;
  initial?: string;
  placeholder?: string;
  /** Send the text; resolves to whether the server took it (then the area empties). */
  onSubmit: (body: string) => Promise<boolean>;
  onCancel?: () => void;
  autoFocus?: boolean;
  disabled?: boolean;
}

export function Composer(props: IComposerProps): JSX.Element {
  const [text, setText] = React.useState(props.initial ?? '');
  const [sending, setSending] = React.useState(false);
  const send = async () => {
    if (!text.trim() || sending) {
      return;
    }
    setSending(true);
    const ok = await props.onSubmit(text);
    setSending(false);
    if (ok) {
      setText('');
    }
  };
  return (
    <form
      className="jp-WorkspacePerms-composer"
      onSubmit={e => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        className="jp-mod-styled"
        aria-label={props.label}
        placeholder={props.placeholder ?? 'Markdown; @name mentions someone'}
        value={text}
        rows={3}
        maxLength={COMMENT_MAX_CHARS}
        autoFocus={props.autoFocus}
        disabled={props.disabled}
        onChange={e => setText(e.target.value)}
        onKeyDown={e => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <div className="jp-WorkspacePerms-composer-buttons">
        {props.onCancel && (
          <button
            type="button"
            className="jp-WorkspacePerms-comments-button"
            onClick={props.onCancel}
          >
            Cancel
          </button>
        )}
        <button
          type="submit"
          className="jp-WorkspacePerms-comments-button jp-mod-accept"
          disabled={props.disabled || sending || !text.trim()}
        >
          {props.submit}
        </button>
      </div>
    </form>
  );
}
