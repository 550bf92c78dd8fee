/**
 * The ipywidgets module name and version of the panel's model and view. The Python
 * class `WorkspacePanel` names the same (`_view_module`, `_view_module_version`), and a
 * test checks both against package.json.
 */
export const MODULE_NAME = 'jupyter-workspace-perms';
export const MODULE_VERSION = '0.1.0';
