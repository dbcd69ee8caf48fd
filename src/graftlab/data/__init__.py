"""graftlab.data"""
