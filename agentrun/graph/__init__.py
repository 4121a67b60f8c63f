"""The compiled task graph (runtime objects, no spec) and its text and Mermaid descriptions."""
