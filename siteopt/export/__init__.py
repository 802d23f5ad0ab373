"""Writers: they see only DataFrames and dicts, never the model."""
