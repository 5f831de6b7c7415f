"""Python side of rapidfit-export. Speaks JSON lines on stdio; see protocol.py."""

PROTOCOL_VERSION = 1
