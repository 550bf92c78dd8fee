"""The REST API's contract: schemas, the operation table and the OpenAPI document.

Handlers in :mod:`.handlers` implement the operations declared here; the
OpenAPI document served at ``/api/workspace-perms/spec.yaml`` is generated from
the same table, so the docs cannot drift from what the server checks.
"""
