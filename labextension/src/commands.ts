/**
 * The notebook commands that change cells or run code, and a guard that disables them
 * where the server would refuse, with the reason as their tooltip.
 *
 * Which command is refused where is decided by the caller (./readonly.ts) from what
 * `GET me` answered; this module only wraps the command registry.
 */
import { Notification } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';

/** Commands that change a notebook's cells: they need `project:write`. */
export const STRUCTURE_COMMANDS = [
  'notebook:insert-cell-above',
  'notebook:insert-cell-below',
  'notebook:insert-heading-above',
  'notebook:insert-heading-below',
  'notebook:delete-cell',
  'notebook:cut-cell',
  'notebook:paste-cell-above',
  'notebook:paste-cell-below',
  'notebook:paste-and-replace-cell',
  'notebook:duplicate-below',
  'notebook:move-cell-up',
  'notebook:move-cell-down',
  'notebook:merge-cells',
  'notebook:merge-cell-above',
  'notebook:merge-cell-below',
  'notebook:split-cell-at-cursor',
  'notebook:change-cell-to-code',
  'notebook:change-cell-to-markdown',
  'notebook:change-cell-to-raw',
  'notebook:change-cell-to-heading-1',
  'notebook:change-cell-to-heading-2',
  'notebook:change-cell-to-heading-3',
  'notebook:change-cell-to-heading-4',
  'notebook:change-cell-to-heading-5',
  'notebook:change-cell-to-heading-6',
  'notebook:run-cell-and-insert-below'
];

/** Commands that run code or handle the kernel: they need `project:execute`. */
export const RUN_COMMANDS = [
  'notebook:run-cell',
  'notebook:run-cell-and-select-next',
  'notebook:run-all-cells',
  'notebook:run-all-above',
  'notebook:run-all-below',
  'notebook:restart-run-all',
  'notebook:restart-and-run-to-selected',
  'notebook:restart-kernel',
  'notebook:restart-clear-output',
  'notebook:interrupt-kernel',
  'notebook:change-kernel',
  'notebook:reconnect-to-kernel',
  'notebook:create-console',
  'notebook:create-subshell-console',
  'notebook:run-in-console'
];

/**
 * JupyterLab's menu-level run and kernel commands: they act on the current widget
 * through the notebook commands above; wrapped too so that their keyboard shortcuts
 * (Shift+Enter in command mode, I I, 0 0) explain instead of doing nothing.
 */
export const SEMANTIC_RUN_COMMANDS = [
  'runmenu:run',
  'runmenu:run-all',
  'runmenu:restart-and-run-all',
  'kernelmenu:interrupt',
  'kernelmenu:restart',
  'kernelmenu:restart-and-clear',
  'kernelmenu:change'
];

/** Why a command may not run, and how to check again with the server. */
export interface IRefusal {
  message: string;
  refresh: () => Promise<void>;
}

/**
 * Wrap the notebook commands (now and when they are added later) so that where
 * `refusal` answers, they are disabled with its message as their tooltip; a keyboard
 * shortcut (which only runs enabled commands) asks the server again and explains
 * instead of doing nothing. JupyterLab offers no public way to change another
 * plugin's command, so this replaces the registry's entry and restores it on dispose.
 */
export function guardCommands(
  commands: CommandRegistry,
  refusal: (id: string, args: ReadonlyPartialJSONObject) => IRefusal | null
): IDisposable {
  const registry = (commands as unknown as { _commands?: unknown })._commands;
  if (!(registry instanceof Map)) {
    console.warn(
      'jupyter-workspace-perms: cannot guard notebook commands in this version'
    );
    return new DisposableDelegate(() => undefined);
  }
  const entries = registry as Map<string, CommandRegistry.ICommandOptions>;
  const ids = new Set([
    ...STRUCTURE_COMMANDS,
    ...RUN_COMMANDS,
    ...SEMANTIC_RUN_COMMANDS
  ]);
  const originals = new Map<string, CommandRegistry.ICommandOptions>();
  const isKeybinding = (args: ReadonlyPartialJSONObject) =>
    (args['_luminoEvent'] as { type?: string } | undefined)?.type ===
    'keybinding';

  const wrap = (id: string) => {
    const original = entries.get(id);
    if (!original || originals.has(id)) {
      return;
    }
    originals.set(id, original);
    const call = <T>(f: unknown, args: ReadonlyPartialJSONObject, or: T): T =>
      typeof f === 'function' ? (f as (a: unknown) => T)(args) : or;
    entries.set(id, {
      ...original,
      isEnabled: args => {
        if (refusal(id, args) !== null) {
          return isKeybinding(args); // a shortcut runs `execute`, which explains
        }
        return call(original.isEnabled, args, true);
      },
      caption: args => {
        const refused = refusal(id, args);
        return refused !== null
          ? refused.message
          : call(original.caption, args, '');
      },
      execute: async args => {
        const refused = refusal(id, args);
        if (refused !== null) {
          await refused.refresh(); // the server may allow it by now
          const still = refusal(id, args);
          if (still !== null) {
            Notification.warning(still.message, { autoClose: 6000 });
            return;
          }
        }
        return original.execute(args);
      }
    });
    commands.notifyCommandChanged(id);
  };

  ids.forEach(wrap);
  const onChanged = (_: CommandRegistry, change: CommandRegistry.ICommandChangedArgs) => {
    if (change.type === 'added' && change.id && ids.has(change.id)) {
      wrap(change.id);
    }
  };
  commands.commandChanged.connect(onChanged);
  return new DisposableDelegate(() => {
    commands.commandChanged.disconnect(onChanged);
    originals.forEach((original, id) => {
      if (entries.has(id)) {
        entries.set(id, original);
      }
    });
  });
}
