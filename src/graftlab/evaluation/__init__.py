"""graftlab.evaluation"""
