/**
 * Whether kernels run in the kernel sandbox, as the server's status says: a quiet line
 * when they do, a warning that says what it means when they do not (anyone who runs
 * code reads every project, and why the sandbox's self-test failed).
 */
import * as React from 'react';

import { IServerStatus, Loaded } from './types';

export function KernelSandboxNote(props: {
  status: Loaded<IServerStatus>;
}): JSX.Element | null {
  if (!props.status.ok) {
    return null; // the status route answers everyone signed in; nothing to add
  }
  const isolation = props.status.value.isolation;
  return (
    <p
      className={
        isolation.confined
          ? 'jp-WorkspacePermsSettings-sandbox'
          : 'jp-WorkspacePermsSettings-sandbox jp-WorkspacePermsSettings-sandbox-off'
      }
      role={isolation.confined ? 'note' : 'alert'}
      data-confined={isolation.confined ? 'true' : 'false'}
      data-mode={isolation.mode}
    >
      <strong>{isolation.confined ? 'Kernel sandbox on. ' : 'Kernel sandbox off. '}</strong>
      {isolation.message}
    </p>
  );
}
