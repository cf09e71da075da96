"""The DynamoDB store, one module per concern (import from the module itself):

- ``table``     the table: item kinds, indexes, ``table_definition``, ``create_table``
- ``items``     attribute values and a finding's item (TypeSerializer / TypeDeserializer)
- ``findings``  ``FindingStore``: reads, queries, recording an audit (``apply``, ``reconcile``)
- ``planning``  which writes an audit makes and how they fit in transactions (pure)
- ``outbox``    the changes to announce: ``pending``, ``mark_sent``, ``release``
- ``memory``    which VPC each resource belongs to, sharded (``remember_resources``)
- ``tokens``    page tokens
- ``transact``  transactions, conflicts, retries, batch reads

The lifecycle itself (statuses, ``transition``, ``Coverage``) is pure: ``chalicelib.core.lifecycle``.
"""
