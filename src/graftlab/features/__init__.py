"""graftlab.features"""
