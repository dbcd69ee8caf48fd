"""graftlab.artifacts"""
