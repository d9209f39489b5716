"""Stage 2: account/window aggregation as dataframe operations.

``templates.resolve_templates`` (template families), ``features.account_features``
(one row per account). Imported by module, not re-exported here, so that light users of
``aggregate.incidence`` do not pay for the content classifiers' imports.
"""
