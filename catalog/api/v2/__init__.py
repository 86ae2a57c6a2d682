"""The successor API, Glance v2's image API as IMS serves it (docs/api.md#v2)."""
