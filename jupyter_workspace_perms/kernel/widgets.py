"""Widget comms of people who may run but not edit: inputs only, never what others' pages show.

ipywidgets keeps every widget's state in the kernel and hands every change a browser
sends (``comm_msg`` with ``{"method": "update", "state": …}``) to every other browser
showing the widget. Some state is shown as markup or code: an ``Output`` widget's
``outputs`` (a ``javascript`` output runs in each page), an ``HTML`` widget's ``value``,
a ``Box``'s ``children``, any ``description`` with ``description_allow_html``, the
``_view_*`` names. Sent by a Contributor, such a change would run their script in an
Admin's page, as that Admin.

So, for people without ``project:write``, the kernel hook lets through only what using
a standard control sends: the keys of :data:`INPUTS` (a slider's ``value``, a dropdown's
``index``, a tab's ``selected_index``…) of widgets the kernel itself made, which
:class:`WidgetRegistry` learns from what the kernel sends; button clicks and other
``custom`` messages (they reach only the kernel's handlers, which the notebook's authors
wrote); state requests; and the widget manager's control comm. Anything else (another
key, an unknown or third-party widget, a widget made by a browser) is dropped.

One exception keeps shared notebooks working: an ``Output`` widget's ``outputs``. Only
the page whose message made the kernel print captures what it printed, and ipywidgets
relies on that page sending the captured ``outputs`` for the other pages to show them.
So a Contributor's page may send ``outputs`` made only of text and images
(:func:`plain_outputs`): no HTML, markdown, SVG, JavaScript or other rich types, which
JupyterLab would render as trusted in every other page. A richer output a Contributor's
action produced shows in their own page only. Pure: no I/O, no Jupyter imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

WIDGET_TARGET = "jupyter.widget"
# the widget manager's own comms: they carry state requests, never widget state
CONTROL_TARGETS = frozenset({"jupyter.widget.control", "jupyter.widget.version"})
CONTROL = "control"  # the kind of a control comm the socket opened itself
CONTROLS = "@jupyter-widgets/controls"


def _inputs(keys: str, *models: str) -> dict[str, frozenset[str]]:
    return {f"{CONTROLS}:{model}": frozenset(keys.split()) for model in models}


# "module:ModelName" -> the state keys a person changes by using the control
INPUTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        **_inputs(
            "value",
            "IntSliderModel",
            "FloatSliderModel",
            "FloatLogSliderModel",
            "IntRangeSliderModel",
            "FloatRangeSliderModel",
            "IntTextModel",
            "FloatTextModel",
            "BoundedIntTextModel",
            "BoundedFloatTextModel",
            "TextModel",
            "TextareaModel",
            "PasswordModel",
            "ComboboxModel",
            "CheckboxModel",
            "ToggleButtonModel",
            "ColorPickerModel",
            "DatePickerModel",
            "DatetimeModel",
            "NaiveDatetimeModel",
            "TimeModel",
            "TagsInputModel",
            "ColorsInputModel",
            "FloatsInputModel",
            "IntsInputModel",
            "FileUploadModel",
        ),
        **_inputs("value playing repeat", "PlayModel"),
        **_inputs(
            "index",
            "DropdownModel",
            "RadioButtonsModel",
            "SelectModel",
            "SelectMultipleModel",
            "SelectionSliderModel",
            "SelectionRangeSliderModel",
            "ToggleButtonsModel",
        ),
        **_inputs("selected_index", "TabModel", "AccordionModel", "StackModel"),
        **_inputs("", "ButtonModel"),  # a click is a custom message
        "@jupyter-widgets/output:OutputModel": frozenset({"outputs"}),  # see plain_outputs
    }
)
# the widgets whose input carries binary parts (a chosen file's content)
BINARY_INPUTS = frozenset({f"{CONTROLS}:FileUploadModel"})
OUTPUT_WIDGET = "@jupyter-widgets/output:OutputModel"
# what an Output widget may show when a Contributor's page sends it: text and images
PLAIN_MIME_TYPES = frozenset(
    {
        "text/plain",
        "image/png",
        "image/jpeg",
        "image/gif",
        "application/vnd.jupyter.widget-view+json",
    }
)
MAX_OUTPUTS = 1000

ONLY_INPUTS = (
    "without edit rights a widget takes only what using it sends (a value, a choice); "
    "this change needs edit rights in this project"
)
UNKNOWN_WIDGET = (
    "this widget is not one the kernel made, or not a standard control: changing it "
    "needs edit rights in this project"
)
NOT_YOURS = "only comms this connection opened may be closed without edit rights"
NO_INPUT = "this widget takes no input from people without edit rights in this project"
RICH_OUTPUT = (
    "without edit rights an Output widget is sent only text and images (its richer "
    "outputs show in your page only)"
)


def kind_of(module: Any, name: Any) -> str | None:
    """``module:name`` of a widget model, or None when either is not a string."""
    if isinstance(module, str) and isinstance(name, str):
        return f"{module}:{name}"
    return None


class WidgetRegistry:
    """The widgets one kernel made (comm id -> model kind), from what the kernel sends.

    Learned from ``comm_open`` of a widget, the full states a ``request_state(s)``
    brings, and forgotten at ``comm_close``. A widget made before anybody listened is
    unknown until a browser asks for the states, which every widget manager does when it
    connects: until then it is refused (fail closed).
    """

    MAX_WIDGETS = 100_000

    def __init__(self) -> None:
        self._kinds: dict[str, str] = {}

    def kind(self, comm_id: str) -> str | None:
        """The model kind of a widget comm the kernel opened, if known."""
        return self._kinds.get(comm_id)

    def learn(self, msg_type: str, content: Mapping[str, Any]) -> None:
        """Take note of one comm message the kernel sent."""
        comm_id = content.get("comm_id")
        if not isinstance(comm_id, str):
            return
        if msg_type == "comm_close":
            self._kinds.pop(comm_id, None)
            return
        data = content.get("data")
        if not isinstance(data, dict):
            return
        if msg_type == "comm_open" and content.get("target_name") == WIDGET_TARGET:
            self._note(comm_id, data.get("state"))
        elif msg_type == "comm_msg" and data.get("method") == "update":
            self._note(comm_id, data.get("state"))  # a full state, as request_state sends
        elif msg_type == "comm_msg" and data.get("method") == "update_states":
            states = data.get("states")
            for widget_id, entry in states.items() if isinstance(states, dict) else ():
                if isinstance(entry, dict):
                    self._remember(widget_id, entry.get("model_module"), entry.get("model_name"))

    def _note(self, comm_id: str, state: Any) -> None:
        if isinstance(state, dict):
            self._remember(comm_id, state.get("_model_module"), state.get("_model_name"))

    def _remember(self, comm_id: Any, module: Any, name: Any) -> None:
        kind = kind_of(module, name)
        if kind is None or not isinstance(comm_id, str):
            return
        if len(self._kinds) >= self.MAX_WIDGETS and comm_id not in self._kinds:
            return  # a kernel making widgets without end: the rest stay unknown (refused)
        self._kinds[comm_id] = kind


def comm_msg_refusal(content: Mapping[str, Any], kind: str | None) -> str | None:
    """Why a ``comm_msg`` of someone without edit rights is refused, or None.

    ``kind`` is what the comm is: :data:`CONTROL` (the socket's own control comm), a
    widget's ``module:ModelName``, or None when unknown.
    """
    data = content.get("data")
    method = data.get("method") if isinstance(data, dict) else None
    if kind == CONTROL:
        return None if method == "request_states" else ONLY_INPUTS
    if method == "request_state":
        return None  # the kernel answers with the state everyone already sees
    if kind is None:
        return UNKNOWN_WIDGET
    if method == "custom":
        return None  # reaches only the kernel's handlers (a button's on_click…)
    if method != "update" or not isinstance(data, dict):
        return ONLY_INPUTS
    allowed = INPUTS.get(kind)
    if allowed is None:
        return NO_INPUT
    state = data.get("state")
    paths = data.get("buffer_paths", [])
    if not isinstance(state, dict) or not isinstance(paths, list):
        return ONLY_INPUTS
    if not set(state) <= allowed:
        return ONLY_INPUTS
    # binary parts (a file's content) go into the state at these paths: inputs only too
    for path in paths:
        if not isinstance(path, list) or not path or path[0] not in allowed:
            return ONLY_INPUTS
        if kind not in BINARY_INPUTS:
            return ONLY_INPUTS
    if kind == OUTPUT_WIDGET and "outputs" in state and not plain_outputs(state["outputs"]):
        return RICH_OUTPUT
    return None


def plain_outputs(outputs: Any) -> bool:
    """Whether ``outputs`` (an Output widget's) hold only text, tracebacks and images."""
    if not isinstance(outputs, list) or len(outputs) > MAX_OUTPUTS:
        return False
    return all(isinstance(o, dict) and _plain_output(o) for o in outputs)


def _strings(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _plain_output(output: dict[str, Any]) -> bool:
    kind = output.get("output_type")
    if kind == "stream":
        return (
            set(output) <= {"output_type", "name", "text"}
            and output.get("name") in ("stdout", "stderr")
            and _strings(output.get("text"))
        )
    if kind == "error":
        return set(output) <= {"output_type", "ename", "evalue", "traceback"} and all(
            _strings(output.get(key, "")) for key in ("ename", "evalue", "traceback")
        )
    if kind in ("display_data", "execute_result"):
        data = output.get("data")
        keys = {"output_type", "data", "metadata", "execution_count", "transient"}
        return (
            set(output) <= keys
            and isinstance(data, dict)
            and set(data) <= PLAIN_MIME_TYPES
            and all(isinstance(v, (str, dict)) for v in data.values())
        )
    return False
