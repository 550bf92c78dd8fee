"""Workspace slugs and project names are folder names: one plain path segment.

The rules: docs/design.md#paths.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jupyter_workspace_perms.policy.names import validate_project_name, validate_workspace_slug

Validator = Callable[[str], str]
VALIDATORS = [
    pytest.param(validate_workspace_slug, id="slug"),
    pytest.param(validate_project_name, id="project"),
]

# Refused by both validators: anything that is not one plain, visible folder name.
BAD_FOR_BOTH = [
    pytest.param("", id="empty"),
    pytest.param(".", id="dot"),
    pytest.param("..", id="dotdot"),
    pytest.param("a/b", id="slash"),
    pytest.param("/abs", id="leading-slash"),
    pytest.param("a/", id="trailing-slash"),
    pytest.param("../up", id="parent-traversal"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("..\\up", id="backslash-traversal"),
    pytest.param(".hidden", id="hidden"),
    pytest.param(".ipynb_checkpoints", id="checkpoints-folder"),
    pytest.param("x\x00y", id="nul"),
    pytest.param("x\ny", id="newline"),
    pytest.param("x\ty", id="tab"),
    pytest.param("x\ry", id="carriage-return"),
    pytest.param("x\x1by", id="escape"),
    pytest.param("x\x7fy", id="delete"),
    pytest.param("trailing.", id="trailing-dot"),
    pytest.param("a" * 200, id="far-too-long"),
    pytest.param("-dash-first", id="leading-dash"),
    pytest.param("caf\u00e9", id="non-ascii"),
    pytest.param("a\u202eb", id="bidi-override"),
    pytest.param("a:b", id="colon"),
    pytest.param("a*b", id="wildcard"),
    pytest.param("~home", id="tilde"),
]


@pytest.mark.parametrize("validate", VALIDATORS)
@pytest.mark.parametrize("name", BAD_FOR_BOTH)
def test_bad_names_are_refused(validate: Validator, name: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        validate(name)


@pytest.mark.parametrize(
    "slug",
    [
        "acme",
        "a",
        "A1",
        "9lives",
        "data-science",
        "team_2024",
        "v1.2",
        "a" * 63,
    ],
)
def test_good_workspace_slugs_are_accepted(slug: str) -> None:
    assert validate_workspace_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        pytest.param("data science", id="space"),
        pytest.param("trailing ", id="trailing-space"),
        pytest.param(" leading", id="leading-space"),
        pytest.param("a" * 64, id="64-chars"),
        pytest.param("_underscore-first", id="leading-underscore"),
        pytest.param("a(b)", id="parentheses"),
        pytest.param("a@b", id="at-sign"),
    ],
)
def test_bad_workspace_slugs_are_refused(slug: str) -> None:
    with pytest.raises(ValueError, match="invalid workspace slug"):
        validate_workspace_slug(slug)


@pytest.mark.parametrize(
    "name",
    [
        "analysis",
        "Untitled Folder",
        "Untitled Folder 1",
        "_scratch",
        "Q3 report (draft)",
        "a+b,c@d",
        "v1.2",
        "my-project_2",
        "x" * 127,
    ],
)
def test_good_project_names_are_accepted(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("trailing ", id="trailing-space"),
        pytest.param(" leading", id="leading-space"),
        pytest.param("x" * 128, id="128-chars"),
        pytest.param("(parens-first)", id="leading-parenthesis"),
        pytest.param("a;b", id="semicolon"),
        pytest.param("a$b", id="dollar"),
    ],
)
def test_bad_project_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid project name"):
        validate_project_name(name)


@pytest.mark.parametrize("validate", VALIDATORS)
def test_the_refusal_names_the_value(validate: Validator) -> None:
    with pytest.raises(ValueError, match=r"'a/b'"):
        validate("a/b")
