"""Who is asking: personal access tokens, trusted proxy headers, login cookies."""
