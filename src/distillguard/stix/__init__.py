"""STIX 2.1 helpers: the distillation extension, TLP markings and validation (pure code)."""

from distillguard.stix.builders import (
    hashed_identifier_indicator,
    network_indicator,
    template_sketch_indicator,
)
from distillguard.stix.extension import (
    DISTILLATION_EXTENSION_ID,
    FORUM_IDENTITY_ID,
    SIGNAL_TYPES,
    distillation_properties,
    extension_body,
    extension_definition,
    forum_identity,
    keyed_hashes,
    new_id,
    sighting,
    stix_now,
    template_sketch,
)
from distillguard.stix.markings import (
    TLP_AMBER,
    TLP_AMBER_STRICT,
    TLP_CLEAR,
    TLP_GREEN,
    TLP_LEVELS,
    TLP_RED,
    tlp2_marking_definition,
    tlp_level,
)
from distillguard.stix.validation import SCHEMA_MODE, ValidationReport, validate_stix

__all__ = [
    "DISTILLATION_EXTENSION_ID",
    "FORUM_IDENTITY_ID",
    "SCHEMA_MODE",
    "SIGNAL_TYPES",
    "TLP_AMBER",
    "TLP_AMBER_STRICT",
    "TLP_CLEAR",
    "TLP_GREEN",
    "TLP_LEVELS",
    "TLP_RED",
    "ValidationReport",
    "distillation_properties",
    "extension_body",
    "extension_definition",
    "forum_identity",
    "hashed_identifier_indicator",
    "keyed_hashes",
    "network_indicator",
    "new_id",
    "sighting",
    "stix_now",
    "template_sketch",
    "template_sketch_indicator",
    "tlp2_marking_definition",
    "tlp_level",
    "validate_stix",
]
