"""TAXII 2.1 server of the node: discovery, one API root, collections per domain, objects, versions and manifest,
read as the subject of the caller's credential (token or HTTP Basic). See docs/federation.md, "TAXII 2.1 server"."""
