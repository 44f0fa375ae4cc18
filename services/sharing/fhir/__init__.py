"""FHIR R4 in Carnet: the read and search API (``api``, ``search``, ``paging``,
``urls``, mounted at /fhir/r4/), the rendering of records as resources (``render``) and
the import of bundles (``importer``)."""
