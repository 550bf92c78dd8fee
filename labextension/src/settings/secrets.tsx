/**
 * Write-only value fields of the integrations section: uncontrolled password inputs whose
 * values live neither in React state nor in a DOM attribute, read once when a form is
 * sent and emptied as soon as a change went through.
 */
import * as React from 'react';

import { UserEvent, useActions } from './common';

/**
 * The section's value inputs, by row id. Only whether a field holds something is kept
 * in state (to enable buttons); the value is read from the input when a form is sent.
 */
export interface ISecretFields {
  /** The (stable) ref callback of value input `id`. */
  ref(id: string): (input: HTMLInputElement | null) => void;
  /** Note whether value input `id` holds something now. */
  mark(id: string, input: HTMLInputElement): void;
  /** The ids of the value inputs that hold something. */
  readonly filled: ReadonlySet<string>;
  /** What value input `id` holds now ('' when none). */
  value(id: string): string;
  /** Empty every value input of the section. */
  clear(): void;
}

export function useSecretFields(): ISecretFields {
  const inputs = React.useRef(new Map<string, HTMLInputElement>());
  const refs = React.useRef(new Map<string, (input: HTMLInputElement | null) => void>());
  const [filled, setFilled] = React.useState<ReadonlySet<string>>(() => new Set());
  const ref = React.useCallback((id: string) => {
    let found = refs.current.get(id);
    if (!found) {
      found = (input: HTMLInputElement | null) => {
        if (input) {
          inputs.current.set(id, input);
        } else {
          inputs.current.delete(id);
          refs.current.delete(id);
        }
      };
      refs.current.set(id, found);
    }
    return found;
  }, []);
  const mark = React.useCallback((id: string, input: HTMLInputElement) => {
    const has = input.value !== '';
    setFilled(f => {
      if (f.has(id) === has) {
        return f;
      }
      const next = new Set(f);
      if (has) {
        next.add(id);
      } else {
        next.delete(id);
      }
      return next;
    });
  }, []);
  const value = React.useCallback(
    (id: string) => inputs.current.get(id)?.value ?? '',
    []
  );
  const clear = React.useCallback(() => {
    inputs.current.forEach(input => {
      input.value = '';
    });
    setFilled(new Set());
  }, []);
  // nothing typed outlives the section (another workspace shown, the view closed)
  React.useEffect(() => clear, [clear]);
  return React.useMemo(
    () => ({ ref, mark, filled, value, clear }),
    [ref, mark, filled, value, clear]
  );
}

/**
 * Run a change of the section as the person looking (see `IActions.run`); every value
 * field of the section is emptied as soon as the server accepted it.
 */
export type Change = <T>(
  event: UserEvent,
  key: string,
  call: () => Promise<T>,
  done: string | ((answer: T) => string)
) => Promise<boolean>;

export function useChange(secrets: ISecretFields): Change {
  const actions = useActions();
  const { clear } = secrets;
  return React.useCallback(
    <T,>(
      event: UserEvent,
      key: string,
      call: () => Promise<T>,
      done: string | ((answer: T) => string)
    ) =>
      actions.run(
        event,
        key,
        async () => {
          const answer = await call();
          clear();
          return answer;
        },
        done
      ),
    [actions, clear]
  );
}

/** A write-only value field: a password input that keeps nothing in React or the DOM. */
export function SecretInput(props: {
  id: string;
  fieldId: string;
  label: string;
  placeholder: string;
  secrets: ISecretFields;
  disabled: boolean;
}): JSX.Element {
  const { secrets } = props;
  return (
    <input
      id={props.id}
      type="password"
      className="jp-WorkspacePermsSettings-value"
      aria-label={props.label}
      placeholder={props.placeholder}
      autoComplete="off"
      spellCheck={false}
      disabled={props.disabled}
      ref={secrets.ref(props.fieldId)}
      onChange={e => secrets.mark(props.fieldId, e.target)}
    />
  );
}
