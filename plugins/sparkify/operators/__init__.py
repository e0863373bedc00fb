"""Sparkify operators, one per file. Each __init__ only assigns; the work happens in execute()."""
