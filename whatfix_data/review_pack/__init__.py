"""The review pack: a PowerPoint deck, a PDF or a ZIP for one account, period and comparison.

``model`` holds what the pack says, ``assemble`` computes it from the dashboard's datasets
(KPIs, charts with takeaways, key tables), and ``deck`` / ``pdf`` / ``bundle`` render it.
"""
