"""One module per TAXII resource (plus the hub's SSE and sighting-summary extensions)."""
