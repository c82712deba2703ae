"""``facegate <command>``: one module per group of verbs (gallery, tools, door), sharing core.cli.common."""
