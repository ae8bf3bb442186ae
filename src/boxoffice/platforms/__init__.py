"""Protocol knowledge per platform: parsers, request builders, response interpreters."""
