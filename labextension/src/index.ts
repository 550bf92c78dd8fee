/**
 * jupyter-workspace-perms in JupyterLab and Notebook 7: what each person sees.
 *
 * The plugins only show what the server allows and call the REST API as the person
 * looking; every rule is enforced on the server.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { commentsPlugins } from './comments';
import { corePlugins } from './core';
import { duplicatePlugins } from './duplicate';
import { settingsPlugins } from './settings';

const plugins: JupyterFrontEndPlugin<any>[] = [
  ...corePlugins,
  ...settingsPlugins,
  ...duplicatePlugins,
  ...commentsPlugins
];

export default plugins;
