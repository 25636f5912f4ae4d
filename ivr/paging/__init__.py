"""Paging rules, pure: the escalation policy, the page call's flow and the weekly rota."""
