"""ivig-bot: answers patient questions with verbatim passages from a clinic's own documents.

The pipeline runs one way, one module per stage:
documents -> passages -> analysis -> index -> search -> dialogue -> web (HTTP) and cli.
"""
