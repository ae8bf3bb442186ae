"""The `sync` job: pull Vivenu tickets, deliver them to a webhook exactly once, resumably."""
